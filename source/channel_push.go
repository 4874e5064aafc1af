package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A channel's pushes (Send, Push, Track) carry its join_ref: the server takes them only under the join
// they name. While the channel is joined they go straight to the socket. While it is subscribed but not
// joined — the socket is reconnecting, a rejoin is on its way — they wait in the channel's push buffer
// (bounded by WithSendBuffer, as realtime-js's push buffer) and go out, in order, under the next join. A
// push the socket had queued but not written when its session ended comes back here too
// (Handler.Returned) and goes out again under the next join.

// push sends m on the channel, under its current join, or buffers it until the channel is joined; it
// returns the reply (unless pc says not to wait) and the client's error for the outcome.
func (ch *Channel) push(ctx context.Context, m *phoenix.Message, pc callConfig) (Reply, error) {
	if err := ctx.Err(); err != nil {
		return Reply{}, err
	}
	start := time.Now()
	ch.mu.Lock()
	if err := ch.pushableLocked(); err != nil {
		ch.mu.Unlock()
		return Reply{}, err
	}
	rejoined := false
	if ch.state == stJoined && !ch.buffer.flushing { // then the buffer is empty: nothing to overtake
		ref := ch.currentJoinRef()
		m.JoinRef = ref
		ch.mu.Unlock()
		r, err := ch.wire.Push(ctx, m, socket.PushOptions{Timeout: pc.timeout, NoReply: pc.noReply})
		if !errors.Is(err, socket.ErrNoSession) {
			return ch.host.outcome(m, r, err, !pc.noReply, start)
		}
		// The session ended between the check and the push: wait for the next join — or, if the
		// channel has joined again meanwhile, flush it now (nothing else would).
		ch.mu.Lock()
		if err := ch.pushableLocked(); err != nil {
			ch.mu.Unlock()
			return Reply{}, err
		}
		rejoined = ch.state == stJoined && ch.currentJoinRef() != ref
	}
	if size := minFrameSize(m); int64(size) > ch.maxFrame {
		// Refused before it is queued, buffer included: its frame is at least this large.
		ch.mu.Unlock()
		return ch.host.outcome(m, socket.Reply{}, &socket.FrameSizeError{Size: size, Limit: int(ch.maxFrame)}, false, start)
	}
	if len(ch.buffer.items) >= ch.sendBuffer {
		ch.mu.Unlock()
		return Reply{}, ErrSendBufferFull
	}
	if pc.noReply {
		ch.buffer.items = append(ch.buffer.items, bufferedPush{m: m})
		ch.flushIfJoinedLocked(rejoined)
		ch.mu.Unlock()
		return Reply{}, nil
	}
	done := make(chan result, 1)
	ch.buffer.items = append(ch.buffer.items, bufferedPush{m: m, done: func(r socket.Reply, err error) {
		select { // once: a push sent again after a lost session may resolve twice
		case done <- result{r, err}:
		default:
		}
	}})
	ch.flushIfJoinedLocked(rejoined)
	ch.mu.Unlock()
	timer := time.NewTimer(pc.timeout)
	defer timer.Stop()
	var r result
	select {
	case r = <-done:
	case <-timer.C:
		ch.unbuffer(m)
		r.err = ErrPushTimeout
	case <-ctx.Done():
		ch.unbuffer(m)
		r.err = ctx.Err()
	}
	return ch.host.outcome(m, r.reply, r.err, true, start)
}

// flushIfJoinedLocked starts a flush when the channel has joined again while its push was failing (a
// buffered push must not wait for the join after next, behind pushes made since). ch.mu held.
func (ch *Channel) flushIfJoinedLocked(rejoined bool) {
	if rejoined && ch.buffer.startFlush() {
		go ch.flushBuffer()
	}
}

// pushing returns the channel whose join carries ch's pushes: ch itself, or for a holder of a shared
// channel the shared channel, provided the holder is subscribed and not released.
func (ch *Channel) pushing() (*Channel, error) {
	h := ch.hold
	switch {
	case h == nil:
		return ch, nil
	case ch.isGone():
		return nil, ch.goneError()
	case !h.subscribed.Load():
		return nil, fmt.Errorf("%w: call Subscribe before pushing", ErrNotJoined)
	}
	return h.core, nil
}

// pushableLocked is why the channel takes no push now: closed for good, or not subscribed. ch.mu held.
func (ch *Channel) pushableLocked() error {
	switch {
	case ch.isGone():
		return ch.goneErrorLocked() // names Close when Close is why
	case !ch.subscribed && ch.isStopping():
		// Close is leaving the channel: that, not a missing Subscribe, is why.
		return fmt.Errorf("%w: %w", ErrChannelClosed, ErrClosed)
	case !ch.subscribed:
		return fmt.Errorf("%w: call Subscribe before pushing", ErrNotJoined)
	}
	return nil
}

// unbuffer withdraws m's push from the buffer (its wait ended).
func (ch *Channel) unbuffer(m *phoenix.Message) {
	ch.mu.Lock()
	ch.buffer.remove(m)
	ch.mu.Unlock()
}

// flushBuffer sends what waited for the join, in order, on its own goroutine (a push may wait for room
// in the socket's write queue). Pushes made meanwhile queue behind (buffer.flushing). Each push goes
// under the join current when it is taken: a flush that a rejoin overtakes goes on under the new join
// (the rejoin starts no flush of its own while one runs). It stops when the buffer is empty or the
// channel is not joined: what is left waits for the next join.
func (ch *Channel) flushBuffer() {
	for {
		ch.mu.Lock()
		if ch.state != stJoined || len(ch.buffer.items) == 0 {
			ch.buffer.flushing = false
			ch.mu.Unlock()
			return
		}
		ref := ch.currentJoinRef()
		it, since := ch.buffer.take()
		ch.mu.Unlock()
		it.m.JoinRef = ref
		var err error
		if done := it.done; done != nil {
			// A refusal to queue is told at once, on this goroutine; a session that ended sends it back
			// to the buffer, not to its caller.
			ch.wire.PushAsync(it.m, ch.pushTimeout, func(r socket.Reply, e error) {
				if errors.Is(e, socket.ErrNoSession) {
					err = e
					return
				}
				done(r, e)
			})
		} else {
			_, err = ch.wire.Push(context.Background(), it.m, socket.PushOptions{NoReply: true})
		}
		switch {
		case errors.Is(err, socket.ErrNoSession):
			ch.mu.Lock()
			ch.buffer.putBack(it, since)
			ch.buffer.flushing = false
			ch.mu.Unlock()
			return
		case err != nil:
			_, err = ch.host.outcome(it.m, socket.Reply{}, err, false, time.Time{}) // a frame too large says so
			ch.ev.report(&UnsentError{Topic: it.m.Topic, Event: eventName(it.m), Err: err})
		}
	}
}

// Returned takes back the pushes the socket queued but never wrote before its session ended: they go to
// the front of the buffer, in order, and out again under the next join (socket.Handler).
func (ch *Channel) Returned(msgs []socket.Returned) {
	msgs = ch.presence.sender.takeBack(msgs)       // a presence call waits in its sender, not in the buffer
	msgs = ch.replay.takeBack(msgs, ch.deliverMsg) // a replay's fence is for its join only
	back := make([]bufferedPush, len(msgs))
	for i, r := range msgs {
		back[i] = bufferedPush{m: r.M, done: r.Done}
	}
	ch.mu.Lock()
	if ch.isGone() {
		ch.mu.Unlock()
		ch.failBuffered(back, ch.goneError())
		return
	}
	ch.buffer.handBack(back)
	ch.mu.Unlock()
}

// failBuffered tells the pushes of items that they will not go out: err for those that wait for a reply,
// an *UnsentError on the error stream for those that returned once queued.
func (ch *Channel) failBuffered(items []bufferedPush, err error) {
	for _, it := range items {
		if it.done != nil {
			it.done(socket.Reply{}, err)
		} else {
			ch.ev.report(&UnsentError{Topic: it.m.Topic, Event: eventName(it.m), Err: err})
		}
	}
}

// Push sends a custom event on the channel and waits for its reply; see
// [Client.Push] for the results. While the channel is subscribed but not
// joined (the socket is reconnecting, a rejoin is on its way) the push
// waits in the channel's buffer (bounded by [WithSendBuffer]; past it
// [ErrSendBufferFull]) and goes out under the next join, its timeout
// running meanwhile. On a channel not subscribed it fails at once with
// [ErrNotJoined].
func (ch *Channel) Push(ctx context.Context, event string, payload []byte, opts ...CallOption) (Reply, error) {
	if len(payload) == 0 {
		payload = socket.EmptyObject
	}
	pc := callOptions(ch.pushTimeout, opts)
	p, err := ch.pushing()
	if err != nil {
		return Reply{}, err
	}
	m := &phoenix.Message{Topic: ch.topic, Event: event, Payload: socket.OwnPayload(payload, pc.noReply)}
	return p.push(ctx, m, pc)
}

// minFrameSize is a size m's frame is at least, whatever the serializer: its payload, meta and names.
func minFrameSize(m *phoenix.Message) int {
	return len(m.Payload) + len(m.Meta) + len(m.Topic) + len(m.Event) + len(m.UserEvent)
}
