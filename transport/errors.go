package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// ErrClosed is returned (possibly wrapped) by every method of a [Conn] after
// the local side closed it with [Conn.Close] or [Conn.CloseNow]. It wraps
// [net.ErrClosed], so errors.Is(err, net.ErrClosed) holds as well.
//
// A connection closed by the peer or lost on the network reports a
// [*CloseError] instead, so callers can tell "I hung up" from "they hung up".
var ErrClosed = fmt.Errorf("transport: connection closed locally: %w", net.ErrClosed)

// ErrFrameTooLarge is matched (errors.Is) by the [*FrameTooLargeError] that
// [Conn.ReadFrame] returns when the peer sends a frame or a fragmented message
// larger than the limit set with [WithMaxFrameSize].
var ErrFrameTooLarge = errors.New("transport: incoming frame too large")

// ErrProtocol is matched (errors.Is) by every error caused by the peer
// violating RFC 6455 framing (masked server frames, reserved op codes or bits,
// unexpected continuation frames, malformed close frames, ...). The connection
// is failed with close code 1002 when this happens.
var ErrProtocol = errors.New("transport: websocket protocol violation")

// ErrControlTooLarge is returned by [Conn.Ping] when the payload is longer than
// the 125 bytes RFC 6455 allows in a control frame.
var ErrControlTooLarge = errors.New("transport: control frame payload longer than 125 bytes")

// ErrInvalidOption is matched (errors.Is) by the error [Dial] or [Upgrade]
// returns when an [Option] was given an unusable value (for example a header
// name that is not an HTTP token, or a negative size).
var ErrInvalidOption = errors.New("transport: invalid option")

// CloseError reports that the connection ended.
//
// When the peer sent a close frame, Code and Reason are what it sent (Code is
// [StatusNoStatus] for a close frame without a status code) and Err is nil.
//
// When the connection was lost without a close frame (EOF, reset, a failed
// write, a deadline set through [Conn.NetConn]), Code is [StatusAbnormal]
// (1006, a code that is never sent on the wire) and Err holds the underlying
// network error, reachable with errors.Is / errors.As. Use [CloseError.Abnormal]
// to tell the two cases apart.
type CloseError struct {
	// Code is the close code the peer sent, or StatusAbnormal.
	Code StatusCode
	// Reason is the UTF-8 reason the peer sent; empty for StatusAbnormal. On a dialled connection what
	// the dial sent (query and header values) and anything shaped like a JWT are removed from it ([Redact]).
	Reason string
	// Err is the network error behind a StatusAbnormal closure, nil otherwise.
	Err error
}

// Error implements error. It includes the code, its name and the reason.
func (e *CloseError) Error() string {
	if e.Abnormal() {
		if e.Err != nil {
			return "transport: connection lost without close frame (1006 abnormal closure): " + e.Err.Error()
		}
		return "transport: connection lost without close frame (1006 abnormal closure)"
	}
	s := "transport: closed by peer: " + e.Code.String()
	if e.Reason != "" {
		s += " " + strconv.Quote(e.Reason)
	}
	return s
}

// Unwrap returns the network error behind an abnormal closure, or nil.
func (e *CloseError) Unwrap() error { return e.Err }

// Abnormal reports whether the connection was lost without a close frame from
// the peer (Code == StatusAbnormal).
func (e *CloseError) Abnormal() bool { return e.Code == StatusAbnormal }

// FrameTooLargeError is returned by [Conn.ReadFrame] when the peer announces a
// frame (or a fragmented message totalling) more than Limit bytes. The payload
// is never allocated: the check is made on the frame header. The connection is
// failed with close code 1009 ([StatusMessageTooBig]).
type FrameTooLargeError struct {
	// Size is the announced frame length, or the running total of a
	// fragmented message including the announced length of the frame that
	// crossed the limit.
	Size int64
	// Limit is the configured maximum (see WithMaxFrameSize).
	Limit int64
}

// Error implements error.
func (e *FrameTooLargeError) Error() string {
	return "transport: incoming frame too large: " + strconv.FormatInt(e.Size, 10) +
		" bytes, limit " + strconv.FormatInt(e.Limit, 10)
}

// Is makes errors.Is(err, ErrFrameTooLarge) hold.
func (e *FrameTooLargeError) Is(target error) bool { return target == ErrFrameTooLarge }

// protocolError is a framing violation by the peer; it matches ErrProtocol.
type protocolError struct{ msg string }

func (e *protocolError) Error() string        { return "transport: websocket protocol violation: " + e.msg }
func (e *protocolError) Is(target error) bool { return target == ErrProtocol }

// HandshakeError is returned by [Dial] when the server answers the upgrade
// request with a status other than 101 Switching Protocols (for Supabase
// Realtime: 401, 403, 404, 429 or 500 with a JSON body such as
// {"error":"..."}).
//
// Its Error method prints the status, the redacted URL (scheme, host and path only) and the server's
// short explanation (Message, from the JSON body's "error" or "message", at most 200 printable bytes); it
// never prints the raw body, the headers or the query string, so it is safe to log. Body and Message have
// what the request sent (its query values, the API key among them, and its header values) and anything
// shaped like a JWT removed ([Redact]), in case the server echoes them. Inspect Body and Header
// explicitly if needed.
type HandshakeError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Body is the beginning of the response body, at most MaxHandshakeBody
	// bytes.
	Body []byte
	// Header holds the response headers.
	Header http.Header
	// URL is the dialled URL reduced to scheme://host/path.
	URL string
	// Message is the server's explanation: the "error" (or "message") string of a JSON body such as
	// Supabase Realtime's {"error":"API key is missing"}, empty when the body has none or was not read.
	Message string

	bodyErr error // why Body was not read (it nests deeper than phoenix.MaxDepth), or nil
}

// maxHandshakeMessage bounds HandshakeError.Message.
const maxHandshakeMessage = 200

// MaxHandshakeBody caps how many bytes of a rejected handshake's response
// body are kept in [HandshakeError.Body].
const MaxHandshakeBody = 4 << 10

// Error implements error.
func (e *HandshakeError) Error() string {
	s := "transport: websocket handshake rejected"
	if e.URL != "" {
		s += " by " + e.URL
	}
	s += ": HTTP " + strconv.Itoa(e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		s += " " + t
	}
	if e.Message != "" {
		s += ": " + strconv.Quote(e.Message)
	}
	if e.bodyErr != nil {
		s += " (body not read: " + e.bodyErr.Error() + ")"
	}
	return s
}

// Temporary reports whether retrying the same request may succeed: a 5xx, 408 Request Timeout or 429 Too
// Many Requests. Any other status (401, 403, 404...) is the server's final word on this request.
func (e *HandshakeError) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests
}

// Unwrap returns why the body was not read: an error wrapping phoenix.ErrTooDeep when it nests deeper
// than phoenix.MaxDepth, else nil.
func (e *HandshakeError) Unwrap() error { return e.bodyErr }

// handshakeMessage extracts the "error" or "message" string of a JSON error body, printable, with secrets
// removed (Redact) and then cut to 200 bytes, so that no secret is half cut and left in. A body nested
// deeper than phoenix.MaxDepth is not decoded: err wraps phoenix.ErrTooDeep.
func handshakeMessage(body []byte, secrets []string) (msg string, err error) {
	if err := phoenix.CheckDepth(body); err != nil {
		return "", err
	}
	var v struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", nil
	}
	msg = v.Message
	if s, ok := v.Error.(string); ok && s != "" {
		msg = s
	}
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, msg)
	return Excerpt(Redact(msg, secrets...), maxHandshakeMessage), nil
}

// DialError wraps any failure of [Dial] other than a [*HandshakeError]:
// a malformed URL, DNS, TCP, TLS, a context deadline, a malformed handshake
// response. URL is redacted to scheme://host/path and the cause is stripped of
// any copy of the full URL, so the error is safe to log even though the real
// URL carries an API key.
type DialError struct {
	// URL is the dialled URL reduced to scheme://host/path (may be empty if
	// the URL could not be parsed at all).
	URL string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *DialError) Error() string {
	if e.URL == "" {
		return "transport: dial: " + e.Err.Error()
	}
	return "transport: dial " + e.URL + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *DialError) Unwrap() error { return e.Err }

// RedactURL reduces raw to scheme://host/path: no user info, no query, no
// fragment, so it can be logged without leaking credentials. An
// unparsable raw gives "<invalid url>".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid url>"
	}
	return redactURL(u)
}

// redactURL reduces u to scheme://host/path: no user info, no query, no
// fragment, so it can be printed without leaking credentials.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// stripURLError removes the *url.Error layers from err: their Error method
// prints the full URL, query string (and API key) included.
func stripURLError(err error) error {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) || ue.Err == nil {
			return err
		}
		if err == error(ue) {
			err = ue.Err
			continue
		}
		// The url.Error is nested inside another error: its message is part
		// of the outer message, so keep only the inner cause.
		return ue.Err
	}
}

// ErrBadURL is matched (errors.Is) by the [*DialError] Dial returns for a URL
// that is not an absolute ws:// or wss:// URL with a host.
var ErrBadURL = errors.New("transport: URL must be ws:// or wss:// with a host")
