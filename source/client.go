package source

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
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

	mu       sync.Mutex
	sess     *session // the open session taking direct writes; nil while offline or flushing
	outbox   []*phoenix.Message
	state    State
	started  bool
	closing  bool // Close was called or the supervisor ended: no more pushes
	token    string
	firstUp  chan struct{} // closed when the first session opens
	upClosed bool
	cancel   context.CancelFunc
	done     chan struct{}
	err      error

	closeOnce sync.Once
	channels  map[string]*Channel // live channels by topic, guarded by mu

	states     *stream.Hub[StateChange]
	errs       *stream.Hub[error]
	heartbeats *stream.Hub[HeartbeatEvent]
	messages   *stream.Hub[phoenix.Message]
	changes    stream.Hub[*inboundChange] // every channel's changes, for AllChanges
}

// sideStream is the default consumer policy of the state, error and
// heartbeat streams.
var sideStream = stream.WithDefaults(stream.DropOldest(), stream.WithBuffer(64))

// New returns a client for the Realtime endpoint rawURL (for example
// "wss://<ref>.supabase.co/realtime/v1" or "ws://127.0.0.1:4000/socket");
// "/websocket" and the query parameters are added as realtime-js does.
// Nothing is dialled until [Client.Connect].
func New(rawURL string, opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.serializer == nil {
		return nil, errors.New("rxrealtime: nil serializer")
	}
	if cfg.heartbeatTimeout <= 0 {
		cfg.heartbeatTimeout = cfg.heartbeatInterval
	}
	u, err := endpointURL(rawURL, &cfg)
	if err != nil {
		return nil, err
	}
	return &Client{
		url:     u,
		logURL:  redactURL(u),
		cfg:     cfg,
		ser:     cfg.serializer,
		state:   StateConnecting,
		firstUp: make(chan struct{}),
		done:    make(chan struct{}),
		// Side streams must never stall the reader: a consumer that does
		// not keep up loses the oldest events unless it asks for Block.
		states:     stream.NewHub[StateChange](sideStream),
		errs:       stream.NewHub[error](sideStream),
		heartbeats: stream.NewHub[HeartbeatEvent](sideStream),
		messages:   stream.NewHub[phoenix.Message](),
	}, nil
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
// reconnect attempts run out. When ctx ends first the client keeps trying
// in the background (pushes wait in the offline buffer) until
// [Client.Close]. Calling Connect again only waits.
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
		return c.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// start runs the connection supervisor. Called with c.mu held.
func (c *Client) start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	conn := operators.RetryWithBackoff(c.connection(), c.cfg.backoff,
		operators.RetryOnComplete(true),
		operators.MaxAttempts(c.cfg.maxReconnects),
		operators.OnRetry(c.onRetry),
	)
	c.emitState(StateChange{State: StateConnecting})
	go func() {
		err := conn.Run(ctx, func(m phoenix.Message) bool {
			c.dispatch(&m)
			return true
		})
		if ctx.Err() != nil {
			err = nil // the user closed the client
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
	c.emitState(StateChange{State: StateReconnecting, Attempt: attempt, Delay: delay, Cause: cause})
	c.report(&ReconnectError{Attempt: attempt, Cause: cause})
	if f := c.cfg.metrics.Reconnect; f != nil {
		f(attempt, cause)
	}
}

// Close leaves every joined channel (waiting for the replies until ctx
// ends), closes the WebSocket with code 1000 and stops every goroutine the
// client started. Pending and buffered pushes fail with [ErrClosed]. It
// never reconnects. Close returns ctx's error if the client has not
// stopped before ctx ends; it stops all the same, soon after.
func (c *Client) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		started := c.started
		c.started = true
		c.mu.Unlock()
		if started {
			c.leaveAll(ctx)
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

// shutdown runs once, when the supervisor ends: it fails what is pending
// and completes every stream.
func (c *Client) shutdown(err error) {
	c.mu.Lock()
	c.closing = true
	c.state = StateClosed
	c.err = err
	c.sess = nil
	outbox := c.outbox
	c.outbox = nil
	c.mu.Unlock()
	closedErr := ErrClosed
	if err != nil {
		closedErr = err
	}
	for _, m := range outbox {
		if p := c.pending.take(m.Ref); p != nil {
			p.deliver(pushResult{err: closedErr})
		} else if m.Event != phoenix.EventJoin && m.Event != phoenix.EventLeave {
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
	close(c.done)
}

// Done is closed when the client has stopped: after Close, or when
// reconnect attempts ran out (then [Client.Err] says why).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the client stopped on its own (reconnects exhausted); nil
// while running and after a user Close.
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
func (c *Client) Messages() stream.Stream[phoenix.Message] { return c.messages.Stream() }

// Topic is the hot stream of the messages on one topic. Creating it costs
// a map entry; it owns no goroutine until observed.
func (c *Client) Topic(topic string) stream.Stream[phoenix.Message] {
	return c.router.ensure(topic).hub.Stream()
}

// Serializer returns the serializer in use.
func (c *Client) Serializer() phoenix.Serializer { return c.ser }

func (c *Client) emitState(s StateChange) {
	s.At = time.Now()
	c.states.Emit(s)
	c.logDebug("rxrealtime: state", slog.String("state", s.State.String()), slog.Int("attempt", s.Attempt))
}

// report publishes a non-fatal error.
func (c *Client) report(err error) {
	c.errs.Emit(err)
	if c.cfg.onError != nil {
		c.cfg.onError(err)
	}
	if c.cfg.logger != nil {
		c.cfg.logger.Warn("rxrealtime: error", slog.String("url", c.logURL), slog.Any("error", err))
	}
}

func (c *Client) logDebug(msg string, attrs ...slog.Attr) {
	if c.cfg.logger != nil {
		c.cfg.logger.LogAttrs(context.Background(), slog.LevelDebug, msg, attrs...)
	}
}

// send writes m now if a session is open, else queues it in the offline
// buffer (bounded unless force).
func (c *Client) send(ctx context.Context, m *phoenix.Message, force bool) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	if s := c.sess; s != nil {
		c.mu.Unlock()
		return s.write(ctx, m)
	}
	if !force && len(c.outbox) >= c.cfg.sendBuffer {
		c.mu.Unlock()
		return ErrSendBufferFull
	}
	c.outbox = append(c.outbox, m)
	c.mu.Unlock()
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
			p.resolve(m)
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

// refreshToken asks the token provider for a fresh token. A failure is
// reported and the previous token kept, as realtime-js does.
func (c *Client) refreshToken(ctx context.Context) {
	if c.cfg.token == nil {
		return
	}
	tok, err := c.cfg.token(ctx)
	if err != nil {
		c.report(&TokenError{Err: err})
		return
	}
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
}
