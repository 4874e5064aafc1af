package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by [Dial] and [Upgrade] unless overridden by an [Option].
const (
	// DefaultMaxFrameSize bounds an incoming frame or fragmented message:
	// 5 MiB, at least the 5 000 000 bytes Supabase Realtime allows.
	DefaultMaxFrameSize = 5 * 1024 * 1024
	// DefaultWriteTimeout bounds every frame write (and the close handshake
	// write of Close) when the context has no earlier deadline.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultReadBufferSize is the size of the buffered reader frames are
	// parsed from.
	DefaultReadBufferSize = 16 << 10
	// DefaultWriteBufferSize is the size of the buffered writer frames are
	// assembled (and, client side, masked) in.
	DefaultWriteBufferSize = 4 << 10
)

// Option configures [Dial] or [Upgrade].
type Option func(*options)

type options struct {
	tlsConfig       *tls.Config
	header          http.Header
	host            string
	query           []string // alternating key and value, unescaped
	maxFrameSize    int64
	writeTimeout    time.Duration
	readBufferSize  int
	writeBufferSize int
	netDial         func(ctx context.Context, network, addr string) (net.Conn, error)
	secrets         func() []string // WithSecrets
	err             error           // first invalid option
}

func buildOptions(opts []Option) options {
	o := options{
		maxFrameSize:    DefaultMaxFrameSize,
		writeTimeout:    DefaultWriteTimeout,
		readBufferSize:  DefaultReadBufferSize,
		writeBufferSize: DefaultWriteBufferSize,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

func (o *options) fail(format string, args ...any) {
	if o.err == nil {
		o.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
	}
}

// WithTLSConfig sets the TLS configuration used for wss:// URLs. Without it,
// the server certificate is verified against the system roots and the URL's
// host name. If cfg.ServerName is empty, a clone with the URL's host name is
// used. Ignored by [Upgrade].
func WithTLSConfig(cfg *tls.Config) Option {
	return func(o *options) { o.tlsConfig = cfg }
}

// WithHeader adds a header to the handshake: to the upgrade request for
// [Dial] (for example "x-api-key"), to the 101 response for [Upgrade].
// It may be repeated, also with the same key. "Host" overrides the Host header
// of the request. Headers that drive the WebSocket handshake itself (Upgrade,
// Connection, Sec-WebSocket-*) cannot be set. Values are never printed in
// errors.
func WithHeader(key, value string) Option {
	return func(o *options) {
		if reason := headerProblem(key, value); reason != "" {
			o.fail("%s", reason)
			return
		}
		ck := http.CanonicalHeaderKey(key)
		if ck == "Host" {
			o.host = value
			return
		}
		if o.header == nil {
			o.header = make(http.Header)
		}
		o.header.Add(ck, value)
	}
}

// CheckHeader reports why [WithHeader] would refuse key and value, or nil:
// a name that is not an HTTP token, a value with CR, LF or NUL, or a header
// the WebSocket handshake manages itself. The error does not print the
// value.
func CheckHeader(key, value string) error {
	if reason := headerProblem(key, value); reason != "" {
		return errors.New("transport: " + reason)
	}
	return nil
}

// headerProblem is why WithHeader refuses key and value, or "".
func headerProblem(key, value string) string {
	if !validHeaderKey(key) {
		return fmt.Sprintf("header name %q is not an HTTP token", key)
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Sprintf("value of header %q contains CR, LF or NUL", key)
	}
	ck := http.CanonicalHeaderKey(key)
	if ck == "Upgrade" || ck == "Connection" || strings.HasPrefix(ck, "Sec-Websocket-") {
		return fmt.Sprintf("header %q is managed by the WebSocket handshake", ck)
	}
	return ""
}

// WithNetDialer makes [Dial] open its connection with dial instead of a
// net.Dialer: a proxy, a custom resolver, or an in-memory pipe in tests
// (net.Pipe under testing/synctest). For wss:// URLs TLS still runs on
// top of the returned connection. Ignored by [Upgrade].
func WithNetDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.netDial = dial }
}

// WithQuery appends key=value (query-escaped) to the URL given to [Dial],
// after the parameters already in it, in call order. It may be repeated.
// The query string is never printed in errors. Ignored by [Upgrade].
func WithQuery(key, value string) Option {
	return func(o *options) {
		if key == "" {
			o.fail("empty query parameter name")
			return
		}
		o.query = append(o.query, key, value)
	}
}

// AppendQuery returns rawQuery (a URL's RawQuery, kept as is) followed by
// the pairs of kv, alternating keys and values, each query-escaped and
// joined with '&', in order: the query [WithQuery] builds. A trailing key
// without a value is ignored.
func AppendQuery(rawQuery string, kv ...string) string {
	var b strings.Builder
	b.WriteString(rawQuery)
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

// WithMaxFrameSize bounds the payload of an incoming frame, and the total of
// a fragmented message, to n bytes (default [DefaultMaxFrameSize]). A larger
// one makes [Conn.ReadFrame] fail with a [*FrameTooLargeError] without
// allocating it, and the connection is closed with 1009. n must be positive.
func WithMaxFrameSize(n int64) Option {
	return func(o *options) {
		if n <= 0 {
			o.fail("max frame size %d is not positive", n)
			return
		}
		o.maxFrameSize = n
	}
}

// WithWriteTimeout bounds each frame write (default [DefaultWriteTimeout]);
// an earlier context deadline wins. It also bounds the close frame write of
// [Conn.Close] and the replies (pong, close) ReadFrame writes. d must be
// positive.
func WithWriteTimeout(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.fail("write timeout %v is not positive", d)
			return
		}
		o.writeTimeout = d
	}
}

// WithReadBufferSize sets the size of the buffered reader (default
// [DefaultReadBufferSize]). Larger buffers mean fewer read system calls when
// frames arrive in bursts. n must be at least 256.
func WithReadBufferSize(n int) Option {
	return func(o *options) {
		if n < 256 {
			o.fail("read buffer size %d is below 256", n)
			return
		}
		o.readBufferSize = n
	}
}

// WithWriteBufferSize sets the size of the buffered writer (default
// [DefaultWriteBufferSize]). n must be at least 256.
func WithWriteBufferSize(n int) Option {
	return func(o *options) {
		if n < 256 {
			o.fail("write buffer size %d is below 256", n)
			return
		}
		o.writeBufferSize = n
	}
}

// validHeaderKey reports whether k is a non-empty RFC 7230 token.
func validHeaderKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// WithSecrets gives Dial more secrets to remove ([Redact]) from what the peer says — a rejected
// handshake's body and message, a close frame's reason — besides what the request itself carries (its
// query and header values): a client's access tokens, say, which a server may echo though the handshake
// did not carry them. secrets is called when such a text arrives, so it may return tokens handed out
// after the dial.
func WithSecrets(secrets func() []string) Option {
	return func(o *options) { o.secrets = secrets }
}
