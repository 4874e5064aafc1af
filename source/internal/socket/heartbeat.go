package socket

import (
	"context"
	"log/slog"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// heartbeat sends a heartbeat one interval after open and one interval after each reply. A reply that
// does not come within the timeout means the connection is dead (or half-open): the session is closed
// with 1000 "heartbeat timeout" and the retry operator reconnects. The first reply marks the session
// healthy for the retry operator: a session that dies before its first round trip (a server that closes
// it for what the client sends at once) does not reset the backoff.
func (s *Socket) heartbeat(ctx context.Context, ss *session) {
	interval, timeout := s.cfg.HeartbeatInterval, s.cfg.HeartbeatTimeout
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m := &phoenix.Message{Topic: phoenix.TopicPhoenix, Event: phoenix.EventHeartbeat, Payload: EmptyObject}
		m.Ref = s.NextRef()
		done := make(chan result, 1)
		s.pending.add(m.Ref, &pending{topic: m.Topic, event: m.Event, done: func(r Reply, err error) { done <- result{r, err} }})
		sent := time.Now()
		// Heartbeats never wait for space in the write queue: a queue that does not drain is what the
		// reply timeout below detects.
		if err := ss.enqueue(ctx, m, qSession, false); err != nil {
			s.pending.take(m.Ref)
			return // the session ended
		}
		s.emitHeartbeat(HeartbeatEvent{Status: HeartbeatSent, Ref: m.Ref, At: sent})
		if ss.beat != nil {
			select {
			case ss.beat <- struct{}{}:
			default:
			}
		}
		t.Reset(timeout)
		select {
		case <-ctx.Done():
			s.pending.take(m.Ref)
			return
		case r := <-done:
			ev := HeartbeatEvent{Status: HeartbeatOK, Ref: m.Ref, Latency: time.Since(sent), At: time.Now()}
			if r.err != nil || r.reply.Status != "ok" {
				ev.Status = HeartbeatError
			} else {
				operators.MarkHealthy(ctx) // a round trip: the next loss starts the backoff afresh
			}
			s.accepted(ss.wq.processed(m)) // the server has handled every frame written before this heartbeat
			s.emitHeartbeat(ev)
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
			t.Reset(interval)
		case <-t.C:
			s.pending.take(m.Ref)
			s.emitHeartbeat(HeartbeatEvent{Status: HeartbeatTimeout, Ref: m.Ref, At: time.Now()})
			ss.fail(ErrHeartbeatTimeout, transport.StatusNormalClosure, "heartbeat timeout")
			return
		}
	}
}

func (s *Socket) emitHeartbeat(ev HeartbeatEvent) {
	if h := s.hooks.Heartbeat; h != nil {
		h(ev)
	}
	if ev.Status == HeartbeatTimeout {
		s.log(slog.LevelWarn, "rxrealtime: heartbeat timeout, reconnecting", slog.String("ref", ev.Ref))
	}
}
