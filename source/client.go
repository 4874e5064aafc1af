package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Client is a Supabase Realtime socket. It is safe for concurrent use.
//
// It composes the socket (one WebSocket, its reader, writer, heartbeats and reconnects), the registry of
// its channels, its access tokens and its REST client. Its incoming messages are one hot stream
// ([Client.Messages]) read by a single goroutine and routed by topic ([Client.Topic]). The connection
// itself is a cold stream of messages, one run per WebSocket session, made endless by
// [operators.RetryWithBackoff]: that operator is the reconnect logic, there is no other.
type Client struct {
	url string // with its query string: may hold the API key, never logged
	cfg config

	sock *socket.Socket
	ev   *events
	sec  secrets // what the server may echo, removed from its text (redact.go)
	tok  tokens  // the access token and its provider (token.go)
	reg  registry
	rest restHolder

	// changes carries every channel's postgres changes, for AllChanges; decoders run the typed change
	// streams' consumers (see typedChanges).
	changes  *stream.Hub[*inboundChange]
	decoders stream.Workers

	closeOnce sync.Once
	done      chan struct{} // closed when the client has stopped
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
// Nothing is dialled until [Client.Connect] or [Client.Start]. An option
// given an unusable value (a zero heartbeat interval, a negative buffer...)
// makes New fail with an error wrapping [ErrInvalidOption] that names the
// first such option.
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
	// The reader never waits for a consumer long enough to make a heartbeat time out (WithConsumerWait).
	hbLimit := cfg.heartbeatTimeout / 4
	cfg.consumerWait = [2]time.Duration{min(cfg.consumerWait[0], hbLimit), min(cfg.consumerWait[1], hbLimit)}
	u, err := endpointURL(rawURL, &cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{url: u, cfg: cfg, done: make(chan struct{})}
	c.sec.init(cfg.apiKey, cfg.headers)
	c.ev = newEvents(cfg.logger, cfg.onError, cfg.metrics, transport.RedactURL(u), cfg.consumerWait)
	c.tok = tokens{provider: cfg.token, sec: &c.sec, ev: c.ev, give: c.reg.distributeToken, retryMax: cfg.heartbeatInterval,
		dialWait: cfg.dialTimeout, anon: cfg.anonymousFallback}
	c.rest = restHolder{url: u, apiKey: cfg.apiKey, logger: cfg.logger, httpClient: cfg.httpClient, headers: cfg.headers, token: c.tok.forREST}
	c.changes = hub[*inboundChange](c.ev, "")
	c.sock = socket.New(socket.Config{
		URL: u, LogURL: c.ev.logURL,
		Dial:              append(dialOptions(&cfg), transport.WithSecrets(c.sec.list)),
		Serializer:        cfg.serializer,
		HeartbeatInterval: cfg.heartbeatInterval, HeartbeatTimeout: cfg.heartbeatTimeout,
		DialTimeout:  cfg.dialTimeout,
		MaxFrameSize: cfg.maxFrameSize,
		SendBuffer:   cfg.sendBuffer,
		Backoff:      cfg.backoff, MaxReconnects: cfg.maxReconnects,
		Traffic: cfg.traffic,
		NewHub:  func(topic string) *stream.Hub[phoenix.Message] { return hub[phoenix.Message](c.ev, topic) },
		Hooks: socket.Hooks{
			State:     c.ev.state,
			Error:     c.socketError,
			Log:       c.ev.log,
			Heartbeat: c.ev.heartbeat,
			Retry:     c.ev.retry,
			Unsent:    c.ev.unsent,
			Dial:      c.tok.beforeDial,
			Session:   c.tok.session(),
			Stopped:   c.stopped,
			Retryable: retryable,
		},
	})
	c.reg.init(cfg.idleAfter, c.sock.Idle)
	return c, nil
}

// socketError reports a non-fatal error of the socket: a frame that did not decode, as a *FrameError.
func (c *Client) socketError(err error) {
	if errors.Is(err, phoenix.ErrMalformed) {
		err = &FrameError{Err: err}
	}
	c.ev.report(err)
}

// dialOptions are the transport options of every dial.
func dialOptions(cfg *config) []transport.Option {
	var opts []transport.Option
	if cfg.tls != nil {
		opts = append(opts, transport.WithTLSConfig(cfg.tls))
	}
	if cfg.netDial != nil {
		opts = append(opts, transport.WithNetDialer(cfg.netDial))
	}
	if cfg.apiKeyHeader && cfg.apiKey != "" {
		opts = append(opts, transport.WithHeader("x-api-key", cfg.apiKey))
	}
	for _, h := range cfg.headers {
		opts = append(opts, transport.WithHeader(h[0], h[1]))
	}
	return opts
}

// retryable decides whether a first dial that failed is tried again: not after a permanent rejection of
// the handshake (a wrong key or path), an unusable request, or a token provider that failed while the
// client had no token (Connect returns its error rather than keep the caller waiting).
func retryable(err error) bool {
	var te *TokenError
	if errors.Is(err, transport.ErrInvalidOption) || errors.As(err, &te) {
		return false // the request itself is unusable, or has no token: no retry can fix it
	}
	var he *transport.HandshakeError
	return !errors.As(err, &he) || he.Temporary()
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

// Start starts connecting in the background and returns at once; channels
// subscribed meanwhile join when the socket opens. [Client.Connect] is
// Start followed by a wait for the first session. Calling it again does
// nothing; after [Client.Close] it returns [ErrClosed].
func (c *Client) Start() error { return c.sock.Start() }

// Connect starts the connection and waits until it opens, ctx ends, or
// the client gives up. It gives up at once on a permanent rejection of
// the handshake (an HTTP 4xx other than 408 and 429: a wrong key or path),
// on a token provider that failed before the client had a token (see
// [WithAccessToken]), and after [WithMaxReconnects] failed attempts. Its
// error is a [*ConnectError] that says why: the last attempt's cause (a
// *transport.HandshakeError with the status and the server's message, the
// network error, a [*TokenError], which names a provider that did not
// return in time) and, when ctx ended first, ctx's error. When ctx ends
// first the client keeps trying in the background (pushes wait in the
// offline buffer) until [Client.Close]. Calling Connect again only waits.
//
// Once a session has opened, the client never gives up on its own (unless
// WithMaxReconnects says so): a later 401 or 403, say after a key
// rotation, is retried with backoff, asking the token provider again
// before each attempt, and each failure is reported.
func (c *Client) Connect(ctx context.Context) error {
	if err := c.Start(); err != nil {
		return err
	}
	select {
	case <-c.sock.Up():
		return nil
	case <-c.done:
		if err := c.Err(); err != nil {
			return err
		}
		return ErrClosed
	case <-ctx.Done():
		last := c.sock.LastFailure()
		if p := c.tok.pending(); p != nil {
			last = p // the attempt under way waits for the token provider
		} else if d, dialing := c.sock.Dialing(); last == nil && dialing {
			// No attempt has failed yet: the one under way is why (a server that accepted the
			// connection and never answered the upgrade, say).
			last = &transport.DialError{URL: c.ev.logURL, Err: fmt.Errorf("rxrealtime: no handshake response after %v (the dial goes on, bounded by WithDialTimeout)", d.Round(time.Millisecond))}
		}
		return &ConnectError{Attempts: c.sock.Attempts(), Err: ctx.Err(), Last: last}
	}
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
		// What the user is waiting on ends now, with ErrClosed, not when the leaves below are answered:
		// pushes and joins in flight (the leaves Close sends are its own), and Subscribe and Send waits.
		c.sock.BeginClose()
		c.reg.close()
		_ = c.reg.leaveAll(ctx)
		_ = c.sock.Close(ctx)
	})
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopped runs once, when the socket has stopped for good (Close, or it gave up): the client's own
// streams complete and the callbacks queued so far run, then Done is closed.
func (c *Client) stopped(err error) {
	if err != nil {
		err = giveUpError(c.sock, err)
		c.ev.log(slog.LevelError, "rxrealtime: giving up", slog.Any("error", err))
	} else {
		c.ev.log(slog.LevelInfo, "rxrealtime: closed")
	}
	c.reg.close()
	c.cfg.joinLimiter.forget(c) // paced joins of this client will never go out
	c.changes.Complete(err)
	c.rest.closeIdle()
	<-c.ev.stop() // the callbacks queued so far run before Close returns
	close(c.done)
}

// giveUpError is the error the client stops with when the retry operator ends with err.
func giveUpError(s *socket.Socket, err error) error {
	var ex *operators.RetryExhaustedError
	if errors.As(err, &ex) {
		return &ConnectError{Attempts: s.Attempts(), Last: ex.Last}
	}
	var te *TokenError
	return &ConnectError{Attempts: s.Attempts(), Last: err, Permanent: !s.Opened() && !errors.As(err, &te)}
}

// Done is closed when the client has stopped: after Close, or when
// reconnect attempts ran out (then [Client.Err] says why).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the client stopped on its own, a [*ConnectError] (a
// permanent rejection, or reconnects exhausted); nil while running and
// after a user Close.
func (c *Client) Err() error {
	if err := c.sock.Err(); err != nil {
		return giveUpError(c.sock, err)
	}
	return nil
}

// State returns the current connection state.
func (c *Client) State() State { return State(c.sock.State()) }

// States is the hot stream of connection state changes.
func (c *Client) States() stream.Stream[StateChange] { return c.ev.states.Stream() }

// Errors is the hot stream of non-fatal errors: malformed frames,
// connection losses (*ReconnectError), token provider failures.
func (c *Client) Errors() stream.Stream[error] { return c.ev.errs.Stream() }

// Heartbeats is the hot stream of heartbeat steps.
func (c *Client) Heartbeats() stream.Stream[HeartbeatEvent] { return c.ev.heartbeats.Stream() }

// Messages is the hot stream of every incoming message, on every topic.
// Payloads are not bounded in depth (see [Channel.Messages]).
func (c *Client) Messages() stream.Stream[phoenix.Message] { return c.sock.Messages() }

// Topic is the hot stream of the messages on one topic. Creating it costs
// a map entry; it owns no goroutine until observed.
func (c *Client) Topic(topic string) stream.Stream[phoenix.Message] { return c.sock.Topic(topic) }

// Stats returns a snapshot of the client's counters and gauges. It is cheap and safe to call from a
// metrics collector at any time.
func (c *Client) Stats() Stats {
	k := c.sock.Counters()
	return Stats{
		FramesIn: k.FramesIn, BytesIn: k.BytesIn, FramesOut: k.FramesOut, BytesOut: k.BytesOut,
		DecodeErrors: k.DecodeErrors + c.ev.undecoded.Load(), Dropped: c.ev.dropped.Load(),
		SlowConsumers: c.ev.slow.Load(), Reconnects: k.Reconnects,
		PushTimeouts:  k.PushTimeouts,
		OfflineBuffer: k.OfflineBuffer, Channels: c.reg.count(), State: c.State(),
		ChannelStatuses:      c.reg.statuses(),
		Traffic:              trafficOf(c.sock.Traffic()),
		NotificationsDropped: c.ev.notify.dropped.Load(), CallbackPanics: c.ev.notify.panics.Load(),
	}
}
