package source

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Defaults, matching realtime-js where it has one.
const (
	DefaultHeartbeatInterval = 25 * time.Second
	DefaultPushTimeout       = 10 * time.Second
	DefaultSendBuffer        = 100
	DefaultMaxFrameSize      = 5 * 1024 * 1024
	// DefaultConsumerWait and DefaultConsumerWaitTotal bound how long the socket's reader waits for a
	// consumer whose mailbox is full: each time, and in all until the consumer has caught up (see
	// WithConsumerWait and the package documentation, "Backpressure").
	DefaultConsumerWait      = 100 * time.Millisecond
	DefaultConsumerWaitTotal = time.Second
)

// DefaultReconnectBackoff is the socket's reconnect schedule: the zero
// [operators.ExponentialBackoff], 1 s doubling up to 10 s (1, 2, 4, 8, 10,
// 10 s... close to realtime-js's 1, 2, 5, 10 s) with full jitter, so that
// clients dropped together by a server restart do not come back together.
// Channels rejoin on [DefaultRejoinBackoff]; both are described together
// in package operators (see [operators.RealtimeReconnect]).
var DefaultReconnectBackoff operators.Backoff = operators.ExponentialBackoff{}

// defaultSerializer is vsn 2.0.0 with lazy payloads: the reader finds a
// payload's bounds without a pass over it; whoever decodes the payload
// checks it (see phoenix.WithLazyPayloads).
var defaultSerializer = phoenix.NewV2(phoenix.WithLazyPayloads())

// TokenProvider returns the access token (a JWT) to use. It is called
// before every connect and reconnect, before each rejoin, after every
// heartbeat, and before the current token expires (see [WithAccessToken]).
// It should be cheap when its token is still fresh (return a cached one),
// and return when ctx ends: before a dial it is given the dial timeout
// ([WithDialTimeout]) as ctx's bound.
type TokenProvider func(ctx context.Context) (string, error)

// Option configures a [Client].
type Option func(*config)

type config struct {
	apiKey            string
	apiKeyHeader      bool
	params            [][2]string
	headers           [][2]string
	logLevel          string
	serializer        phoenix.Serializer
	heartbeatInterval time.Duration
	heartbeatTimeout  time.Duration
	pushTimeout       time.Duration
	sendBuffer        int
	maxFrameSize      int64
	consumerWait      [2]time.Duration // WithConsumerWait: each, total
	backoff           operators.Backoff
	maxReconnects     int
	tls               *tls.Config
	token             TokenProvider
	anonymousFallback bool
	logger            *slog.Logger
	metrics           Metrics
	onError           func(error)
	dialTimeout       time.Duration
	idleAfter         time.Duration // WithIdleDisconnect; 0: never
	httpClient        *http.Client  // for the REST API (Client.REST); nil: http.DefaultClient's settings
	netDial           func(ctx context.Context, network, addr string) (net.Conn, error)
	joinLimiter       *JoinLimiter         // WithJoinRate, WithJoinLimiter; nil: joins are not paced
	channelsPerSocket int                  // WithChannelsPerSocket (Pool only); 0: DefaultChannelsPerSocket
	traffic           socket.TrafficLimits // WithTrafficByTopic; zero: off
	err               error                // the first invalid option, reported by New
}

// fail records the first invalid option: New returns it, wrapping
// ErrInvalidOption and naming the option.
func (c *config) fail(option, format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w %s: "+format, append([]any{ErrInvalidOption, option}, args...)...)
	}
}

func defaultConfig() config {
	return config{
		serializer:        defaultSerializer,
		heartbeatInterval: DefaultHeartbeatInterval,
		pushTimeout:       DefaultPushTimeout,
		sendBuffer:        DefaultSendBuffer,
		maxFrameSize:      DefaultMaxFrameSize,
		consumerWait:      [2]time.Duration{DefaultConsumerWait, DefaultConsumerWaitTotal},
		backoff:           DefaultReconnectBackoff,
		dialTimeout:       10 * time.Second,
	}
}

// WithAPIKey sets the project's API key, sent as the apikey query
// parameter (as realtime-js does). It is never logged.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithAPIKeyHeader sends the API key in the x-api-key handshake header
// instead of the query string, keeping it out of URLs and proxy logs.
func WithAPIKeyHeader() Option { return func(c *config) { c.apiKeyHeader = true } }

// WithParam adds a query parameter to the socket URL. Repeatable. key
// must not be empty.
func WithParam(key, value string) Option {
	return func(c *config) {
		switch key {
		case "":
			c.fail("WithParam", "empty query parameter name")
			return
		case "vsn", "apikey", "log_level":
			// The client sets these from its serializer, WithAPIKey and WithServerLogLevel; a second
			// value would make the server disagree with the client (a vsn the client does not speak).
			c.fail("WithParam", "%q is set by the client (WithSerializer, WithAPIKey, WithServerLogLevel)", key)
			return
		}
		c.params = append(c.params, [2]string{key, value})
	}
}

// WithHeader adds a handshake header. Repeatable. The header must be one
// [transport.WithHeader] accepts (see [transport.CheckHeader]).
func WithHeader(key, value string) Option {
	return func(c *config) {
		if err := transport.CheckHeader(key, value); err != nil {
			c.fail("WithHeader", "%v", err)
			return
		}
		c.headers = append(c.headers, [2]string{key, value})
	}
}

// WithServerLogLevel sets the log_level query parameter, the level at
// which the server logs this connection: "info", "warning" or "error" (""
// leaves it out). The client's own logging is [WithLogger].
func WithServerLogLevel(level string) Option {
	return func(c *config) {
		switch level {
		case "", "info", "warning", "error":
			c.logLevel = level
		default:
			c.fail("WithServerLogLevel", "level %q is not info, warning or error", level)
		}
	}
}

// WithSerializer selects the wire format. The default is vsn 2.0.0, as in
// realtime-js: phoenix.NewV2(phoenix.WithLazyPayloads()). For vsn 1.0.0,
// phoenix.V1Lazy is the fast choice (phoenix.V1 checks every payload on
// the reader as well as in its consumer). s must not be nil.
func WithSerializer(s phoenix.Serializer) Option {
	return func(c *config) {
		if s == nil {
			c.fail("WithSerializer", "nil serializer")
			return
		}
		c.serializer = s
	}
}

// WithHeartbeat sets the heartbeat interval and the time to wait for its
// reply. A zero timeout means "equal to the interval", as in realtime-js.
// interval must be positive, timeout not negative.
func WithHeartbeat(interval, timeout time.Duration) Option {
	return func(c *config) {
		switch {
		case interval <= 0:
			c.fail("WithHeartbeat", "interval %v is not positive", interval)
		case timeout < 0:
			c.fail("WithHeartbeat", "timeout %v is negative", timeout)
		default:
			c.heartbeatInterval, c.heartbeatTimeout = interval, timeout
		}
	}
}

// WithPushTimeout sets how long a push waits for its reply (default 10 s).
// d must be positive.
func WithPushTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("WithPushTimeout", "timeout %v is not positive", d)
			return
		}
		c.pushTimeout = d
	}
}

// WithSendBuffer bounds the number of pushes held while the socket is
// down (default 100). A push that finds the buffer full fails with
// [ErrSendBufferFull]. 0 buffers nothing; n must not be negative.
//
// While the socket is up, pushes are queued for the socket's writer, which
// writes everything queued with one flush; that queue has its own bound
// (256 KiB or 4096 messages), and a push that finds it full waits for room,
// as long as its ctx allows. Pushes the writer had not written when the
// socket was lost go back to the front of the offline buffer, past this
// bound, and are sent on reconnect.
func WithSendBuffer(n int) Option {
	return func(c *config) {
		if n < 0 {
			c.fail("WithSendBuffer", "size %d is negative", n)
			return
		}
		c.sendBuffer = n
	}
}

// WithMaxFrameSize bounds incoming frames (default 5 MB, the server's own
// limit). n must be positive.
func WithMaxFrameSize(n int64) Option {
	return func(c *config) {
		if n <= 0 {
			c.fail("WithMaxFrameSize", "size %d is not positive", n)
			return
		}
		c.maxFrameSize = n
	}
}

// WithConsumerWait bounds how long the socket's reader waits for a consumer of the socket's streams whose
// mailbox is full: each time for at most each (default [DefaultConsumerWait], 100 ms), and in all for at
// most total (default [DefaultConsumerWaitTotal], 1 s) until the consumer has caught up. A consumer that
// makes room meanwhile loses nothing and is not reported, and TCP slows the server down while the reader
// waits. One that takes nothing for each (it stopped reading), or still has not caught up after total,
// is a slow consumer: the reader stops waiting for it until it has caught up. So a consumer that stops
// delays the socket's other traffic — other channels, replies, heartbeats — once, by at most each; one that
// reads, but more slowly than messages keep coming, makes the reader wait at most total per mailbox-full
// of messages it takes, and so slows the whole socket to its pace as long as it takes a mailbox-full
// (DefaultStreamBuffer, or stream.WithBuffer's size) within total. each 0 never waits: a full mailbox makes its consumer slow at once. Neither may be negative, nor total below
// each. Both are capped at a quarter of the heartbeat timeout (WithHeartbeat), so that waiting for one
// consumer cannot make a heartbeat time out; with the default heartbeat (25 s) the cap does not apply.
func WithConsumerWait(each, total time.Duration) Option {
	return func(c *config) {
		switch {
		case each < 0:
			c.fail("WithConsumerWait", "wait %v is negative", each)
		case total < each:
			c.fail("WithConsumerWait", "total %v is below each wait %v", total, each)
		default:
			c.consumerWait = [2]time.Duration{each, total}
		}
	}
}

// WithReconnectBackoff sets the delay schedule between reconnect attempts
// (default [DefaultReconnectBackoff]). b must not be nil.
func WithReconnectBackoff(b operators.Backoff) Option {
	return func(c *config) {
		if b == nil {
			c.fail("WithReconnectBackoff", "nil backoff")
			return
		}
		c.backoff = b
	}
}

// WithMaxReconnects bounds consecutive failed reconnect attempts; 0 (the
// default) retries forever. When they run out the client closes and
// [Client.Done] reports the cause. n must not be negative.
func WithMaxReconnects(n int) Option {
	return func(c *config) {
		if n < 0 {
			c.fail("WithMaxReconnects", "count %d is negative", n)
			return
		}
		c.maxReconnects = n
	}
}

// WithTLSConfig sets the TLS configuration for wss:// URLs. Certificates
// are verified by default; nil keeps the default.
func WithTLSConfig(t *tls.Config) Option { return func(c *config) { c.tls = t } }

// WithDialTimeout bounds each dial and handshake (default 10 s). d must
// be positive.
func WithDialTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("WithDialTimeout", "timeout %v is not positive", d)
			return
		}
		c.dialTimeout = d
	}
}

// WithDialer makes the client open its TCP connections with dial: a
// proxy, a custom resolver, or realtimetest's in-memory pipe
// (Server.DialPipe) for tests under testing/synctest (the example of
// realtimetest.WithPipe is such a test). nil keeps a net.Dialer.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(c *config) { c.netDial = dial }
}

// WithAccessToken sets the provider of the user's access token. It is
// called before every (re)connect and before every channel rejoin, so
// joins carry a fresh token; and while a connection is open it is asked
// again after every heartbeat (as realtime-js does) and, when the token is
// a JWT whose exp can be read (it is decoded, not verified), before it
// expires: at exp minus 10% of its lifetime, or minus 5 s (at most half the
// lifetime) if that is earlier. A token that changed is pushed
// (access_token) to every joined channel, so the server never closes a
// channel for an expired token while the provider has a fresh one. An
// error from the provider is reported as a [*TokenError] and the last good
// token kept. While the client has no token at all (the provider never
// gave one, and [Client.SetAuth] was not called), an error, or no answer
// within the dial timeout, fails the connection attempt instead, before
// anything is dialled: [Client.Connect] returns the *TokenError at once
// rather than connect without a token (as anon, whom row-level security
// shows less), unless [WithAnonymousFallback] allows that. nil (the
// default) sets no provider.
func WithAccessToken(p TokenProvider) Option { return func(c *config) { c.token = p } }

// WithAnonymousFallback lets the client connect without an access token when its token provider
// ([WithAccessToken]) fails, or does not return within the dial timeout, before it ever gave a token:
// channels then join with the API key's role (anon), and row-level security hides from them what that
// role may not see. The failure is still reported as a [*TokenError]. Without it (the default) such a
// failure fails the connection attempt: [Client.Connect] returns it at once, before anything is dialled.
func WithAnonymousFallback() Option { return func(c *config) { c.anonymousFallback = true } }

// WithLogger sets the structured logger. Secrets never reach it. nil
// (the default) logs nothing.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithMetrics sets the metrics hooks. nil (the default) sets none.
func WithMetrics(m Metrics) Option { return func(c *config) { c.metrics = m } }

// WithTrafficByTopic counts the messages and bytes received and sent by
// topic and event, in [Stats].Traffic, where the metrics adapters read
// them. It is off by default: the socket's reader then pays one branch per
// frame. On, a message costs a lock and two map lookups, without
// allocating.
//
// The event is the Phoenix event (postgres_changes, presence_diff,
// phx_reply, heartbeat...) or, for a broadcast, the broadcast's own event
// name: a string of the application's, so the series are bounded. At most
// maxTopics topics are counted under their names, and for each topic at
// most maxEvents events; the messages of later topics count under the
// topic [TrafficOther], those of later events under the event
// TrafficOther of their topic. A client then holds at most (maxTopics + 1)
// × (maxEvents + 1) series; each socket of a [Pool] has its own. Both
// limits must be positive.
func WithTrafficByTopic(maxTopics, maxEvents int) Option {
	return func(c *config) {
		if maxTopics <= 0 || maxEvents <= 0 {
			c.fail("WithTrafficByTopic", "limits %d topics, %d events are not positive", maxTopics, maxEvents)
			return
		}
		c.traffic = socket.TrafficLimits{Topics: maxTopics, Events: maxEvents}
	}
}

// WithErrorHandler sets a callback for every non-fatal error (malformed
// frame, failed reconnect, heartbeat timeout...). The same errors are on
// [Client.Errors]. nil (the default) sets none.
func WithErrorHandler(f func(error)) Option { return func(c *config) { c.onError = f } }

// WithHTTPClient sets the HTTP client of the client's REST API calls
// ([Client.REST], [ViaRESTIfNotJoined]): its transport, proxy and timeouts.
// nil means the default.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.httpClient = hc } }

// WithJoinRate paces the client's joins and rejoins: burst at once, then
// perSecond a second (see [JoinLimiter]). The limiter is made when
// WithJoinRate is called, so clients given the same Option value share one
// budget. A rate that is not positive or a burst under 1 makes [New] fail.
// By default a [Client] does not pace its joins; a [Pool] paces them at
// [DefaultPoolJoinRate].
func WithJoinRate(perSecond float64, burst int) Option {
	l, err := NewJoinLimiter(perSecond, burst)
	return func(c *config) {
		if err != nil {
			c.fail("WithJoinRate", "rate %v per second with burst %d: need a positive rate and a burst of at least 1", perSecond, burst)
			return
		}
		c.joinLimiter = l
	}
}

// WithJoinLimiter paces the client's joins and rejoins with l, which may be
// shared with other clients (see [JoinLimiter]). nil turns pacing off.
func WithJoinLimiter(l *JoinLimiter) Option { return func(c *config) { c.joinLimiter = l } }
