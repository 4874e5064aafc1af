package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// session is one WebSocket connection, from dial to close.
type session struct {
	id   uint64
	c    *Client
	conn *transport.Conn

	failOnce sync.Once
	mu       sync.Mutex
	cause    error

	wq writeQueue // what waits for the writer

	// kick asks the token refresher to ask the provider now (after each
	// heartbeat sent, as realtime-js does); nil without a provider.
	kick chan struct{}
}

// fail ends the session with cause (the first cause wins) by closing its
// socket; the read loop then returns.
func (s *session) fail(cause error, code transport.StatusCode, reason string) {
	s.failOnce.Do(func() {
		s.mu.Lock()
		s.cause = cause
		s.mu.Unlock()
		_ = s.conn.Close(code, reason)
	})
}

func (s *session) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// runSession is one run of the connection stream: dial, open, read until
// the session ends. Its error is why it ended. A session closed by the idle
// disconnect is not an end for the retry operator: the run waits until a
// channel subscribes, then dials again.
func (c *Client) runSession(ctx context.Context, emit func(phoenix.Message) bool) error {
	for {
		if err := c.waitWhileIdle(ctx); err != nil {
			return err
		}
		err := c.runOneSession(ctx, emit)
		if !errors.Is(err, errIdle) || ctx.Err() != nil {
			return err
		}
	}
}

// runOneSession dials one WebSocket session and reads it until it ends.
func (c *Client) runOneSession(ctx context.Context, emit func(phoenix.Message) bool) error {
	c.refreshToken(ctx)
	// The writer flushes a whole batch of queued frames at once: a buffer
	// the size of many frames makes that one socket write.
	topts := []transport.Option{transport.WithMaxFrameSize(c.cfg.maxFrameSize), transport.WithWriteBufferSize(writeBufferSize)}
	if c.cfg.tls != nil {
		topts = append(topts, transport.WithTLSConfig(c.cfg.tls))
	}
	if c.cfg.netDial != nil {
		topts = append(topts, transport.WithNetDialer(c.cfg.netDial))
	}
	if c.cfg.apiKeyHeader && c.cfg.apiKey != "" {
		topts = append(topts, transport.WithHeader("x-api-key", c.cfg.apiKey))
	}
	for _, h := range c.cfg.headers {
		topts = append(topts, transport.WithHeader(h[0], h[1]))
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.dialTimeout)
	attempt := c.attempts.Add(1)
	conn, err := transport.Dial(dctx, c.url, topts...)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			c.failed(err)
			c.logAttrs(slog.LevelInfo, "rxrealtime: dial failed", slog.Int64("attempt", attempt), slog.Any("error", err))
		}
		return err
	}
	if c.isIdle() { // the idle delay ran out while dialling
		_ = conn.Close(transport.StatusNormalClosure, "idle")
		return errIdle
	}
	s := &session{id: c.sessions.Add(1), c: c, conn: conn}
	s.wq.init()
	if c.cfg.token != nil {
		s.kick = make(chan struct{}, 1)
	}
	operators.MarkHealthy(ctx) // the dial worked: the next loss starts the backoff afresh
	c.healthy.Store(true)
	c.attempts.Store(0)
	c.logAttrs(slog.LevelInfo, "rxrealtime: connected", slog.Uint64("session", s.id), slog.Int64("attempt", attempt))

	// A user Close cancels ctx: close the socket cleanly so the read loop ends.
	stop := context.AfterFunc(ctx, func() { s.fail(nil, transport.StatusNormalClosure, "") })
	hbCtx, hbCancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.writer()
	}()
	go func() {
		defer wg.Done()
		c.heartbeat(hbCtx, s)
	}()
	if s.kick != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.tokenRefresher(hbCtx, s.kick)
		}()
	}

	c.opened(s)
	err = c.readLoop(s, emit)
	stop()
	hbCancel()
	s.fail(err, transport.StatusNormalClosure, "")
	close(s.wq.stop)
	wg.Wait()
	if cause := s.failure(); cause != nil {
		err = cause
	}
	c.ended(s, err)
	if errors.Is(err, errIdle) {
		c.logAttrs(slog.LevelInfo, "rxrealtime: no channel left, disconnected until a channel subscribes", slog.Uint64("session", s.id))
	} else if ctx.Err() == nil {
		c.failed(err)
		attrs := []slog.Attr{slog.Uint64("session", s.id), slog.Any("cause", err)}
		var ce *transport.CloseError
		if errors.As(err, &ce) {
			attrs = append(attrs, slog.Int("code", int(ce.Code)), slog.String("reason", ce.Reason))
		}
		c.logAttrs(slog.LevelWarn, "rxrealtime: disconnected", attrs...)
	}
	return err
}

// failed records why the last dial or session failed, for ConnectError.
func (c *Client) failed(err error) {
	if err == nil {
		return
	}
	c.mu.Lock()
	c.lastCause = err
	c.mu.Unlock()
}

// readLoop reads, decodes and emits frames until the socket fails.
func (c *Client) readLoop(s *session, emit func(phoenix.Message) bool) error {
	m := new(phoenix.Message) // one per session: decoding through the interface would move each to the heap
	for {
		data, binary, err := s.conn.ReadFrame()
		if err != nil {
			return err
		}
		c.ctr.framesIn.Add(1)
		c.ctr.bytesIn.Add(uint64(len(data)))
		*m = phoenix.Message{}
		if err := c.ser.Decode(m, data, binary); err != nil {
			c.ctr.decodeErrors.Add(1)
			c.report(err) // the server ignores malformed frames; so do we, once reported
			continue
		}
		if !emit(*m) {
			return nil
		}
	}
}

// opened makes s the current session: channels rejoin first, then the
// offline buffer is flushed in order, then pushes go straight out.
func (c *Client) opened(s *session) {
	c.mu.Lock()
	c.state = StateOpen
	buffered := c.outbox
	c.outbox = nil
	// Control messages still buffered were made for a session that ended:
	// the rejoins below supersede them.
	var stale []*phoenix.Message
	if len(buffered) > 0 {
		c.outbox = buffered
		stale = c.dropControlLocked()
		buffered, c.outbox = c.outbox, nil
	}
	c.mu.Unlock()
	c.dropStale(stale)
	c.emitState(StateChange{State: StateOpen})
	// Connect returns after the open state was published: a States consumer
	// registered once Connect returned never sees a stale "open".
	c.mu.Lock()
	if !c.upClosed {
		c.upClosed = true
		close(c.firstUp)
	}
	c.mu.Unlock()

	// Rejoins queue their joins in the (now empty) outbox, ahead of what
	// was buffered while offline.
	c.router.each(func(rt *route) {
		if rt.handler != nil {
			rt.handler.socketOpened()
		}
	})
	c.mu.Lock()
	c.outbox = append(c.outbox, buffered...)
	c.mu.Unlock()

	for {
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			return
		}
		batch := c.outbox
		c.outbox = nil
		if len(batch) == 0 {
			if c.idle { // the idle delay ran out while flushing
				c.mu.Unlock()
				s.fail(errIdle, transport.StatusNormalClosure, "idle")
				return
			}
			c.sess = s
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		// Queued for the writer in order, ahead of any later push: c.sess is
		// set only once the buffer is empty. None waits for space (the
		// buffer is bounded), and the queue is handed back only after this
		// returns, so enqueue fails only on an encoding error.
		for _, m := range batch {
			if err := s.enqueue(context.Background(), m, c.queuedKind(m), false); err != nil {
				c.unsendable(m, err)
			}
		}
	}
}

// queuedKind is how a message from the offline buffer is queued: it waits
// for a reply if its push is pending.
func (c *Client) queuedKind(m *phoenix.Message) uint8 {
	if c.pending.has(m.Ref) {
		return qReply
	}
	return qNoReply
}

// unsendable tells the sender of m, which cannot be encoded, that it was not
// sent.
func (c *Client) unsendable(m *phoenix.Message, err error) {
	if p := c.pending.take(m.Ref); p != nil {
		p.deliver(pushResult{err: err})
	} else if !isControl(m) {
		c.report(&UnsentError{Topic: m.Topic, Event: m.Event, Err: err})
	}
}

// ended detaches s: pushes written on it can no longer get a reply, and
// channels learn the socket is down.
func (c *Client) ended(s *session, cause error) {
	c.mu.Lock()
	if c.sess == s {
		c.sess = nil
	}
	c.mu.Unlock()
	// What the writer did not take goes back to the front of the offline
	// buffer, ahead of what was buffered since c.sess was cleared; the
	// control messages among it are dropped with the others below.
	back := s.handBack()
	c.mu.Lock()
	if len(back) > 0 {
		msgs := make([]*phoenix.Message, 0, len(back)+len(c.outbox))
		for _, it := range back {
			// A push whose wait already ended (timeout, ctx) is not sent
			// later. Checked under c.mu: its unbuffer, which follows the
			// end of its wait, then finds it in the buffer if it is put back.
			if it.kind == qReply && !c.pending.has(it.m.Ref) {
				continue
			}
			msgs = append(msgs, it.m)
		}
		c.outbox = append(msgs, c.outbox...)
	}
	if !c.closing {
		// From now on no channel may join until the next session opens: a
		// join made in this window would be queued for a session that will
		// rejoin the channel anyway, and reach the server after that rejoin.
		c.state = StateReconnecting
	}
	stale := c.dropControlLocked()
	c.mu.Unlock()
	c.dropStale(stale)
	lost := fmt.Errorf("%w: %w", ErrConnectionLost, cause)
	if c.isClosing() {
		lost = ErrClosed // the user closed the client: that is why the socket ended
	}
	c.pending.failSession(s.id, lost)
	c.router.each(func(rt *route) {
		if rt.handler != nil {
			rt.handler.socketClosed(cause)
		}
	})
}

// heartbeat sends a heartbeat one interval after open and one interval
// after each reply. A reply that does not come within the timeout means
// the connection is dead (or half-open): the session is closed with 1000
// "heartbeat timeout" and the retry operator reconnects.
func (c *Client) heartbeat(ctx context.Context, s *session) {
	interval, timeout := c.cfg.heartbeatInterval, c.cfg.heartbeatTimeout
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m := &phoenix.Message{Topic: phoenix.TopicPhoenix, Event: phoenix.EventHeartbeat, Payload: emptyObject}
		m.Ref = c.nextRef()
		p := &pending{topic: m.Topic, event: m.Event, done: make(chan pushResult, 1)}
		c.pending.add(m.Ref, p)
		sent := time.Now()
		// Heartbeats never wait for space in the write queue: a queue that
		// does not drain is what the reply timeout below detects.
		if err := s.enqueue(ctx, m, qSession, false); err != nil {
			c.pending.take(m.Ref)
			return // the session ended
		}
		c.emitHeartbeat(HeartbeatEvent{Status: HeartbeatSent, Ref: m.Ref, At: sent})
		if s.kick != nil {
			select { // refresh the token on every heartbeat, as realtime-js does
			case s.kick <- struct{}{}:
			default:
			}
		}
		t.Reset(timeout)
		select {
		case <-ctx.Done():
			c.pending.take(m.Ref)
			return
		case r := <-p.done:
			ev := HeartbeatEvent{Status: HeartbeatOK, Ref: m.Ref, Latency: time.Since(sent), At: time.Now()}
			if r.err != nil {
				ev.Status = HeartbeatError
			}
			c.emitHeartbeat(ev)
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
			t.Reset(interval)
		case <-t.C:
			c.pending.take(m.Ref)
			c.emitHeartbeat(HeartbeatEvent{Status: HeartbeatTimeout, Ref: m.Ref, At: time.Now()})
			s.fail(ErrHeartbeatTimeout, transport.StatusNormalClosure, "heartbeat timeout")
			return
		}
	}
}

func (c *Client) emitHeartbeat(ev HeartbeatEvent) {
	c.heartbeats.Emit(ev)
	switch ev.Status {
	case HeartbeatOK:
		c.observe(func(m Metrics) { m.Heartbeat(ev.Latency) })
	case HeartbeatTimeout:
		c.logAttrs(slog.LevelWarn, "rxrealtime: heartbeat timeout, reconnecting", slog.String("ref", ev.Ref))
	}
}
