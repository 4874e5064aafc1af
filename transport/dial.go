package transport

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gobwas/ws"
)

// Dial opens a client WebSocket connection to rawURL (ws:// or wss://).
//
// ctx bounds the whole dial: DNS, TCP connect, TLS and the HTTP upgrade. It
// does not affect the returned connection afterwards.
//
// A server answering with a status other than 101 yields a [*HandshakeError]
// carrying the status, the headers and the first [MaxHandshakeBody] bytes of
// the body. Every other failure is a [*DialError]. Neither ever prints the
// query string, user info or header values, so both are safe to log even when
// rawURL carries an API key.
func Dial(ctx context.Context, rawURL string, opts ...Option) (*Conn, error) {
	o := buildOptions(opts)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &DialError{Err: stripURLError(err)}
	}
	redacted := redactURL(u)
	if u.Scheme != "ws" && u.Scheme != "wss" || u.Host == "" || u.Opaque != "" {
		return nil, &DialError{URL: redacted, Err: ErrBadURL}
	}
	if o.err != nil {
		return nil, &DialError{URL: redacted, Err: o.err}
	}
	u.Fragment, u.RawFragment = "", ""
	if len(o.query) > 0 {
		u.RawQuery = AppendQuery(u.RawQuery, o.query...)
	}

	var rejected *HandshakeError
	secrets := requestSecrets(u, o.header)
	if o.secrets != nil {
		secrets = append(secrets, o.secrets()...)
	}
	d := ws.Dialer{
		ReadBufferSize: o.readBufferSize,
		Host:           o.host,
		TLSConfig:      o.tlsConfig,
		NetDial:        o.netDial,
		OnStatusError: func(status int, _ []byte, resp io.Reader) {
			rejected = readRejection(status, resp, secrets)
		},
	}
	if o.header != nil {
		d.Header = ws.HandshakeHeaderHTTP(o.header)
	}
	if deadline, ok := ctx.Deadline(); ok {
		// gobwas bounds the handshake with ctx already; Timeout makes the
		// connect use the same bound even through its own code paths.
		d.Timeout = time.Until(deadline)
		if d.Timeout <= 0 {
			return nil, &DialError{URL: redacted, Err: context.DeadlineExceeded}
		}
	}
	nc, br, _, err := d.Dial(ctx, u.String())
	if err != nil {
		if rejected != nil {
			rejected.URL = redacted
			return nil, rejected
		}
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = errors.Join(ctxErr, err)
		}
		return nil, &DialError{URL: redacted, Err: stripURLError(err)}
	}
	if br == nil {
		br = bufio.NewReaderSize(nc, o.readBufferSize)
	}
	// else: the server sent frames right after the handshake and they sit in
	// br (a pooled reader of the size we asked for); keep reading from it.
	c := newConn(nc, br, true, o)
	c.secrets = func() []string { // read when a close reason arrives: it may name a token given since
		if o.secrets == nil {
			return secrets
		}
		return append(slices.Clip(secrets), o.secrets()...)
	}
	return c, nil
}

// requestSecrets are the values the handshake request carries that a server
// may echo: every query parameter value (the API key among them) and every
// header value given with WithHeader. [Redact] ignores the short ones.
func requestSecrets(u *url.URL, h http.Header) []string {
	var out []string
	for _, vs := range u.Query() {
		out = append(out, vs...)
	}
	for _, vs := range h {
		for _, v := range vs {
			out = append(out, v)
			if _, cred, ok := strings.Cut(v, " "); ok { // "Bearer <token>"
				out = append(out, cred)
			}
		}
	}
	return out
}

// readRejection parses a non-101 handshake response into a HandshakeError.
// A response that cannot be parsed still yields the status code. What the
// request sent (secrets) is removed from the body and the message.
func readRejection(status int, resp io.Reader, secrets []string) *HandshakeError {
	e := &HandshakeError{StatusCode: status}
	r, err := http.ReadResponse(bufio.NewReader(resp), nil)
	if err != nil {
		return e
	}
	// No r.Body.Close: it would drain the whole body; the connection is
	// closed by the dialer right after.
	e.Header = r.Header
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxHandshakeBody))
	if len(body) > 0 {
		e.Body = RedactBytes(body, secrets...)
		e.Message, e.bodyErr = handshakeMessage(body, secrets)
	}
	return e
}
