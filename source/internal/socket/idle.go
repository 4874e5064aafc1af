package socket

import (
	"context"
	"log/slog"

	"github.com/rxrealtime/rxrealtime/transport"
)

// The idle disconnect: the owner decides when the socket has nothing to do (no channel left for a while)
// and calls Idle; the session is closed with 1000 "idle" and no new one is dialled until Wake.

// Idle closes the current session and dials no new one until Wake: the socket reports StateIdle.
func (s *Socket) Idle() {
	s.mu.Lock()
	if s.closing || s.idle {
		s.mu.Unlock()
		return
	}
	s.idle = true
	s.wake = make(chan struct{})
	ss := s.sess
	s.mu.Unlock()
	if ss != nil {
		ss.fail(errIdle, transport.StatusNormalClosure, "idle")
	}
}

// Wake ends an idle spell: something wants the socket again.
func (s *Socket) Wake() {
	s.mu.Lock()
	if s.idle {
		s.idle = false
		close(s.wake)
	}
	s.mu.Unlock()
}

func (s *Socket) isIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idle
}

// waitWhileIdle holds the connection while the socket is idle, reporting StateIdle, then StateConnecting
// when it is woken.
func (s *Socket) waitWhileIdle(ctx context.Context) error {
	s.mu.Lock()
	if !s.idle {
		s.mu.Unlock()
		return nil
	}
	wake := s.wake
	s.state = StateIdle
	s.mu.Unlock()
	s.emitState(StateChange{State: StateIdle})
	select {
	case <-wake:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	if s.state == StateIdle {
		s.state = StateConnecting
	}
	s.mu.Unlock()
	s.emitState(StateChange{State: StateConnecting})
	s.log(slog.LevelInfo, "rxrealtime: a channel subscribes, reconnecting")
	return nil
}
