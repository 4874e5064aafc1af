package source

import (
	"context"
	"errors"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Leaving: Unsubscribe's phx_leave and its reply, a join's leave, and the end of a channel for good.

// leaving is a leave under way: what startLeave sent, for awaitLeave.
type leaving struct {
	gone    bool        // the channel was already closed for good
	already bool        // another Unsubscribe is leaving: wait for it
	reply   chan result // the phx_leave's result; nil when none was sent
}

// startLeave moves the channel to leaving and sends its phx_leave without
// waiting, so a client closing many channels sends every leave first and
// then waits for the replies, with no goroutine per channel.
func (ch *Channel) startLeave() leaving {
	ch.mu.Lock()
	l, wasJoined := ch.beginLeaveLocked()
	ch.mu.Unlock()
	return ch.sendLeave(l, wasJoined)
}

// beginLeaveLocked moves the channel to leaving, unless it is gone or leaving already (l says so);
// wasJoined tells whether a join is to be left (sendLeave). ch.mu held.
func (ch *Channel) beginLeaveLocked() (l leaving, wasJoined bool) {
	if ch.isGone() {
		return leaving{gone: true}, false
	}
	if ch.state == stLeaving {
		return leaving{already: true}, false
	}
	wasJoined = ch.state == stJoined || ch.state == stJoining
	ch.state = stLeaving
	ch.subscribed = false
	ch.stopRejoinLocked()
	ch.leftJoined()
	if ch.shared {
		// A holder that arrives while the join is left learns that it is (and waits for the next join).
		ch.emitStatus(StatusEvent{Status: StatusClosed})
	}
	return l, wasJoined
}

// sendLeave sends the phx_leave of a leave begun by beginLeaveLocked when a join is to be left and the
// socket is open, and returns the leave.
func (ch *Channel) sendLeave(l leaving, wasJoined bool) leaving {
	if wasJoined && ch.wire.Session() != 0 {
		l.reply = make(chan result, 1)
		ch.sendMu.Lock() // a join being sent goes out first; leave that one
		m := &phoenix.Message{JoinRef: ch.currentJoinRef(), Topic: ch.topic, Event: phoenix.EventLeave, Payload: socket.EmptyObject}
		ch.wire.PushAsync(m, ch.pushTimeout, func(r socket.Reply, err error) { l.reply <- result{r, err} })
		ch.sendMu.Unlock()
	}
	return l
}

// waitLeave waits for the leave's reply (or its timeout, or ctx); over reports that nothing is left to
// do: the channel was closed for good already, or another leave is under way (and was waited for).
func (ch *Channel) waitLeave(ctx context.Context, l leaving) (over bool, err error) {
	switch {
	case l.gone:
		return true, nil
	case l.already && ch.shared:
		return true, nil // the holder that released before is leaving, and decides what follows
	case l.already:
		select {
		case <-ch.gone:
			return true, nil
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
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
	return false, err
}

// leaveAsync sends a phx_leave for joinRef without waiting, unless the
// session that join went out on has ended (the server forgot it then, and
// a leave queued for the next session would leave the rejoin instead).
func (ch *Channel) leaveAsync(joinRef string, session uint64) {
	if s := ch.wire.Session(); s == 0 || s != session {
		return
	}
	m := &phoenix.Message{JoinRef: joinRef, Topic: ch.topic, Event: phoenix.EventLeave, Payload: socket.EmptyObject}
	ch.wire.PushAsync(m, ch.pushTimeout, func(socket.Reply, error) {})
}

// finish closes the channel for good: it reports a final CLOSED with err,
// fails what waits in its buffer, completes the channel's streams, and the
// client forgets it.
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
	buffered := ch.buffer.takeAll()
	ch.replay.release("", ch.deliverMsg) // what waited behind a replay, before the streams end
	var holders []*Channel
	if ch.shared {
		holders = ch.takeHolders(true)
	}
	// The client forgets the channel before the final CLOSED and Done, so
	// that a user who sees either can reuse the name at once.
	ch.host.forget(ch, err)
	ch.emitStatus(StatusEvent{Status: StatusClosed, Err: err})
	ch.statuses.complete()
	for _, h := range holders { // before Done: a holder's Subscribe that sees Done finds its holder closed
		h.closeHolder(err)
	}
	close(ch.gone)
	ch.mu.Unlock()
	gone := ch.goneError()
	ch.failBuffered(buffered, gone)
	ch.presence.sender.close(gone)
}
