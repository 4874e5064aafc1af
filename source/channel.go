package source

import (
	"context"
	"errors"
	"fmt"
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
type Channel struct {
	c     *Client
	name  string
	topic string
	cfg   channelConfig
	rt    *route

	statuses *stream.Hub[StatusEvent]
	joinRef  atomic.Pointer[string]

	emitMu sync.Mutex // orders status emissions
	mu     sync.Mutex
	state  chanState
	// subscribed: Subscribe was called and the channel is not left.
	subscribed  bool
	tries       int
	rejoinTimer *time.Timer
	pgIDs       []int
	pgReady     bool
	upEmitted   bool   // SUBSCRIBED emitted for the current join
	systemErr   string // message of the last system error, for the phx_close after it
	lastErr     error
	joinedCh    chan struct{} // closed while joined
	upCh        chan struct{} // closed while SUBSCRIBED
	gone        chan struct{} // closed when closed for good
	goneErr     error
	presence    presenceState
}

// Channel creates the channel "realtime:<name>" on this client. It does
// not join: call [Channel.Subscribe]. A second Channel call for a topic
// that already has a live channel returns [ErrDuplicateChannel] (rather
// than silently returning the first one with its options, as realtime-js
// does); after the first is closed for good the name is free again.
func (c *Client) Channel(name string, opts ...ChannelOption) (*Channel, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty channel name", ErrInvalidChannel)
	}
	cfg := channelConfig{joinTimeout: c.cfg.pushTimeout, rejoin: DefaultRejoinBackoff}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.replay != nil && !cfg.private {
		return nil, fmt.Errorf("%w: broadcast replay needs a private channel", ErrInvalidChannel)
	}
	if err := validateBindings(cfg.bindings); err != nil {
		return nil, err
	}
	cfg.bindings = dedupeBindings(cfg.bindings)
	topic := name
	if !strings.HasPrefix(topic, "realtime:") {
		topic = "realtime:" + name
	}
	ch := &Channel{
		c:        c,
		name:     strings.TrimPrefix(topic, "realtime:"),
		topic:    topic,
		cfg:      cfg,
		statuses: stream.NewHub[StatusEvent](),
		joinedCh: make(chan struct{}),
		upCh:     make(chan struct{}),
		gone:     make(chan struct{}),
	}
	empty := ""
	ch.joinRef.Store(&empty)
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
	ch.rt = c.router.attach(topic, ch)
	return ch, nil
}

// Topic returns the channel's topic, "realtime:<name>".
func (ch *Channel) Topic() string { return ch.topic }

// Name returns the channel's name (the topic without "realtime:").
func (ch *Channel) Name() string { return ch.name }

// Statuses is the hot stream of the channel's status changes. It
// completes when the channel is closed for good.
func (ch *Channel) Statuses() stream.Stream[StatusEvent] { return ch.statuses.Stream() }

// Messages is the hot stream of every message on the channel's topic
// (replies, broadcasts, postgres_changes, presence, system...), stale
// join_refs removed. The typed streams are derived from it.
func (ch *Channel) Messages() stream.Stream[phoenix.Message] { return ch.rt.hub.Stream() }

// Done is closed when the channel is closed for good.
func (ch *Channel) Done() <-chan struct{} { return ch.gone }

// Subscribe joins the channel and waits until it is SUBSCRIBED, closed
// for good, or ctx ends. A refused or timed-out join does not end the wait:
// the channel keeps rejoining with backoff, and ctx's error then wraps the
// last join error. The channel stays subscribed (and rejoins) until
// [Channel.Unsubscribe] or the client closes. Calling Subscribe again only
// waits.
func (ch *Channel) Subscribe(ctx context.Context) error {
	ch.mu.Lock()
	select {
	case <-ch.gone:
		err := ch.goneErr
		ch.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrChannelClosed, err)
	default:
	}
	first := !ch.subscribed
	ch.subscribed = true
	ch.mu.Unlock()
	if first {
		ch.join()
	}
	return ch.waitUp(ctx)
}

func (ch *Channel) waitUp(ctx context.Context) error {
	ch.mu.Lock()
	up := ch.upCh
	ch.mu.Unlock()
	select {
	case <-up:
		return nil
	case <-ch.gone:
		ch.mu.Lock()
		err := ch.goneErr
		ch.mu.Unlock()
		if err == nil {
			err = ErrChannelClosed
		}
		return err
	case <-ctx.Done():
		ch.mu.Lock()
		last := ch.lastErr
		ch.mu.Unlock()
		if last != nil {
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), last)
		}
		return ctx.Err()
	}
}

// join sends a phx_join with a fresh join_ref and the current token.
func (ch *Channel) join() {
	ch.mu.Lock()
	if ch.isGone() || !ch.subscribed {
		ch.mu.Unlock()
		return
	}
	ch.state = stJoining
	ch.pgReady = false
	ch.upEmitted = false
	ch.systemErr = ""
	ch.mu.Unlock()

	payload, err := ch.joinPayload(ch.c.accessToken())
	if err != nil { // bindings were validated by Channel: not expected
		ch.finish(fmt.Errorf("%w: %w", ErrInvalidChannel, err))
		return
	}
	ref := ch.c.nextRef()
	ch.joinRef.Store(&ref)
	m := &phoenix.Message{JoinRef: ref, Ref: ref, Topic: ch.topic, Event: phoenix.EventJoin, Payload: payload}
	ch.emit(StatusEvent{Status: StatusJoining})
	ch.c.pushAsyncRef(m, ch.cfg.joinTimeout, true, func(r pushResult) { ch.onJoinReply(ref, r) })
}

func (ch *Channel) currentJoinRef() string { return *ch.joinRef.Load() }

// isGone reports whether the channel is closed for good. ch.mu held.
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
			ch.mu.Unlock()
			ch.emit(StatusEvent{Status: StatusChannelError, Err: err})
			ch.leaveAsync(ref)
			ch.finish(err)
			return
		}
		ch.state = stJoined
		ch.tries = 0
		ch.pgIDs = ids
		ch.lastErr = nil
		close(ch.joinedCh)
		up := !ch.cfg.waitForPostgres || len(ch.cfg.bindings) == 0 || ch.pgReady
		ch.mu.Unlock()
		if up {
			ch.markUp()
		}
	case errors.Is(r.err, ErrPushTimeout):
		ch.state = stErrored
		ch.lastErr = ErrJoinTimeout
		ch.scheduleRejoin()
		ch.mu.Unlock()
		ch.leaveAsync(ref) // as phoenix.js: leave the join that may still land
		ch.emit(StatusEvent{Status: StatusTimedOut, Err: ErrJoinTimeout})
	case errors.As(r.err, &re):
		err := newJoinError(ch.topic, re.Reason)
		ch.state = stErrored
		ch.lastErr = err
		ch.scheduleRejoin()
		ch.mu.Unlock()
		ch.emit(StatusEvent{Status: StatusChannelError, Err: err})
	default:
		// The session dropped (socketClosed handles it) or the client closed.
		ch.mu.Unlock()
	}
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

// markUp reports SUBSCRIBED once per join.
func (ch *Channel) markUp() {
	ch.mu.Lock()
	if ch.upEmitted || ch.state != stJoined {
		ch.mu.Unlock()
		return
	}
	ch.upEmitted = true
	close(ch.upCh)
	ch.mu.Unlock()
	ch.emit(StatusEvent{Status: StatusSubscribed})
}

// leftJoined resets the joined/subscribed signals. ch.mu held.
func (ch *Channel) leftJoined() {
	select {
	case <-ch.joinedCh:
		ch.joinedCh = make(chan struct{})
	default:
	}
	select {
	case <-ch.upCh:
		ch.upCh = make(chan struct{})
	default:
	}
}

// scheduleRejoin arms the rejoin timer if the socket is up; otherwise the
// next socket open rejoins. ch.mu held.
func (ch *Channel) scheduleRejoin() {
	ch.leftJoined()
	if ch.rejoinTimer != nil {
		ch.rejoinTimer.Stop()
		ch.rejoinTimer = nil
	}
	if ch.isGone() || !ch.subscribed || ch.c.State() != StateOpen {
		return
	}
	ch.tries++
	d := ch.cfg.rejoin.Next(ch.tries)
	ch.rejoinTimer = time.AfterFunc(d, ch.rejoinNow)
}

// rejoinNow runs on the rejoin timer: it asks the token provider for a
// fresh token (so a rejoin never carries an expired one), then joins.
func (ch *Channel) rejoinNow() {
	ctx, cancel := context.WithTimeout(context.Background(), ch.c.cfg.pushTimeout)
	ch.c.refreshToken(ctx)
	cancel()
	ch.mu.Lock()
	ok := ch.subscribed && !ch.isGone() && (ch.state == stErrored || ch.state == stClosed)
	ch.mu.Unlock()
	if ok {
		ch.join()
	}
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
	case phoenix.EventPresenceSt, phoenix.EventPresenceDif:
		ch.onPresence(m)
	}
	return true
}

func (ch *Channel) onServerError() {
	ch.mu.Lock()
	if ch.state != stJoined && ch.state != stJoining {
		ch.mu.Unlock()
		return
	}
	err := ErrServerError
	ch.state = stErrored
	ch.lastErr = err
	ch.scheduleRejoin()
	ch.mu.Unlock()
	ch.emit(StatusEvent{Status: StatusChannelError, Err: err})
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
		if ch.rejoinTimer != nil {
			ch.rejoinTimer.Stop()
		}
		ch.tries++
		ch.rejoinTimer = time.AfterFunc(ch.cfg.rejoin.Next(ch.tries), ch.rejoinNow)
	}
	ch.mu.Unlock()
	ch.emit(StatusEvent{Status: StatusClosed, Err: reason})
	if !rejoin {
		ch.finish(reason)
	}
}

// isTokenExpiry tells whether a system error message means the access
// token expired or became invalid, which a fresh token cures.
func isTokenExpiry(msg string) bool {
	return strings.HasPrefix(msg, "Token has expired") ||
		strings.Contains(msg, "not a valid JWT") ||
		strings.Contains(msg, "are required in JWT")
}

// socketOpened rejoins a channel that lost its join with the socket.
func (ch *Channel) socketOpened() {
	ch.mu.Lock()
	if ch.rejoinTimer != nil {
		ch.rejoinTimer.Stop()
		ch.rejoinTimer = nil
	}
	ch.tries = 0
	again := ch.subscribed && !ch.isGone() && ch.state == stErrored
	ch.mu.Unlock()
	if again {
		ch.join()
	}
}

// socketClosed errors a joined or joining channel; the next socket open
// rejoins it. When the client itself closed, the channel closes for good.
func (ch *Channel) socketClosed(cause error) {
	if errors.Is(cause, ErrClosed) || ch.c.isClosing() {
		ch.finish(nil)
		return
	}
	ch.mu.Lock()
	if ch.rejoinTimer != nil {
		ch.rejoinTimer.Stop()
		ch.rejoinTimer = nil
	}
	if ch.state != stJoined && ch.state != stJoining {
		ch.mu.Unlock()
		return
	}
	err := fmt.Errorf("%w: %w", ErrSocketClosed, cause)
	ch.state = stErrored
	ch.lastErr = err
	ch.leftJoined()
	ch.mu.Unlock()
	ch.emit(StatusEvent{Status: StatusChannelError, Err: err})
}

// Unsubscribe leaves the channel: it sends phx_leave and waits for the
// reply (or the push timeout, or ctx), then reports CLOSED and completes
// the channel's streams. The channel is then closed for good.
func (ch *Channel) Unsubscribe(ctx context.Context) error {
	ch.mu.Lock()
	if ch.isGone() {
		ch.mu.Unlock()
		return nil
	}
	wasJoined := ch.state == stJoined || ch.state == stJoining
	ch.state = stLeaving
	ch.subscribed = false
	if ch.rejoinTimer != nil {
		ch.rejoinTimer.Stop()
		ch.rejoinTimer = nil
	}
	ch.leftJoined()
	ch.mu.Unlock()
	var err error
	if wasJoined && ch.c.State() == StateOpen {
		done := make(chan pushResult, 1)
		m := &phoenix.Message{JoinRef: ch.currentJoinRef(), Topic: ch.topic, Event: phoenix.EventLeave, Payload: emptyObject}
		ch.c.pushAsync(m, ch.c.cfg.pushTimeout, true, func(r pushResult) { done <- r })
		select {
		case r := <-done:
			if r.err != nil && !errors.Is(r.err, ErrPushTimeout) {
				err = r.err
			}
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	ch.emit(StatusEvent{Status: StatusClosed})
	ch.finish(nil)
	return err
}

// leaveAsync sends a phx_leave for joinRef without waiting.
func (ch *Channel) leaveAsync(joinRef string) {
	m := &phoenix.Message{JoinRef: joinRef, Topic: ch.topic, Event: phoenix.EventLeave, Payload: emptyObject}
	ch.c.pushAsync(m, ch.c.cfg.pushTimeout, true, func(pushResult) {})
}

// finish closes the channel for good: its streams complete and the client
// forgets it.
func (ch *Channel) finish(err error) {
	ch.mu.Lock()
	if ch.isGone() {
		ch.mu.Unlock()
		return
	}
	ch.state = stClosed
	ch.subscribed = false
	ch.goneErr = err
	if ch.rejoinTimer != nil {
		ch.rejoinTimer.Stop()
		ch.rejoinTimer = nil
	}
	close(ch.gone)
	ch.mu.Unlock()
	c := ch.c
	c.mu.Lock()
	if c.channels[ch.topic] == ch {
		delete(c.channels, ch.topic)
	}
	c.mu.Unlock()
	c.router.remove(ch.topic, nil)
	ch.statuses.Complete(nil)
}

// emit publishes a status change in order.
func (ch *Channel) emit(ev StatusEvent) {
	ev.At = time.Now()
	ch.emitMu.Lock()
	ch.statuses.Emit(ev)
	ch.emitMu.Unlock()
}

// leaveAll leaves every channel, concurrently, until ctx ends.
func (c *Client) leaveAll(ctx context.Context) {
	c.mu.Lock()
	chans := make([]*Channel, 0, len(c.channels))
	for _, ch := range c.channels {
		chans = append(chans, ch)
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = ch.Unsubscribe(ctx)
		}()
	}
	wg.Wait()
}

func (c *Client) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}
