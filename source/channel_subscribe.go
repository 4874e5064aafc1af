package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Subscribing: the join, its reply (accepted, refused for good or for now, timed out), SUBSCRIBED, and the
// rejoins with backoff.

// Subscribe joins the channel and waits until it is SUBSCRIBED, the server
// refuses it for good, the channel is closed for good, or ctx ends.
//
// Join refusals are of two kinds ([JoinError.Permanent]). A permanent one
// — no permission to the topic (Unauthorized), a private-only project
// (PrivateOnly), an empty topic, a replay the server cannot do, a tenant
// that is gone or disabled, or an invalid token when no token provider
// ([WithAccessToken]) can refresh it — ends Subscribe at once with the
// [*JoinError]: the channel is CLOSED (not closed for good: calling
// Subscribe again joins anew) and does not rejoin. A transient one —
// RealtimeRestarting, InitializingProjectConnection, rate limits, database
// and server errors, anything unknown — and a join timeout do not end the
// wait: the channel keeps rejoining with backoff. Subscribing before
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
// errors and reconnects until [Channel.Unsubscribe] or the client closes —
// a permanent refusal of a rejoin included (it is reported as
// CHANNEL_ERROR, and the rejoins go on with backoff, as realtime-js does:
// a policy or a token may change); calling Subscribe then only waits for
// SUBSCRIBED.
//
// A holder of a shared channel ([Client.Share]) subscribes the shared
// channel: the first holder's Subscribe sends the join, the others wait
// for the same join (or return at once when it is SUBSCRIBED). The wait of
// a holder also ends when the holder is released or its shared channel
// closed for good. A holder that gives up (its ctx ends, it is released)
// abandons the join only when no other Subscribe waits for it and it was
// never SUBSCRIBED, as above.
func (ch *Channel) Subscribe(ctx context.Context) error {
	if h := ch.hold; h != nil {
		if ch.isGone() {
			return ch.goneError()
		}
		h.subscribed.Store(true)
		err := h.core.subscribe(ctx, ch.gone)
		if err != nil && ch.isGone() {
			return ch.goneError() // released, or the shared channel closed for good, while it waited
		}
		return err
	}
	return ch.subscribe(ctx, nil)
}

// subscribe is Subscribe for a channel that joins; its wait also ends when released is closed (a
// holder's Done).
func (ch *Channel) subscribe(ctx context.Context, released <-chan struct{}) error {
	ch.mu.Lock()
	if ch.isGone() {
		ch.mu.Unlock()
		return ch.goneError() // names Close when Close is why
	}
	first := !ch.subscribed && ch.state == stClosed
	if first {
		rearm(&ch.refusedCh)
		ch.refusal = nil
	}
	ch.subscribed = true
	ch.waiters++
	ch.mu.Unlock()
	if first {
		ch.join()
	}
	return ch.waitUp(ctx, released)
}

func (ch *Channel) waitUp(ctx context.Context, released <-chan struct{}) error {
	ch.mu.Lock()
	up := waitChan(&ch.upCh)
	refused := waitChan(&ch.refusedCh)
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
	case <-refused:
		ch.mu.Lock()
		defer ch.mu.Unlock()
		ch.waiters--
		return ch.refusal
	case <-ch.gone:
		done()
		return ch.goneError()
	case <-ch.stopping:
		done()
		return fmt.Errorf("%w: %w", ErrChannelClosed, ErrClosed)
	case <-ctx.Done():
		return ch.giveUp(ctx.Err())
	case <-released:
		return ch.giveUp(ErrChannelClosed)
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
	if abandon {
		ch.abandonLocked(StatusEvent{Status: StatusClosed, Err: err})
		ch.ev.log(slog.LevelInfo, "rxrealtime: subscribe abandoned", slog.String("topic", ch.topic), slog.Any("error", err))
	}
	ch.mu.Unlock()
	return err
}

// abandonLocked ends a subscribe attempt of a channel never SUBSCRIBED: no rejoin follows, a join the
// server may have accepted is left, and the channel is CLOSED with ev (not closed for good). ch.mu held;
// it may unlock and relock it to send the leave.
func (ch *Channel) abandonLocked(ev StatusEvent) {
	joined := ch.state == stJoining || ch.state == stJoined
	leaveRef, sess := ch.currentJoinRef(), ch.joinSession
	ch.subscribed = false
	ch.state = stClosed
	ch.stopRejoinLocked()
	ch.leftJoined()
	empty := "" // the join's reply, if it comes, is stale now
	ch.joinRef.Store(&empty)
	ch.publishStatus(ev) // reported by the caller, if at all
	buffered := ch.buffer.takeAll()
	if joined && leaveRef != "" {
		ch.mu.Unlock()
		ch.leaveAsync(leaveRef, sess) // the server may have accepted it
		ch.mu.Lock()
	}
	ch.failBuffered(buffered, fmt.Errorf("%w: %w", ErrNotJoined, ev.Err))
	ch.presence.sender.abandon(fmt.Errorf("%w: %w", ErrNotJoined, ev.Err))
}

// join sends a phx_join with a fresh join_ref and the current token, if
// the channel is subscribed and not joined or joining. While the socket is
// not open it only marks the channel errored: the next socket open joins
// it (with the token fetched for that connection).
func (ch *Channel) join() {
	if ch.host.paceJoin(ch) { // WithJoinRate: this join goes out later (pace.go)
		return
	}
	ch.host.wantSocket() // a channel wants the socket: end an idle disconnect
	ch.sendMu.Lock()
	defer ch.sendMu.Unlock()
	ch.mu.Lock()
	if ch.isGone() || !ch.subscribed || (ch.state != stClosed && ch.state != stErrored) {
		ch.mu.Unlock()
		return
	}
	// The session is read under ch.mu: a socket open after this check finds the channel errored and
	// joins it.
	sess := ch.wire.Session()
	if sess == 0 {
		ch.state = stErrored
		ch.mu.Unlock()
		return
	}
	ref := ch.wire.NextRef()
	ch.joinRef.Store(&ref)
	ch.state = stJoining
	ch.pgReady, ch.upEmitted, ch.systemErr = false, false, ""
	ch.resetReplicationLocked()
	token := ch.host.accessToken()
	ch.joinToken = token
	ch.joinPresent = ch.presenceOn()
	present := ch.joinPresent
	ch.joinSession = sess
	ch.joinStart = time.Now()
	ch.emitStatus(StatusEvent{Status: StatusJoining})
	ch.mu.Unlock()

	payload, err := ch.joinPayload(token, present)
	if err != nil { // bindings were validated by Channel: not expected
		ch.finish(fmt.Errorf("%w: %w", ErrInvalidChannel, err))
		return
	}
	m := &phoenix.Message{JoinRef: ref, Ref: ref, Topic: ch.topic, Event: phoenix.EventJoin, Payload: payload}
	ch.wire.PushAsync(m, ch.cfg.joinTimeout, func(r socket.Reply, err error) { ch.onJoinReply(m, r, err) })
}

// onJoinReply handles the outcome of the join m, on the goroutine that resolved it (the reader, a
// timer, the end of a session).
func (ch *Channel) onJoinReply(m *phoenix.Message, r socket.Reply, err error) {
	ref := m.Ref
	ch.mu.Lock()
	if ref != ch.currentJoinRef() || ch.state != stJoining {
		ch.mu.Unlock()
		return // a stale join
	}
	_, err = ch.host.outcome(m, r, err, true, time.Time{}) // a refusal is a *ReplyError, its text redacted
	var re *ReplyError
	refused := errors.As(err, &re)
	if outcome := joinOutcome(err, refused); outcome != "" {
		d, topic := time.Since(ch.joinStart), ch.topic
		ch.ev.observe(func(m Metrics) { m.Join(topic, outcome, d) })
	}
	switch {
	case err == nil:
		ch.joined(ref, r)
	case refused:
		je := ch.joinError(re.Reason)
		ch.state = stErrored
		ch.lastErr = je
		if je.Permanent && !ch.everUp {
			ch.refusal = je
			ch.abandonLocked(StatusEvent{Status: StatusClosed, Err: je})
			ch.ev.report(&ChannelError{Topic: ch.topic, Status: StatusClosed, Err: je})
			fire(&ch.refusedCh)
			ch.mu.Unlock()
			return
		}
		ch.emitStatus(StatusEvent{Status: StatusChannelError, Err: je})
		ch.scheduleRejoinLocked()
		ch.mu.Unlock()
	case errors.Is(err, ErrPushTimeout):
		ch.state = stErrored
		ch.lastErr = ErrJoinTimeout
		ch.leftJoined()
		empty := "" // what that join may still produce is stale
		ch.joinRef.Store(&empty)
		ch.emitStatus(StatusEvent{Status: StatusTimedOut, Err: ErrJoinTimeout})
		sess := ch.joinSession
		ch.mu.Unlock()
		// As phoenix.js: leave the join that may still land. A rejoin may
		// go out first; Phoenix ignores a leave whose join_ref is not the
		// topic's current join, so the rejoin stays.
		ch.leaveAsync(ref, sess)
		ch.mu.Lock()
		if ch.state == stErrored {
			ch.scheduleRejoinLocked()
		}
		ch.mu.Unlock()
	case errors.Is(err, phoenix.ErrMalformed):
		// A reply that does not decode (a hostile or broken server): the join failed, and says why; the
		// channel rejoins, as after a transient refusal.
		ch.state = stErrored
		ch.lastErr = fmt.Errorf("%w: %w", ErrJoin, err)
		ch.emitStatus(StatusEvent{Status: StatusChannelError, Err: ch.lastErr})
		ch.scheduleRejoinLocked()
		ch.mu.Unlock()
	case errors.Is(err, socket.ErrSuperseded):
		// The join never left the buffer: its session ended first. Join
		// again once the socket is open.
		ch.state = stErrored
		ch.scheduleRejoinLocked()
		ch.mu.Unlock()
	default:
		// The session dropped (Lost handles it) or the client closed.
		ch.mu.Unlock()
	}
}

// joined handles an accepted join. ch.mu held; it returns with it released.
func (ch *Channel) joined(ref string, r socket.Reply) {
	ids, err := postgres.MatchReply(ch.cfg.bindings, r.Response)
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
	ch.openReplay(ref) // before any later frame is read: this runs on the reader
	presence := ch.presence.sender.joined(ref)
	ch.pgIDs.Store(&ids)
	ch.lastErr = nil
	fire(&ch.joinedCh)
	if !ch.cfg.waitForPostgres || len(ch.cfg.bindings) == 0 || ch.pgReady {
		ch.markUpLocked()
	}
	// A token set while the join was in flight did not reach this
	// channel: send it now, as realtime-js does after every join.
	// Decided under ch.mu, as SetAuth does, so it goes out once.
	tok := ch.host.accessToken()
	resend := tok != "" && tok != ch.joinToken
	if resend {
		ch.joinToken = tok
	}
	flush := ch.buffer.startFlush()
	ch.mu.Unlock()
	if resend {
		ch.sendToken(tok)
	}
	if flush {
		go ch.flushBuffer() // off the reader: a push may wait for room in the write queue
	}
	if presence {
		go ch.pumpPresence() // the value that waited, or the last one again: the server forgot it
	}
}

// joinError is the refusal of a join for reason (the server's, its secrets removed), classified.
func (ch *Channel) joinError(reason string) *JoinError {
	e := &JoinError{Topic: ch.topic, Reason: reason}
	if code, msg, ok := strings.Cut(reason, ": "); ok && !strings.Contains(code, " ") {
		e.Code, e.Message = code, msg
	} else {
		e.Message = reason
	}
	e.Permanent = permanentRefusal(e.Code, e.Message, ch.host.hasTokenProvider())
	return e
}

// joinOutcome is the Metrics outcome of a join reply; "" when the join just lost its session.
func joinOutcome(err error, refused bool) string {
	switch {
	case refused:
		return OutcomeError
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrPushTimeout):
		return OutcomeTimeout
	}
	return ""
}

// scheduleRejoinLocked arms the rejoin timer with the next backoff delay
// if the socket is up; otherwise the next socket open rejoins. ch.mu held.
func (ch *Channel) scheduleRejoinLocked() {
	ch.leftJoined()
	ch.stopRejoinLocked()
	if ch.isGone() || !ch.subscribed || ch.wire.Session() == 0 {
		return
	}
	ch.tries++
	d := ch.cfg.rejoin.Next(ch.tries)
	gen := ch.rejoinGen
	ch.rejoinTimer = time.AfterFunc(d, func() { ch.rejoinNow(gen) })
}

// presenceListening runs when a presence listener starts (the presence hub gains a first consumer). On a
// channel whose current join (joined, or on its way) did not enable presence, the server sends no
// presence state and the listener would receive nothing: the channel leaves that join and joins again
// with presence on, at once, as realtime-js does when a presence callback is added to a joined channel.
// Until the new join is up (one round trip), the channel is not joined: its pushes wait in its buffer,
// and what the server sends it meanwhile is not received.
func (ch *Channel) presenceListening() {
	ch.sendMu.Lock() // the leave goes out before any join
	ch.mu.Lock()
	// A channel whose server sent a presence state already (presence on for the whole tenant) has it.
	if ch.isGone() || !ch.subscribed || ch.joinPresent || ch.presenceSeen.Load() || !ch.presenceOn() ||
		(ch.state != stJoined && ch.state != stJoining) {
		ch.mu.Unlock()
		ch.sendMu.Unlock()
		return
	}
	ref, sess := ch.currentJoinRef(), ch.joinSession
	ch.state = stErrored
	ch.stopRejoinLocked()
	ch.leftJoined()
	empty := "" // what the old join still produces is stale
	ch.joinRef.Store(&empty)
	ch.mu.Unlock()
	ch.ev.log(slog.LevelInfo, "rxrealtime: rejoining with presence: a presence listener started after the join",
		slog.String("topic", ch.topic))
	ch.leaveAsync(ref, sess)
	ch.sendMu.Unlock()
	ch.join()
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
	ctx, cancel := context.WithTimeout(context.Background(), ch.pushTimeout)
	_ = ch.host.refreshToken(ctx)
	cancel()
	ch.join()
}
