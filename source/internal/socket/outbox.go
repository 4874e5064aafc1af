package socket

import (
	"context"
	"errors"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// The offline buffer (Socket.outbox) holds what could not be written yet: pushes not bound to a join,
// kept in order, and channels' control messages — phx_join, phx_leave, access_token — which are bound to
// the session they were made for and to the join they name. A message bound to a join (a channel's
// broadcast, presence or custom push, with a JoinRef) is never buffered here: without a session its join
// is gone, so its channel keeps it and sends it under its next join (ErrNoSession, Handler.Returned).
//
// A control message that a newer one makes obsolete must never reach the server after it: a stale
// phx_join arriving after the current one makes the server close the current join. Two rules keep the
// buffer free of them:
//
//   - within the buffer, a channel's newer phx_join supersedes its older phx_join and access_token, a newer
//     access_token or phx_leave supersedes older access_tokens (compact); a phx_leave is never superseded,
//     so a join, its leave and a later join of the same topic go out in that order;
//   - when a session ends, every control message still buffered is dropped (dropControl): the server
//     forgot that session's joins, and the next session rejoins every channel afresh with the current token.

func isControl(m *phoenix.Message) bool {
	switch m.Event {
	case phoenix.EventJoin, phoenix.EventLeave, phoenix.EventAccessToken:
		return true
	}
	return false
}

// boundToJoin reports a message that names a join and is not one of the join's control messages.
func boundToJoin(m *phoenix.Message) bool { return m.JoinRef != "" && !isControl(m) }

// send queues m for the open session's writer, else in the offline buffer (bounded, but for control
// messages). reply tells whether m's push waits for a reply (is in the pending table). A user push that
// finds the write queue full waits for space, bounded by ctx; a control message never waits. A message
// bound to a join finds no session: ErrNoSession.
func (s *Socket) send(ctx context.Context, m *phoenix.Message, reply bool) error {
	kind := uint8(qNoReply)
	if reply {
		kind = qReply
	}
	control := isControl(m)
	s.mu.Lock()
	if s.closing || (s.stopping && m.Event != phoenix.EventLeave) {
		s.mu.Unlock()
		return ErrClosed
	}
	for ss := s.sess; ss != nil; ss = s.sess {
		s.mu.Unlock()
		err := ss.enqueue(ctx, m, kind, !control)
		if !errors.Is(err, errSessionEnded) {
			return err
		}
		// The session ended meanwhile (s.sess was cleared before its queue was handed back): buffer m
		// behind what it handed back.
		s.mu.Lock()
		if s.closing || (s.stopping && m.Event != phoenix.EventLeave) {
			s.mu.Unlock()
			return ErrClosed
		}
	}
	if boundToJoin(m) {
		s.mu.Unlock()
		return ErrNoSession
	}
	if !control && len(s.outbox) >= s.cfg.SendBuffer {
		s.mu.Unlock()
		return ErrSendBufferFull
	}
	s.outbox = append(s.outbox, m)
	var stale []*phoenix.Message
	if control {
		s.outbox, stale = compact(s.outbox)
	}
	s.mu.Unlock()
	s.dropStale(stale)
	return nil
}

// unbuffer removes m from the offline buffer (its push timed out or was cancelled, so it must not go out
// later).
func (s *Socket) unbuffer(m *phoenix.Message) {
	s.mu.Lock()
	for i, q := range s.outbox {
		if q == m {
			s.outbox = append(s.outbox[:i], s.outbox[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
}

// compact removes the control messages of buf that newer ones supersede; it returns what stays, in
// order, and what was removed.
func compact(buf []*phoenix.Message) (kept, stale []*phoenix.Message) {
	const joinSeen, tokenSeen = 1, 2
	var seen map[string]uint8
	keep := len(buf)
	// Walk from the newest, keeping survivors at the end of the slice, in order.
	for i := len(buf) - 1; i >= 0; i-- {
		m := buf[i]
		if isControl(m) {
			if seen == nil {
				seen = make(map[string]uint8)
			}
			f := seen[m.Topic]
			drop := false
			switch m.Event {
			case phoenix.EventJoin:
				drop = f&joinSeen != 0
				f |= joinSeen | tokenSeen
			case phoenix.EventAccessToken:
				drop = f&tokenSeen != 0
				f |= tokenSeen
			case phoenix.EventLeave:
				f = tokenSeen // joins before a leave belong to the join it leaves
			}
			seen[m.Topic] = f
			if drop {
				stale = append(stale, m)
				continue
			}
		}
		keep--
		buf[keep] = m
	}
	if keep > 0 {
		n := copy(buf, buf[keep:])
		clear(buf[n:])
		buf = buf[:n]
	}
	return buf, stale
}

// dropControl removes every control message from buf (their session ended); it returns what stays and
// what was removed.
func dropControl(buf []*phoenix.Message) (kept, stale []*phoenix.Message) {
	kept = buf[:0]
	for _, m := range buf {
		if isControl(m) {
			stale = append(stale, m)
			continue
		}
		kept = append(kept, m)
	}
	clear(buf[len(kept):])
	return kept, stale
}

// dropStale resolves the pushes of dropped control messages: a leave as done (the join it named is gone
// with its session or was never sent), a join as superseded. access_token pushes wait for no reply.
func (s *Socket) dropStale(stale []*phoenix.Message) {
	for _, m := range stale {
		p := s.pending.take(m.Ref)
		if p == nil {
			continue
		}
		if m.Event == phoenix.EventLeave {
			p.deliver(Reply{Status: "ok"}, nil)
		} else {
			p.deliver(Reply{}, ErrSuperseded)
		}
	}
}
