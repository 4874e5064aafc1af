package rest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. A [*StatusError] matches the one for its status code.
var (
	// ErrUnauthorized: 401, a missing, invalid or expired JWT (or an
	// unknown tenant).
	ErrUnauthorized = errors.New("rest: unauthorized")
	// ErrForbidden: 403, a suspended tenant, or a private message the
	// token may not send.
	ErrForbidden = errors.New("rest: forbidden")
	// ErrNotFound: 404, a server without this endpoint (before v2.97.0
	// for the single-message endpoint) or a wrong base URL.
	ErrNotFound = errors.New("rest: not found")
	// ErrInvalid: 400, 413, 415 or 422, a message the server refused
	// (validation, payload size, content type).
	ErrInvalid = errors.New("rest: invalid request")
	// ErrRateLimited: 429, too many messages or requests; see
	// [StatusError.RetryAfter].
	ErrRateLimited = errors.New("rest: rate limited")
	// ErrServer: any 5xx.
	ErrServer = errors.New("rest: server error")
	// ErrInvalidMessage is matched by every [*MessageError]: a message
	// refused before sending.
	ErrInvalidMessage = errors.New("rest: invalid message")
	// ErrInvalidConfig is returned by [New] for an unusable base URL or
	// API key.
	ErrInvalidConfig = errors.New("rest: invalid configuration")
	// ErrPersistUnsupported is matched by the [*MessageError] of a
	// [Persist] or [PersistTTL] broadcast to a public channel (or with a
	// TTL under one second): only private channels store messages
	// (realtime-js's httpSend refuses it too).
	ErrPersistUnsupported = errors.New("rest: persist needs a private channel")
)

// StatusError is a response other than 2xx.
type StatusError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the server's explanation: the "message" or "error" field
	// of a JSON body, the "errors" object of a validation failure as
	// JSON, or the status text. Secrets are removed from it.
	Message string
	// RetryAfter is the Retry-After header's delay, or zero.
	RetryAfter time.Duration

	bodyErr error // why the body was not read (it nests deeper than phoenix.MaxDepth), or nil
}

// Error implements error.
func (e *StatusError) Error() string {
	s := "rest: broadcast: " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	if e.Message != "" && e.Message != http.StatusText(e.Status) {
		s += ": " + e.Message
	}
	if e.bodyErr != nil {
		s += " (body not read: " + e.bodyErr.Error() + ")"
	}
	return s
}

// Unwrap returns why the error body was not read: an error wrapping
// phoenix.ErrTooDeep when it nests deeper than phoenix.MaxDepth, else nil.
func (e *StatusError) Unwrap() error { return e.bodyErr }

// Is matches the sentinel error of the status code.
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrInvalid:
		switch e.Status {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			return true
		}
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrServer:
		return e.Status >= 500 && e.Status <= 599
	}
	return false
}

// MessageError is a message refused before sending.
type MessageError struct {
	// Index is the message's position in a batch, or -1 for a single
	// message.
	Index int
	// Field is "topic", "event", "payload" or "persist".
	Field string
	// Reason says what is wrong.
	Reason string
	// Err is the underlying error (a JSON encoding error), or nil.
	Err error
}

// Error implements error.
func (e *MessageError) Error() string {
	s := "rest: invalid message"
	if e.Index >= 0 {
		s += " " + strconv.Itoa(e.Index)
	}
	s += ": " + e.Field + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is [ErrInvalidMessage].
func (e *MessageError) Is(target error) bool { return target == ErrInvalidMessage }

// Unwrap returns the underlying error.
func (e *MessageError) Unwrap() error { return e.Err }

// redactedError hides secrets in the text of an error it wraps.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

const redacted = "[REDACTED]"

// redact replaces every secret in s.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

// scrub returns err, wrapped so that its text holds none of the secrets.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := redact(msg, secrets...); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

// URLError is a URL [ParseEndpoint] did not understand. URL is the input
// without its query, fragment and user info, which may hold secrets.
type URLError struct {
	URL    string
	Reason string
}

// Error implements error.
func (e *URLError) Error() string { return fmt.Sprintf("%q: %s", e.URL, e.Reason) }
