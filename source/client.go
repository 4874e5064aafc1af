package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source/rest"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Client is a Supabase Realtime socket. It is safe for concurrent use.
//
// Its incoming messages are one hot stream ([Client.Messages]) read by a
// single goroutine and routed by topic ([Client.Topic]). The connection
// itself is a cold stream of messages, one run per WebSocket session, made
// endless by [operators.RetryWithBackoff]: that operator is the reconnect
// logic, there is no other.
type Client struct {
	url    string // with its query string: may hold the API key, never logged
	logURL string
	cfg    config
	ser    phoenix.Serializer

	ref      atomic.Uint64
	sessions atomic.Uint64
	pending  pendingTable
	router   router
	ctr      counters
	notify   notifier
	sec      secrets // what the server may echo, removed from its text (redact.go)
	// decoders run the typed change streams' consumers (see typedChanges).
	decoders stream.Workers
	attempts atomic.Int64 // dials since the last session opened
	healthy  atomic.Bool  // a session has opened once: from then on every failure is retried

	mu       sync.Mutex
	sess     *session // the open session taking direct writes; nil while offline or flushing
	outbox   []*phoenix.Message
	state    State
	started  bool
	closing  bool // Close was called or the supervisor ended: no more pushes
	stopping bool // Close has begun: only its own leaves may still go out
	token    string
	// tokenGen numbers the provider calls; tokenApplied is the newest
	// whose token was set (refreshToken).
	tokenGen     uint64
	tokenApplied uint64
	firstUp      chan struct{} // closed when the first session opens
	stopCh       chan struct{} // closed when Close begins
	upClosed     bool
	cancel       context.CancelFunc
	done         chan struct{}
	err          error

	lastCause error // why the last dial or session failed, guarded by mu

	closeOnce sync.Once
	channels  map[string]*Channel // live channels by topic, guarded by mu

	// Idle disconnect (WithIdleDisconnect), guarded by mu.
	idleTimer *time.Timer   // armed when the last channel goes
	idle      bool          // the socket is (being) closed for want of channels
	wake      chan struct{} // closed when a Subscribe ends the idle spell

	restc         *rest.Client    // the REST client (Client.REST, ViaRESTIfNotJoined), made on first use; guarded by mu
	restTransport *http.Transport // its transport when the client made it: Close ends its idle connections

	states     *stream.Hub[StateChange]
	errs       *stream.Hub[error]
	heartbeats *stream.Hub[HeartbeatEvent]
	messages   *stream.Hub[phoenix.Message]
	changes    *stream.Hub[*inboundChange] // every channel's changes, for AllChanges
}

// DefaultStreamBuffer is the mailbox size of a consumer of a stream fed by the socket (Messages, Topic and
// every channel stream) that did not choose one with stream.WithBuffer. Its default policy is
// stream.DropNewest: the socket never waits on a consumer (see the package documentation,
// "Backpressure").
const DefaultStreamBuffer = 1024

// sideBuffer is the mailbox size of the state, error and heartbeat streams, whose consumers lose the
// oldest events by default.
const sideBuffer = 64

// socketHub returns a hub fed by the socket's reader: it never waits for a consumer, its consumers drop
// the newest messages past DefaultStreamBuffer unless they chose otherwise, and a consumer that falls
// behind is reported as slow, naming topic.
func socketHub[T any](c *Client, topic string) *stream.Hub[T] {
	return stream.NewHub[T](stream.NeverWait(),
		socketDefaults,
		stream.DropCounter(&c.ctr.dropped),
		stream.OnSlowConsumer(func(ev stream.SlowConsumer) { c.slowConsumer(topic, ev) }))
}

// socketDefaults is the consumer default of the socket's streams, built once: every hub shares it.
var socketDefaults = stream.WithDefaults(stream.DropNewest(), stream.WithBuffer(DefaultStreamBuffer))

// sideHub returns a hub for the state, error and heartbeat streams: never waiting, DropOldest by default.
func sideHub[T any](c *Client) *stream.Hub[T] {
	return stream.NewHub[T](stream.NeverWait(),
		stream.WithDefaults(stream.DropOldest(), stream.WithBuffer(sideBuffer)),
		stream.DropCounter(&c.ctr.dropped))
}

// New returns a client for rawURL. rawURL may be a Supabase project URL
// ("https://<ref>.supabase.co", a self-hosted "https://host" or
// "https://host/prefix", or the CLI's "http://localhost:54321", with or
// without a trailing slash or "/realtime/v1"), resolved as supabase-js does
// to "wss://…/realtime/v1/websocket", or a socket endpoint: any ws:// or
// wss:// URL, and any http(s) URL whose path ends in /socket or
// /websocket, is used as given ("/websocket" and the query parameters are
// added as realtime-js does). See [SocketEndpoint] for the rule and
// [RESTEndpoint] for the matching REST API base; a URL it cannot read gives
// an error wrapping [ErrInvalidURL] that names it without its query string.
// Nothing is dialled until [Client.Connect]. An option given an unusable
// value (a zero heartbeat interval, a negative buffer...) makes New fail
// with an error wrapping [ErrInvalidOption] that names the first such
// option.
func New(rawURL string, opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if cfg.apiKeyHeader && cfg.apiKey != "" {
		if err := transport.CheckHeader("x-api-key", cfg.apiKey); err != nil {
			// Not the key itself: the error names the header and the reason only.
			return nil, fmt.Errorf("%w WithAPIKeyHeader: the API key cannot be sent as a header: %w", ErrInvalidOption, err)
		}
	}
	if cfg.heartbeatTimeout <= 0 {
		cfg.heartbeatTimeout = cfg.heartbeatInterval
	}
	u, err := endpointURL(rawURL, &cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{
		url:     u,
		logURL:  transport.RedactURL(u),
		cfg:     cfg,
		ser:     cfg.serializer,
		state:   StateConnecting,
		firstUp: make(chan struct{}),
		done:    make(chan struct{}),
		stopCh:  make(chan struct{}),
	}
	c.sec.init(&cfg)
	// No stream fed by the socket ever waits for its consumers (the socket never waits on a user).
	c.states = sideHub[StateChange](c)
	c.errs = sideHub[error](c)
	c.heartbeats = sideHub[HeartbeatEvent](c)
	c.messages = socketHub[phoenix.Message](c, "")
	c.changes = socketHub[*inboundChange](c, "")
	c.router.newRoute = func(topic string) *route {
		return &route{topic: topic, hub: socketHub[phoenix.Message](c, topic), changes: socketHub[*inboundChange](c, topic)}
	}
	c.notify.onPanic = func(r any) {
		if l := c.cfg.logger; l != nil {
			l.Error("rxrealtime: a callback panicked", slog.Any("panic", r))
		}
	}
	return c, nil
}

// Connect is [New] followed by [Client.Connect]. If the first connection
// does not open before ctx ends, the client is closed and the error
// returned.
func Connect(ctx context.Context, rawURL string, opts ...Option) (*Client, error) {
	c, err := New(rawURL, opts...)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = c.Close(closeCtx)
		return nil, err
	}
	return c, nil
}

// Connect starts the connection and waits until it opens, ctx ends, or
// the client gives up. It gives up at once on a permanent rejection of
// the handshake (an HTTP 4xx other than 408 and 429: a wrong key or path),
// and after [WithMaxReconnects] failed attempts. Its error is a
// [*ConnectError] that says why: the last attempt's cause (a
// *transport.HandshakeError with the status and the server's message, or
// the network error) and, when ctx ended first, ctx's error. When ctx ends
// first the client keeps trying in the background (pushes wait in the
// offline buffer) until [Client.Close]. Calling Connect again only waits.
//
// Once a session has opened, the client never gives up on its own (unless
// WithMaxReconnects says so): a later 401 or 403, say after a key
// rotation, is retried with backoff, asking the token provider again
// before each attempt, and each failure is reported.
func (c *Client) Connect(ctx context.Context) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	if !c.started {
		c.started = true
		c.start()
	}
	c.mu.Unlock()
	select {
	case <-c.firstUp:
		return nil
	case <-c.done:
		if err := c.Err(); err != nil {
			return err
		}
		return ErrClosed
	case <-ctx.Done():
		return &ConnectError{Attempts: int(c.attempts.Load()), Err: ctx.Err(), Last: c.lastFailure()}
	}
}

// lastFailure is why the last dial or session failed.
func (c *Client) lastFailure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastCause
}

// shouldRetry decides whether the connection retries after err: always once a session has opened;
// before that, not after a permanent rejection of the handshake.
func (c *Client) shouldRetry(err error) bool {
	if c.healthy.Load() {
		return true
	}
	if errors.Is(err, transport.ErrInvalidOption) {
		return false // the request itself is unusable: no retry can fix it
	}
	var he *transport.HandshakeError
	return !errors.As(err, &he) || he.Temporary()
}

// giveUpError is the error the client stops with when the retry operator ends with err.
func (c *Client) giveUpError(err error) error {
	attempts := int(c.attempts.Load())
	var ex *operators.RetryExhaustedError
	if errors.As(err, &ex) {
		return &ConnectError{Attempts: attempts, Last: ex.Last}
	}
	return &ConnectError{Attempts: attempts, Last: err, Permanent: !c.healthy.Load()}
}

// start runs the connection supervisor. Called with c.mu held.
func (c *Client) start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	conn := operators.RetryWithBackoff(c.connection(), c.cfg.backoff,
		operators.RetryOnComplete(true),
		operators.MaxAttempts(c.cfg.maxReconnects),
		operators.ShouldRetry(c.shouldRetry),
		operators.OnRetry(c.onRetry),
	)
	c.emitState(StateChange{State: StateConnecting})
	go func() {
		// One message the reader's goroutine reuses: dispatch keeps no pointer to it, and taking the
		// address of each one would move it to the heap.
		var cur phoenix.Message
		err := conn.Run(ctx, func(m phoenix.Message) bool {
			cur = m
			c.dispatch(&cur)
			return true
		})
		if ctx.Err() != nil {
			err = nil // the user closed the client
		} else if err != nil {
			err = c.giveUpError(err)
			c.logAttrs(slog.LevelError, "rxrealtime: giving up", slog.Any("error", err))
		}
		c.shutdown(err)
	}()
}

// connection is the socket as a cold stream: each run dials a new
// WebSocket session and emits its messages until the session ends, with
// the reason it ended as the run's error.
func (c *Client) connection() stream.Stream[phoenix.Message] {
	return stream.New(c.runSession)
}

func (c *Client) onRetry(attempt int, cause error, delay time.Duration) {
	c.mu.Lock()
	c.state = StateReconnecting
	c.mu.Unlock()
	c.ctr.reconnects.Add(1)
	c.emitState(StateChange{State: StateReconnecting, Attempt: attempt, Delay: delay, Cause: cause})
	c.report(&ReconnectError{Attempt: attempt, Delay: delay, Cause: cause})
	c.observe(func(m Metrics) { m.Reconnect(attempt, delay, cause) })
}

// Close leaves every joined channel (waiting for the replies until ctx
// ends), closes the WebSocket with code 1000 and stops every goroutine the
// client started. Pushes already queued for the socket's writer (a Send
// without acknowledgement returns once queued) are written before the
// socket closes, as long as ctx allows; those left unsent are reported on
// [Client.Errors] as [*UnsentError]. Pending and buffered pushes fail with
// [ErrClosed]; every stream of the client and its channels completes. It
// never reconnects.
// Close returns once the error handler, the logger and the Metrics have
// been given every notification queued before; after it returns none is
// called again from the client's goroutines. Close returns ctx's error if
// the client has not stopped before ctx ends (a callback that blocks for
// good holds it up); it stops all the same, soon after.
func (c *Client) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		started := c.started
		c.started = true
		c.stopping = true
		c.mu.Unlock()
		close(c.stopCh)
		// What the user is waiting on ends now, with ErrClosed, not when the
		// leaves below are answered: pushes and joins in flight (the leaves
		// Close sends are its own), and Subscribe and Send waits.
		c.pending.failWhere(func(p *pending) bool { return p.event != phoenix.EventLeave }, ErrClosed)
		if started {
			c.leaveAll(ctx)
			c.flushWrites(ctx)
		}
		c.mu.Lock()
		c.closing = true
		cancel := c.cancel
		c.mu.Unlock()
		if cancel != nil {
			cancel()
		} else {
			c.shutdown(nil)
		}
	})
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flushWrites waits (until ctx ends) for the open session's writer to write
// everything queued, so that Close's normal closure follows the pushes that
// returned before it.
func (c *Client) flushWrites(ctx context.Context) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		s.drain(ctx)
	}
}

// shutdown runs once, when the supervisor ends: it fails what is pending
// and completes every stream.
func (c *Client) shutdown(err error) {
	c.mu.Lock()
	c.closing = true
	c.state = StateClosed
	c.err = err
	c.sess = nil
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
	outbox := c.outbox
	c.outbox = nil
	c.mu.Unlock()
	c.cfg.joinLimiter.forget(c) // paced joins of this client will never go out
	closedErr := ErrClosed
	if err != nil {
		closedErr = err
	}
	for _, m := range outbox {
		if p := c.pending.take(m.Ref); p != nil {
			p.deliver(pushResult{err: closedErr})
		} else if !isControl(m) {
			// A push that waited for no reply already returned to its
			// caller: tell them it never left.
			c.report(&UnsentError{Topic: m.Topic, Event: m.Event, Err: closedErr})
		}
	}
	c.pending.failSession(0, closedErr)
	c.router.each(func(rt *route) {
		if rt.handler != nil {
			rt.handler.socketClosed(closedErr)
		}
	})
	c.emitState(StateChange{State: StateClosed, Cause: err})
	c.router.closeAll(err)
	c.states.Complete(nil)
	c.errs.Complete(nil)
	c.heartbeats.Complete(nil)
	c.messages.Complete(err)
	c.changes.Complete(err)
	if err == nil {
		c.logAttrs(slog.LevelInfo, "rxrealtime: closed")
	}
	c.mu.Lock()
	rt := c.restTransport
	c.mu.Unlock()
	if rt != nil {
		rt.CloseIdleConnections() // no keep-alive goroutine outlives the client
	}
	<-c.notify.stop() // the callbacks queued so far run before Close returns
	close(c.done)
}

// Done is closed when the client has stopped: after Close, or when
// reconnect attempts ran out (then [Client.Err] says why).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the client stopped on its own, a [*ConnectError] (a
// permanent rejection, or reconnects exhausted); nil while running and
// after a user Close.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// State returns the current connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// States is the hot stream of connection state changes.
func (c *Client) States() stream.Stream[StateChange] { return c.states.Stream() }

// Errors is the hot stream of non-fatal errors: malformed frames,
// connection losses (*ReconnectError), token provider failures.
func (c *Client) Errors() stream.Stream[error] { return c.errs.Stream() }

// Heartbeats is the hot stream of heartbeat steps.
func (c *Client) Heartbeats() stream.Stream[HeartbeatEvent] { return c.heartbeats.Stream() }

// Messages is the hot stream of every incoming message, on every topic.
// Payloads are not bounded in depth (see [Channel.Messages]).
func (c *Client) Messages() stream.Stream[phoenix.Message] { return c.messages.Stream() }

// Topic is the hot stream of the messages on one topic. Creating it costs
// a map entry; it owns no goroutine until observed.
func (c *Client) Topic(topic string) stream.Stream[phoenix.Message] {
	return c.router.ensure(topic).hub.Stream()
}

func (c *Client) emitState(s StateChange) {
	s.At = time.Now()
	c.states.Emit(s)
	c.logAttrs(slog.LevelDebug, "rxrealtime: state", slog.String("state", s.State.String()), slog.Int("attempt", s.Attempt))
	c.observe(func(m Metrics) { m.State(s.State) })
}

// report publishes a non-fatal error: on the error stream at once, and to the error handler and the log
// (Warn) on the observer goroutine, so that neither can stall the caller (often the socket's reader).
func (c *Client) report(err error) {
	c.errs.Emit(err)
	if f := c.cfg.onError; f != nil {
		c.notify.post(func() { f(err) })
	}
	c.logAttrs(slog.LevelWarn, "rxrealtime: error", slog.Any("error", err))
}

// logAttrs logs on the observer goroutine. Attributes never carry a key or a token: URLs are redacted.
func (c *Client) logAttrs(level slog.Level, msg string, attrs ...slog.Attr) {
	l := c.cfg.logger
	if l == nil || !l.Enabled(context.Background(), level) {
		return
	}
	attrs = append(attrs, slog.String("url", c.logURL))
	c.notify.post(func() { l.LogAttrs(context.Background(), level, msg, attrs...) })
}

// slowConsumer reports a slow-consumer episode of a stream of topic ("" for client-wide streams).
func (c *Client) slowConsumer(topic string, ev stream.SlowConsumer) {
	c.ctr.slow.Add(1)
	c.report(&SlowConsumerError{Topic: topic, Queued: ev.Queued, Dropped: ev.Dropped, Blocking: ev.Blocking})
	c.observe(func(m Metrics) { m.SlowConsumer(topic, ev.Dropped) })
}

// send queues m for the open session's writer, else in the offline buffer
// (bounded unless force). reply tells whether m's push waits for a reply
// (is in the pending table). A user push that finds the write queue full
// waits for space, bounded by ctx; a forced one and a control message never
// wait.
func (c *Client) send(ctx context.Context, m *phoenix.Message, force, reply bool) error {
	kind := uint8(qNoReply)
	if reply {
		kind = qReply
	}
	c.mu.Lock()
	if c.closing || (c.stopping && m.Event != phoenix.EventLeave) {
		c.mu.Unlock()
		return ErrClosed
	}
	for s := c.sess; s != nil; s = c.sess {
		c.mu.Unlock()
		err := s.enqueue(ctx, m, kind, !force && !isControl(m))
		if !errors.Is(err, errSessionEnded) {
			return err
		}
		// The session ended meanwhile (c.sess was cleared before its queue
		// was handed back): buffer m behind what it handed back.
		c.mu.Lock()
		if c.closing || (c.stopping && m.Event != phoenix.EventLeave) {
			c.mu.Unlock()
			return ErrClosed
		}
	}
	if !force && len(c.outbox) >= c.cfg.sendBuffer {
		c.mu.Unlock()
		return ErrSendBufferFull
	}
	c.outbox = append(c.outbox, m)
	var stale []*phoenix.Message
	if isControl(m) {
		stale = c.compactOutboxLocked()
	}
	c.mu.Unlock()
	c.dropStale(stale)
	return nil
}

// unbuffer removes m from the offline buffer (its push timed out or was
// cancelled, so it must not go out later).
func (c *Client) unbuffer(m *phoenix.Message) {
	c.mu.Lock()
	for i, q := range c.outbox {
		if q == m {
			c.outbox = append(c.outbox[:i], c.outbox[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
}

// dispatch routes one incoming message: replies to their pushes, then the
// message to its topic's stream and to the all-messages stream.
func (c *Client) dispatch(m *phoenix.Message) {
	if m.Event == phoenix.EventReply && m.Ref != "" {
		if p := c.pending.take(m.Ref); p != nil {
			p.resolve(m, &c.sec)
		}
	}
	if rt := c.router.get(m.Topic); rt != nil {
		if rt.handler == nil || rt.handler.handle(m) {
			rt.hub.Emit(*m)
			if m.Event == phoenix.EventPostgres {
				c.routeChange(rt, m)
			}
		}
	}
	c.messages.Emit(*m)
}

// accessToken returns the token to use for joins: the last one the
// provider or SetAuth gave.
func (c *Client) accessToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}
