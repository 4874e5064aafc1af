package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// chanState is the phoenix.js channel state machine.
type chanState uint8

const (
	stClosed chanState = iota
	stJoining
	stJoined
	stLeaving
	stErrored
)

// Channel is one Realtime channel (topic "realtime:<name>") on a
// [Client]. Create it with [Client.Channel], then [Channel.Subscribe].
//
// A channel rejoins by itself after a join error, a join timeout, a
// server phx_error or a reconnect, with a new join_ref each time; messages
// carrying a stale join_ref are dropped. Its state machine runs on the
// socket's reader goroutine and timers: an idle channel owns no goroutine.
//
// Lock order: sendMu, then mu, then the client's mu.
type Channel struct {
	c     *Client
	name  string
	topic string
	cfg   channelConfig
	rt    *route

	statuses statusFeed
	joinRef  atomic.Pointer[string] // "" between a timed-out join and the next
	pgIDs    atomic.Pointer[[]int]  // server ids of the bindings, by binding index
	// presenceSeen: a presence_state arrived once, so presence is on for
	// this channel even if it did not ask (tenant-wide presence).
	presenceSeen atomic.Bool
	// presenceWanted: PresenceEvents or PresenceState was called, which
	// turns presence on for the joins to come.
	presenceWanted atomic.Bool

	// sendMu orders the channel's joins and leaves on the wire: a leave
	// always names the join that went out before it.
	sendMu sync.Mutex

	mu    sync.Mutex
	state chanState
	// subscribed: Subscribe was called and the channel is not left.
	subscribed  bool
	tries       int
	rejoinTimer *time.Timer
	rejoinGen   uint64 // invalidates timers that fired while being replaced
	pgReady     bool
	upEmitted   bool // SUBSCRIBED emitted for the current join
	everUp      bool // SUBSCRIBED once: from then on the channel rejoins by itself
	waiters     int  // Subscribe calls waiting
	joinStart   time.Time
	systemErr   string // message of the last system error, for the phx_close after it
	lastErr     error
	joinToken   string        // the access token the current join carried
	joinSession uint64        // the session the current join went out on
	joinedCh    chan struct{} // closed while joined; made by the first waiter (see signal.go)
	upCh        chan struct{} // closed while SUBSCRIBED; made by the first waiter
	replCh      chan struct{} // closed once the current join's replication is ready; nil without WithReplicationReady
	gone        chan struct{} // closed when closed for good
	goneErr     error
	presence    presenceState
	gap         *gapState // WithGapFreeBroadcasts; nil without
}

// Channel creates the channel "realtime:<name>" on this client. It does
// not join: call [Channel.Subscribe]. A second Channel call for a topic
// that already has a live channel returns [ErrDuplicateChannel] (rather
// than silently returning the first one with its options, as realtime-js
// does); once the first is closed for good (after [Channel.Unsubscribe],
// a server close, or a binding mismatch) the name is free again.
//
// Invalid options fail here with an error wrapping [ErrInvalidChannel]
// that names the option: a bad postgres_changes binding, broadcast replay
// on a public channel (the server refuses it), a join timeout that is not
// positive, a nil rejoin backoff.
func (c *Client) Channel(name string, opts ...ChannelOption) (*Channel, error) {
	if name == "" || name == "realtime:" {
		return nil, fmt.Errorf("%w: empty channel name", ErrInvalidChannel)
	}
	cfg := channelConfig{joinTimeout: c.cfg.pushTimeout, rejoin: DefaultRejoinBackoff, gapMargin: DefaultGapFreeMargin}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.replay != nil && !cfg.private {
		return nil, fmt.Errorf("%w: WithBroadcastReplay needs a private channel (WithPrivate)", ErrInvalidChannel)
	}
	if cfg.replay != nil && (cfg.replay.limit < 0 || cfg.replay.sinceMillis() < 0) {
		return nil, fmt.Errorf("%w: WithBroadcastReplay needs a non-negative since and limit", ErrInvalidChannel)
	}
	if cfg.gapFree && !cfg.private {
		return nil, fmt.Errorf("%w: WithGapFreeBroadcasts needs a private channel (WithPrivate)", ErrInvalidChannel)
	}
	if cfg.gapMargin < 0 {
		return nil, fmt.Errorf("%w: WithGapFreeMargin: margin %v is negative", ErrInvalidChannel, cfg.gapMargin)
	}
	if cfg.joinTimeout <= 0 {
		return nil, fmt.Errorf("%w: WithJoinTimeout: timeout %v is not positive", ErrInvalidChannel, cfg.joinTimeout)
	}
	if cfg.rejoin == nil {
		return nil, fmt.Errorf("%w: WithRejoinBackoff: nil backoff", ErrInvalidChannel)
	}
	if cfg.pgWaitTimeout < 0 {
		return nil, fmt.Errorf("%w: WithPostgresChangesWait: timeout %v is negative", ErrInvalidChannel, cfg.pgWaitTimeout)
	}
	if err := validateBindings(cfg.bindings); err != nil {
		return nil, err
	}
	cfg.bindings = dedupeBindings(cfg.bindings)
	cfg.joinTimeout = postgresWaitJoinTimeout(&cfg)
	topic := name
	if !strings.HasPrefix(topic, "realtime:") {
		topic = "realtime:" + name
	}
	ch := &Channel{
		c:        c,
		name:     strings.TrimPrefix(topic, "realtime:"),
		topic:    topic,
		cfg:      cfg,
		statuses: newStatusFeed(),
		gone:     make(chan struct{}),
	}
	if cfg.gapFree {
		ch.gap = new(gapState)
	}
	if cfg.replicationReady {
		ch.replCh = make(chan struct{})
	}
	ch.joinRef.Store(&noJoinRef)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil, ErrClosed
	}
	if c.channels == nil {
		c.channels = make(map[string]*Channel)
	}
	if _, ok := c.channels[topic]; ok {
		return nil, fmt.Errorf("%w: %s", ErrDuplicateChannel, topic)
	}
	c.channels[topic] = ch
	c.channelAddedLocked()
	ch.presence.events = socketHub[presenceEvent](c, topic)
	ch.rt = c.router.attach(topic, ch, ch.presence.events)
	return ch, nil
}

// emitStatus publishes a status change. One that carries an error is also reported ([ChannelError]): on
// the error stream, to the error handler and to the log at Warn. ch.mu held (statuses never block).
func (ch *Channel) emitStatus(ev StatusEvent) {
	ch.statuses.emit(ev)
	if ev.Err != nil {
		ch.c.report(&ChannelError{Topic: ch.topic, Status: ev.Status, Err: ev.Err})
	} else {
		ch.c.logAttrs(slog.LevelDebug, "rxrealtime: channel "+ev.Status.String(), slog.String("topic", ch.topic))
	}
}

// Topic returns the channel's topic, "realtime:<name>".
func (ch *Channel) Topic() string { return ch.topic }

// Name returns the channel's name (the topic without "realtime:").
func (ch *Channel) Name() string { return ch.name }

// Statuses is the hot stream of the channel's status changes. A consumer
// first receives the current status (if the channel has one yet), then
// every change, in order; a consumer that does not keep up loses the
// oldest statuses past 256 queued, and never slows the channel down. The
// stream completes after the final CLOSED, when the channel is closed for
// good.
func (ch *Channel) Statuses() stream.Stream[StatusEvent] { return ch.statuses.stream() }

// Status returns the channel's current status; ok is false before the
// first Subscribe.
func (ch *Channel) Status() (ev StatusEvent, ok bool) { return ch.statuses.current() }

// Messages is the hot stream of every message on the channel's topic
// (replies, broadcasts, postgres_changes, presence, system...), stale
// join_refs removed (and, with [WithGapFreeBroadcasts], broadcasts already
// delivered). The typed streams are derived from it. A payload is the
// frame's bytes, which the default serializer does not walk (see
// phoenix.WithLazyPayloads): bound it with phoenix.CheckDepth before a
// decoder that recurses without a limit of its own reads it.
func (ch *Channel) Messages() stream.Stream[phoenix.Message] { return ch.rt.hub.Stream() }

// Done is closed when the channel is closed for good.
func (ch *Channel) Done() <-chan struct{} { return ch.gone }

// Err is why the channel was closed for good: nil while it lives and after
// [Channel.Unsubscribe]; a [*CloseReason] after a server close; an error
// wrapping [ErrBindingMismatch] after a binding mismatch.
func (ch *Channel) Err() error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.goneErr
}

// Subscribe joins the channel and waits until it is SUBSCRIBED, closed
// for good, or ctx ends. A refused or timed-out join does not end the wait:
// the channel keeps rejoining with backoff. Subscribing before
// [Client.Connect] is allowed: the join goes out when the socket opens.
//
// When ctx ends before the channel was ever SUBSCRIBED, Subscribe returns
// an error wrapping both ctx's error and the last join error (a
// [*JoinError], [ErrJoinTimeout]...), and abandons the join, as any
// ctx-taking call in Go would: no rejoin follows, a join the server did
// accept is left, and the channel is CLOSED (not closed for good: calling
// Subscribe again joins anew). Concurrent calls share one join: it is
// abandoned when the last of them gives up.
//
// Once SUBSCRIBED, the channel stays subscribed and rejoins by itself after
// errors and reconnects until [Channel.Unsubscribe] or the client closes;
// calling Subscribe then only waits for SUBSCRIBED.
func (ch *Channel) Subscribe(ctx context.Context) error {
	ch.mu.Lock()
	if ch.isGone() {
		ch.mu.Unlock()
		return ch.goneError() // names Close when Close is why
	}
	first := !ch.subscribed && ch.state == stClosed
	ch.subscribed = true
	ch.waiters++
	ch.mu.Unlock()
	if first {
		ch.join()
	}
	return ch.waitUp(ctx)
}

// goneError is the error of an operation on the channel once it is closed
// for good: why it closed, and [ErrClosed] too when the client closed it.
func (ch *Channel) goneError() error {
	err := ch.Err()
	if err == nil && ch.c.isStopping() {
		return fmt.Errorf("%w: %w", ErrChannelClosed, ErrClosed)
	}
	return closedErr(err)
}

// closedErr is the error of an operation on a channel closed for good
// because of err (nil: left by the user).
func closedErr(err error) error {
	switch {
	case err == nil:
		return ErrChannelClosed
	case errors.Is(err, ErrChannelClosed):
		return err
	}
	return fmt.Errorf("%w: %w", ErrChannelClosed, err)
}

func (ch *Channel) waitUp(ctx context.Context) error {
	ch.mu.Lock()
	up := waitChan(&ch.upCh)
	ch.mu.Unlock()
	done := func() {
		ch.mu.Lock()
		ch.waiters--
		ch.mu.Unlock()
	}
	select {
	case <-up:
		done()
		return nil
	case <-ch.gone:
		done()
		return ch.goneError()
	case <-ch.c.stopCh:
		done()
		return fmt.Errorf("%w: %w", ErrChannelClosed, ErrClosed)
	case <-ctx.Done():
		return ch.giveUp(ctx.Err())
	}
}

// giveUp ends a Subscribe whose ctx ended: the last waiter of a channel
// never SUBSCRIBED abandons its join.
func (ch *Channel) giveUp(ctxErr error) error {
	ch.mu.Lock()
	ch.waiters--
	last := ch.lastErr
	err := fmt.Errorf("rxrealtime: subscribe %q: %w", ch.topic, ctxErr)
	if last != nil {
		err = fmt.Errorf("rxrealtime: subscribe %q: %w (last error: %w)", ch.topic, ctxErr, last)
	}
	abandon := ch.waiters == 0 && !ch.everUp && ch.subscribed && !ch.isGone()
	var leaveRef string
	var sess uint64
	joined := false
	if abandon {
		joined = ch.state == stJoining || ch.state == stJoined
		leaveRef, sess = ch.currentJoinRef(), ch.joinSession
		ch.subscribed = false
		ch.state = stClosed
		ch.stopRejoinLocked()
		ch.leftJoined()
		empty := "" // the join's reply, if it comes, is stale now
		ch.joinRef.Store(&empty)
		ch.statuses.emit(StatusEvent{Status: StatusClosed, Err: err})
		ch.c.logAttrs(slog.LevelInfo, "rxrealtime: subscribe abandoned", slog.String("topic", ch.topic), slog.Any("error", err))
	}
	ch.mu.Unlock()
	if joined && leaveRef != "" {
		ch.leaveAsync(leaveRef, sess) // the server may have accepted it
	}
	return err
}

// join sends a phx_join with a fresh join_ref and the current token, if
// the channel is subscribed and not joined or joining. While the socket is
// not open it only marks the channel errored: the next socket open joins
// it (with the token fetched for that connection).
func (ch *Channel) join() {
	if ch.c.paceJoin(ch) { // WithJoinRate: this join goes out later (pace.go)
		return
	}
	ch.c.wakeIfIdle() // a channel wants the socket: end an idle disconnect
	ch.sendMu.Lock()
	defer ch.sendMu.Unlock()
	ch.mu.Lock()
	if ch.isGone() || !ch.subscribed || (ch.state != stClosed && ch.state != stErrored) {
		ch.mu.Unlock()
		return
	}
	// c.State is read under ch.mu: a socket open after this check finds
	// the channel errored and joins it.
	if ch.c.State() != StateOpen {
		ch.state = stErrored
		ch.mu.Unlock()
		return
	}
	ref := ch.c.nextRef()
	ch.joinRef.Store(&ref)
	ch.state = stJoining
	ch.pgReady, ch.upEmitted, ch.systemErr = false, false, ""
	ch.resetReplicationLocked()
	token := ch.c.accessToken()
	ch.joinToken = token
	ch.joinSession = ch.c.sessions.Load()
	ch.joinStart = time.Now()
	ch.emitStatus(StatusEvent{Status: StatusJoining})
	ch.mu.Unlock()

	payload, err := ch.joinPayload(token)
	if err != nil { // bindings were validated by Channel: not expected
		ch.finish(fmt.Errorf("%w: %w", ErrInvalidChannel, err))
		return
	}
	m := &phoenix.Message{JoinRef: ref, Ref: ref, Topic: ch.topic, Event: phoenix.EventJoin, Payload: payload}
	ch.c.pushAsyncRef(m, ch.cfg.joinTimeout, true, func(r pushResult) { ch.onJoinReply(ref, r) })
}

func (ch *Channel) currentJoinRef() string { return *ch.joinRef.Load() }

// isGone reports whether the channel is closed for good.
func (ch *Channel) isGone() bool {
	select {
	case <-ch.gone:
		return true
	default:
		return false
	}
}

func (ch *Channel) onJoinReply(ref string, r pushResult) {
	ch.mu.Lock()
	if ref != ch.currentJoinRef() || ch.state != stJoining {
		ch.mu.Unlock()
		return // a stale join
	}
	if outcome := joinOutcome(r.err); outcome != "" {
		d, topic := time.Since(ch.joinStart), ch.topic
		ch.c.observe(func(m Metrics) { m.Join(topic, outcome, d) })
	}
	var re *ReplyError
	switch {
	case r.err == nil:
		ids, err := postgres.MatchReply(ch.cfg.bindings, r.reply.Response)
		if err == nil && ids == nil && len(ch.cfg.bindings) > 0 {
			err = &postgres.MismatchError{Index: -1, Reason: "the server echoed no bindings"}
		}
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrBindingMismatch, err)
			ch.lastErr = err
			ch.state = stErrored
			ch.emitStatus(StatusEvent{Status: StatusChannelError, Err: err})
			sess := ch.joinSession
			ch.mu.Unlock()
			ch.leaveAsync(ref, sess)
			ch.finish(err)
			return
		}
		ch.state = stJoined
		ch.tries = 0
		ch.gapJoined()
		ch.pgIDs.Store(&ids)
		ch.lastErr = nil
		fire(&ch.joinedCh)
		if !ch.cfg.waitForPostgres || len(ch.cfg.bindings) == 0 || ch.pgReady {
			ch.markUpLocked()
		}
		// A token set while the join was in flight did not reach this
		// channel: send it now, as realtime-js does after every join.
		// Decided under ch.mu, as SetAuth does, so it goes out once.
		tok := ch.c.accessToken()
		resend := tok != "" && tok != ch.joinToken
		if resend {
			ch.joinToken = tok
		}
		ch.mu.Unlock()
		if resend {
			ch.sendToken(tok)
		}
	case errors.Is(r.err, ErrPushTimeout):
		ch.state = stErrored
		ch.lastErr = ErrJoinTimeout
		ch.leftJoined()
		empty := "" // what that join may still produce is stale
		ch.joinRef.Store(&empty)
		ch.emitStatus(StatusEvent{Status: StatusTimedOut, Err: ErrJoinTimeout})
		sess := ch.joinSession
		ch.mu.Unlock()
		// As phoenix.js: leave the join that may still land, before any
		// rejoin goes out (the server routes phx_leave by topic only).
		ch.leaveAsync(ref, sess)
		ch.mu.Lock()
		if ch.state == stErrored {
			ch.scheduleRejoinLocked()
		}
		ch.mu.Unlock()
	case errors.As(r.err, &re):
		err := newJoinError(ch.topic, re.Reason)
		ch.state = stErrored
		ch.lastErr = err
		ch.emitStatus(StatusEvent{Status: StatusChannelError, Err: err})
		ch.scheduleRejoinLocked()
		ch.mu.Unlock()
	case errors.Is(r.err, errSuperseded):
		// The join never left the buffer: its session ended first. Join
		// again once the socket is open.
		ch.state = stErrored
		ch.scheduleRejoinLocked()
		ch.mu.Unlock()
	default:
		// The session dropped (socketClosed handles it) or the client closed.
		ch.mu.Unlock()
	}
}

// joinOutcome is the Metrics outcome of a join reply; "" when the join just lost its session.
func joinOutcome(err error) string {
	var re *ReplyError
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrPushTimeout):
		return OutcomeTimeout
	case errors.As(err, &re):
		return OutcomeError
	}
	return ""
}

func newJoinError(topic, reason string) *JoinError {
	e := &JoinError{Topic: topic, Reason: reason}
	if code, msg, ok := strings.Cut(reason, ": "); ok && !strings.Contains(code, " ") {
		e.Code, e.Message = code, msg
	} else {
		e.Message = reason
	}
	return e
}

// markUpLocked reports SUBSCRIBED once per join. ch.mu held.
func (ch *Channel) markUpLocked() {
	if ch.upEmitted || ch.state != stJoined {
		return
	}
	ch.upEmitted, ch.everUp = true, true
	fire(&ch.upCh)
	ch.emitStatus(StatusEvent{Status: StatusSubscribed})
}

// leftJoined resets the joined/subscribed signals. ch.mu held.
func (ch *Channel) leftJoined() {
	rearm(&ch.joinedCh)
	rearm(&ch.upCh)
}

// stopRejoinLocked cancels a pending rejoin. ch.mu held.
func (ch *Channel) stopRejoinLocked() {
	ch.rejoinGen++
	if ch.rejoinTimer != nil {
		ch.rejoinTimer.Stop()
		ch.rejoinTimer = nil
	}
}

// scheduleRejoinLocked arms the rejoin timer with the next backoff delay
// if the socket is up; otherwise the next socket open rejoins. ch.mu held.
func (ch *Channel) scheduleRejoinLocked() {
	ch.leftJoined()
	ch.stopRejoinLocked()
	if ch.isGone() || !ch.subscribed || ch.c.State() != StateOpen {
		return
	}
	ch.tries++
	d := ch.cfg.rejoin.Next(ch.tries)
	gen := ch.rejoinGen
	ch.rejoinTimer = time.AfterFunc(d, func() { ch.rejoinNow(gen) })
}

// rejoinNow runs on the rejoin timer: it asks the token provider for a
// fresh token (so a rejoin never carries an expired one), then joins.
func (ch *Channel) rejoinNow(gen uint64) {
	ch.mu.Lock()
	if gen != ch.rejoinGen {
		ch.mu.Unlock()
		return // cancelled or replaced after it fired
	}
	ch.rejoinTimer = nil
	ch.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), ch.c.cfg.pushTimeout)
	ch.c.refreshToken(ctx)
	cancel()
	ch.join()
}

// handle runs on the reader goroutine for every message on the topic.
func (ch *Channel) handle(m *phoenix.Message) bool {
	cur := ch.currentJoinRef()
	if m.JoinRef != "" && m.JoinRef != cur {
		return false // an outdated message from an earlier join
	}
	switch m.Event {
	case phoenix.EventClose:
		if m.Ref != "" && m.Ref != cur {
			return false
		}
		ch.onServerClose()
	case phoenix.EventError:
		if m.Ref != "" && m.Ref != cur {
			return false
		}
		ch.onServerError()
	case phoenix.EventSystem:
		ch.onSystem(m)
	case phoenix.EventPresenceState, phoenix.EventPresenceDiff:
		ch.onPresence(m)
	case phoenix.EventBroadcast:
		if ch.cfg.gapFree {
			return ch.gapFilter(m)
		}
	}
	return true
}

func (ch *Channel) onServerError() {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.state != stJoined && ch.state != stJoining {
		return
	}
	ch.state = stErrored
	ch.lastErr = ErrServerError
	ch.emitStatus(StatusEvent{Status: StatusChannelError, Err: ErrServerError})
	ch.scheduleRejoinLocked()
}

// onServerClose handles a phx_close the user did not ask for (a leave's
// close is handled by Unsubscribe).
func (ch *Channel) onServerClose() {
	ch.mu.Lock()
	if ch.state == stLeaving || ch.state == stClosed || ch.isGone() {
		ch.mu.Unlock()
		return
	}
	reason := &CloseReason{Topic: ch.topic, Message: ch.systemErr}
	reason.expired = isTokenExpiry(ch.systemErr)
	ch.state = stClosed
	ch.lastErr = reason
	ch.leftJoined()
	rejoin := reason.expired && !ch.cfg.noRejoinOnExpiry && ch.subscribed
	if rejoin {
		ch.emitStatus(StatusEvent{Status: StatusClosed, Err: reason})
		ch.scheduleRejoinLocked()
	}
	ch.mu.Unlock()
	if !rejoin {
		ch.finish(reason) // reports CLOSED
	}
}

// isTokenExpiry tells whether a system error message means the access
// token expired or became invalid, which a fresh token cures.
func isTokenExpiry(msg string) bool {
	return strings.HasPrefix(msg, "Token has expired") ||
		strings.Contains(msg, "not a valid JWT") ||
		strings.Contains(msg, "are required in JWT")
}

// socketOpened rejoins a channel that lost its join with the socket (or
// is waiting to rejoin after a token expiry), at once.
func (ch *Channel) socketOpened() {
	ch.mu.Lock()
	ch.stopRejoinLocked()
	ch.tries = 0
	again := ch.subscribed && !ch.isGone() && (ch.state == stErrored || ch.state == stClosed)
	ch.mu.Unlock()
	if again {
		ch.join()
	}
}

// socketClosed errors a joined or joining channel; the next socket open
// rejoins it. When the client itself closes, the channel closes for good.
func (ch *Channel) socketClosed(cause error) {
	if errors.Is(cause, ErrClosed) || ch.c.isClosing() {
		if errors.Is(cause, ErrClosed) {
			cause = nil
		}
		ch.finish(cause)
		return
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.stopRejoinLocked()
	if ch.state != stJoined && ch.state != stJoining {
		return
	}
	err := fmt.Errorf("%w: %w", ErrSocketClosed, cause)
	ch.state = stErrored
	ch.lastErr = err
	ch.leftJoined()
	ch.emitStatus(StatusEvent{Status: StatusChannelError, Err: err})
}

// Unsubscribe leaves the channel: it sends phx_leave and waits for the
// reply (or the push timeout, or ctx), then reports CLOSED and completes
// the channel's streams. The channel is then closed for good and its name
// free for a new [Client.Channel]. Concurrent calls all wait for the same
// leave.
func (ch *Channel) Unsubscribe(ctx context.Context) error {
	return ch.awaitLeave(ctx, ch.startLeave())
}

// leaving is a leave under way: what startLeave sent, for awaitLeave.
type leaving struct {
	gone    bool            // the channel was already closed for good
	already bool            // another Unsubscribe is leaving: wait for it
	reply   chan pushResult // the phx_leave's result; nil when none was sent
}

// startLeave moves the channel to leaving and sends its phx_leave without
// waiting, so a client closing many channels sends every leave first and
// then waits for the replies, with no goroutine per channel.
func (ch *Channel) startLeave() leaving {
	ch.mu.Lock()
	if ch.isGone() {
		ch.mu.Unlock()
		return leaving{gone: true}
	}
	if ch.state == stLeaving {
		ch.mu.Unlock()
		return leaving{already: true}
	}
	wasJoined := ch.state == stJoined || ch.state == stJoining
	ch.state = stLeaving
	ch.subscribed = false
	ch.stopRejoinLocked()
	ch.leftJoined()
	ch.mu.Unlock()
	var l leaving
	if wasJoined && ch.c.State() == StateOpen {
		l.reply = make(chan pushResult, 1)
		ch.sendMu.Lock() // a join being sent goes out first; leave that one
		m := &phoenix.Message{JoinRef: ch.currentJoinRef(), Topic: ch.topic, Event: phoenix.EventLeave, Payload: emptyObject}
		ch.c.pushAsync(m, ch.c.cfg.pushTimeout, true, func(r pushResult) { l.reply <- r })
		ch.sendMu.Unlock()
	}
	return l
}

// awaitLeave waits for the leave's reply (or its timeout, or ctx), then
// closes the channel for good.
func (ch *Channel) awaitLeave(ctx context.Context, l leaving) error {
	switch {
	case l.gone:
		return nil
	case l.already:
		select {
		case <-ch.gone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var err error
	if l.reply != nil {
		select {
		case r := <-l.reply:
			// A leave that timed out, or that the client's Close overtook, still leaves.
			if r.err != nil && !errors.Is(r.err, ErrPushTimeout) && !errors.Is(r.err, ErrClosed) {
				err = r.err
			}
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	ch.finish(nil)
	return err
}

// leaveAsync sends a phx_leave for joinRef without waiting, unless the
// session that join went out on has ended (the server forgot it then, and
// a leave queued for the next session would leave the rejoin instead).
func (ch *Channel) leaveAsync(joinRef string, session uint64) {
	if ch.c.sessions.Load() != session || ch.c.State() != StateOpen {
		return
	}
	m := &phoenix.Message{JoinRef: joinRef, Topic: ch.topic, Event: phoenix.EventLeave, Payload: emptyObject}
	ch.c.pushAsync(m, ch.c.cfg.pushTimeout, true, func(pushResult) {})
}

// finish closes the channel for good: it reports a final CLOSED with err,
// completes the channel's streams, and the client forgets it.
func (ch *Channel) finish(err error) {
	ch.mu.Lock()
	if ch.isGone() {
		ch.mu.Unlock()
		return
	}
	ch.state = stClosed
	ch.subscribed = false
	ch.goneErr = err
	ch.stopRejoinLocked()
	ch.leftJoined()
	// The client forgets the channel before the final CLOSED and Done, so
	// that a user who sees either can reuse the name at once.
	ch.c.forget(ch, err)
	ch.emitStatus(StatusEvent{Status: StatusClosed, Err: err})
	ch.statuses.complete()
	close(ch.gone)
	ch.mu.Unlock()
}

// takeToken reports whether the joined channel must be sent token (it
// holds another one), and records that it has it. Decided under ch.mu, as
// the join reply does, so a token goes out once.
func (ch *Channel) takeToken(token string) bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.state != stJoined || ch.joinToken == token {
		return false
	}
	ch.joinToken = token
	return true
}

// forget removes a channel closed for good from the client and completes
// its streams with err. Under c.mu, so that a new channel of the same name
// cannot attach to the route and share the streams it completes: every
// stream of the channel ends here, whatever closed it.
func (c *Client) forget(ch *Channel, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.channels[ch.topic] == ch {
		delete(c.channels, ch.topic)
		c.channelGoneLocked()
	}
	c.router.detach(ch.rt, err)
}

// sendToken pushes an access_token refresh to the joined channel. The
// server replies to none.
func (ch *Channel) sendToken(token string) {
	payload, err := tokenPayload(token)
	if err != nil {
		return
	}
	m := &phoenix.Message{JoinRef: ch.currentJoinRef(), Topic: ch.topic, Event: phoenix.EventAccessToken, Payload: payload}
	if _, err := ch.c.push(context.Background(), m, noReply); err != nil {
		ch.c.report(err) // the next rejoin carries the token anyway
	}
}

// noJoinRef is the join ref of a channel with no join (shared: refs are
// replaced, never written through).
var noJoinRef = ""

func (c *Client) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// isStopping reports whether Close has begun (or the client has stopped).
func (c *Client) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping || c.closing
}
