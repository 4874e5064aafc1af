package socket

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// The session lifecycle: one run of the connection stream is one WebSocket session, from dial to close.
// The retry operator (Start) runs it again after it ends; that is the reconnect logic, there is no other.

// session is one WebSocket connection, from dial to close.
type session struct {
	id   uint64
	s    *Socket
	conn *transport.Conn

	failOnce sync.Once
	mu       sync.Mutex
	cause    error

	wq       writeQueue    // what waits for the writer (write.go)
	readDone chan struct{} // closed when the read loop has returned

	// beat is signalled after every heartbeat sent, for the Session hook; nil without one.
	beat chan struct{}
}

// fail ends the session with cause (the first cause wins) by closing its socket; the read loop then
// returns.
func (ss *session) fail(cause error, code transport.StatusCode, reason string) {
	ss.failOnce.Do(func() {
		ss.mu.Lock()
		ss.cause = cause
		ss.mu.Unlock()
		_ = ss.conn.Close(code, reason)
	})
}

func (ss *session) failure() error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.cause
}

// runSessions is one run of the connection stream: dial, open, read until the session ends; its error is
// why it ended. A session closed by the idle disconnect is not an end for the retry operator: the run
// waits until Wake, then dials again.
func (s *Socket) runSessions(ctx context.Context, emit func(phoenix.Message) bool) error {
	for {
		if err := s.waitWhileIdle(ctx); err != nil {
			return err
		}
		err := s.runSession(ctx, emit)
		if !errors.Is(err, errIdle) || ctx.Err() != nil {
			return err
		}
	}
}

// runSession dials one WebSocket session and reads it until it ends, emitting every message it decodes.
func (s *Socket) runSession(ctx context.Context, emit func(phoenix.Message) bool) error {
	attempt := s.attempts.Add(1) // the Dial hook is part of the attempt: its failure is the attempt's
	if h := s.hooks.Dial; h != nil {
		if err := h(ctx); err != nil {
			if ctx.Err() == nil {
				s.failed(err)
				s.log(slog.LevelInfo, "rxrealtime: not dialled", slog.Int64("attempt", attempt), slog.Any("error", err))
			}
			return err
		}
	}
	// The writer flushes a whole batch of queued frames at once: a buffer the size of many frames makes
	// that one socket write.
	opts := append(s.cfg.Dial[:len(s.cfg.Dial):len(s.cfg.Dial)],
		transport.WithMaxFrameSize(s.cfg.MaxFrameSize), transport.WithWriteBufferSize(writeBufferSize))
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	s.dialFrom.Store(time.Now().UnixNano())
	conn, err := transport.Dial(dctx, s.cfg.URL, opts...)
	s.dialFrom.Store(0)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			s.failed(err)
			s.log(slog.LevelInfo, "rxrealtime: dial failed", slog.Int64("attempt", attempt), slog.Any("error", err))
		}
		return err
	}
	if s.isIdle() { // the idle delay ran out while dialling
		_ = conn.Close(transport.StatusNormalClosure, "idle")
		return errIdle
	}
	ss := &session{id: s.sessions.Add(1), s: s, conn: conn, readDone: make(chan struct{})}
	ss.wq.init()
	if s.hooks.Session != nil {
		ss.beat = make(chan struct{}, 1)
	}
	s.opened.Store(true)
	s.attempts.Store(0)
	s.log(slog.LevelInfo, "rxrealtime: connected", slog.Uint64("session", ss.id), slog.Int64("attempt", attempt))

	// Close cancels ctx: close the socket cleanly so the read loop ends.
	stop := context.AfterFunc(ctx, func() { ss.fail(nil, transport.StatusNormalClosure, "") })
	bctx, bcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(ss.writer)
	wg.Go(func() { s.heartbeat(bctx, ss) })
	if ss.beat != nil {
		wg.Go(func() { s.hooks.Session(bctx, ss.beat) })
	}

	s.open(ss)
	err = s.readLoop(ss, emit)
	ss.fail(err, transport.StatusNormalClosure, "") // the reader's cause first: a peer's close code says most
	close(ss.readDone)
	stop()
	bcancel()
	close(ss.wq.stop)
	wg.Wait()
	if cause := ss.failure(); cause != nil {
		err = cause
	}
	s.end(ss, err)
	if errors.Is(err, errIdle) {
		s.log(slog.LevelInfo, "rxrealtime: no channel left, disconnected until a channel subscribes", slog.Uint64("session", ss.id))
	} else if ctx.Err() == nil {
		s.failed(err)
		attrs := []slog.Attr{slog.Uint64("session", ss.id), slog.Any("cause", err)}
		var ce *transport.CloseError
		if errors.As(err, &ce) {
			attrs = append(attrs, slog.Int("code", int(ce.Code)), slog.String("reason", ce.Reason))
		}
		s.log(slog.LevelWarn, "rxrealtime: disconnected", attrs...)
	}
	return err
}

// open makes ss the current session: channels rejoin first, then the offline buffer is flushed in
// order, then pushes go straight out.
func (s *Socket) open(ss *session) {
	s.mu.Lock()
	s.state = StateOpen
	buffered := s.outbox
	s.outbox = nil
	// Control messages still buffered were made for a session that ended: the rejoins below supersede
	// them.
	var stale []*phoenix.Message
	buffered, stale = dropControl(buffered)
	s.mu.Unlock()
	s.dropStale(stale)
	s.emitState(StateChange{State: StateOpen})
	// The owner's Connect returns after the open state was published: a consumer of states registered
	// once Connect returned never sees a stale "open".
	s.mu.Lock()
	if !s.upClosed {
		s.upClosed = true
		close(s.firstUp)
	}
	s.mu.Unlock()

	// Rejoins queue their joins in the (now empty) offline buffer, ahead of what was buffered while
	// offline.
	s.routes.each(func(rt *Route) {
		if rt.handler != nil {
			rt.handler.Opened()
		}
	})
	s.mu.Lock()
	s.outbox = append(s.outbox, buffered...)
	s.mu.Unlock()

	for {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			return
		}
		batch := s.outbox
		s.outbox = nil
		if len(batch) == 0 {
			if s.idle { // the idle delay ran out while flushing
				s.mu.Unlock()
				ss.fail(errIdle, transport.StatusNormalClosure, "idle")
				return
			}
			s.sess = ss
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		// Queued for the writer in order, ahead of any later push: s.sess is set only once the buffer is
		// empty. None waits for space (the buffer is bounded), and the queue is handed back only after
		// this returns, so enqueue fails only for a message it cannot encode or that is too large.
		for _, m := range batch {
			if err := ss.enqueue(context.Background(), m, s.queuedKind(m), false); err != nil {
				s.unsendable(m, err)
			}
		}
	}
}

// queuedKind is how a message from the offline buffer is queued: it waits for a reply if its push is
// pending.
func (s *Socket) queuedKind(m *phoenix.Message) uint8 {
	if s.pending.has(m.Ref) {
		return qReply
	}
	return qNoReply
}

// end detaches ss: pushes written on it can no longer get a reply, what the writer never took goes back
// (to the offline buffer, or to the channel whose join it names), frames the server closed the socket for
// are never sent again, and every route's handler learns the socket is down.
func (s *Socket) end(ss *session, cause error) {
	s.mu.Lock()
	if s.sess == ss {
		s.sess = nil
	}
	if !s.closing {
		// From now on no channel may join until the next session opens: a join made in this window would
		// be queued for a session that will rejoin the channel anyway, and reach the server after it.
		s.state = StateReconnecting
	}
	s.mu.Unlock()
	lost := s.lostError(cause)
	back, poisoned := ss.handBack(cause)
	for _, it := range poisoned {
		// The server closed the socket for this frame (1009, 1007, 1003): it never goes out again.
		if p := s.pending.take(it.m.Ref); p != nil {
			p.deliver(Reply{}, lost)
		} else if it.kind == qNoReply && s.hooks.Unsent != nil {
			s.hooks.Unsent(it.m, cause)
		}
	}
	var raw []*phoenix.Message
	bound := map[*Route][]Returned{}
	for _, it := range back {
		// A push whose wait already ended (timeout, ctx) is not sent later.
		if it.kind == qReply && !s.pending.has(it.m.Ref) {
			continue
		}
		if !boundToJoin(it.m) {
			raw = append(raw, it.m)
			continue
		}
		// A message bound to a join goes back to its channel, which sends it again under its next join.
		ret := Returned{M: it.m}
		if p := s.pending.take(it.m.Ref); p != nil {
			ret.Done = p.deliver
		}
		if rt := s.routes.get(it.m.Topic); rt != nil && rt.handler != nil {
			bound[rt] = append(bound[rt], ret)
		} else if ret.Done != nil {
			ret.Done(Reply{}, lost)
		} else if s.hooks.Unsent != nil {
			s.hooks.Unsent(it.m, lost)
		}
	}
	s.mu.Lock()
	if len(raw) > 0 {
		s.outbox = append(raw, s.outbox...)
	}
	var stale []*phoenix.Message
	s.outbox, stale = dropControl(s.outbox)
	s.mu.Unlock()
	s.dropStale(stale)
	s.pending.failSession(ss.id, lost)
	s.routes.each(func(rt *Route) {
		if rt.handler != nil {
			rt.handler.Lost(cause)
		}
	})
	for rt, msgs := range bound {
		rt.handler.Returned(msgs)
	}
}
