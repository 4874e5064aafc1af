package source

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by operations on a client the user closed.
	ErrClosed = errors.New("rxrealtime: client closed")
	// ErrPushTimeout means no reply arrived within the push timeout.
	ErrPushTimeout = errors.New("rxrealtime: push timed out waiting for a reply")
	// ErrSendBufferFull means the socket is down and the offline buffer is
	// full: the push was not queued.
	ErrSendBufferFull = errors.New("rxrealtime: offline send buffer full")
	// ErrHeartbeatTimeout is the cause of a reconnect after a heartbeat got
	// no reply in time (a dead or half-open connection).
	ErrHeartbeatTimeout = errors.New("rxrealtime: heartbeat timeout")
	// ErrReply is wrapped by every [*ReplyError].
	ErrReply = errors.New("rxrealtime: server replied with an error")
	// ErrConnectionLost is wrapped by errors of pushes whose socket dropped
	// after they were sent but before their reply arrived.
	ErrConnectionLost = errors.New("rxrealtime: connection lost before the reply")
	// ErrInvalidURL reports an endpoint that is not a ws://, wss://, http://
	// or https:// URL.
	ErrInvalidURL = errors.New("rxrealtime: invalid endpoint URL")
)

// ReplyError is a reply whose status is not "ok". Reason holds the
// server's reason when the response has one (for example
// "unmatched topic" or "Unauthorized: ...").
type ReplyError struct {
	Topic    string
	Event    string
	Status   string
	Reason   string
	Response []byte
}

func (e *ReplyError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("rxrealtime: %s on %q: %s: %s", e.Event, e.Topic, e.Status, e.Reason)
	}
	return fmt.Sprintf("rxrealtime: %s on %q: %s", e.Event, e.Topic, e.Status)
}

// Unwrap makes errors.Is(err, ErrReply) true.
func (e *ReplyError) Unwrap() error { return ErrReply }

// ReconnectError is published on [Client.Errors] when a session ends
// without the user asking: Cause says why (a *transport.CloseError with
// the server's code, ErrHeartbeatTimeout, a network error...).
type ReconnectError struct {
	Attempt int
	Cause   error
}

func (e *ReconnectError) Error() string {
	return fmt.Sprintf("rxrealtime: connection lost (reconnect attempt %d): %v", e.Attempt, e.Cause)
}

// Unwrap returns the cause.
func (e *ReconnectError) Unwrap() error { return e.Cause }

// TokenError reports a failure of the access-token provider. The previous
// token stays in use.
type TokenError struct{ Err error }

func (e *TokenError) Error() string { return "rxrealtime: access token provider: " + e.Err.Error() }

// Unwrap returns the provider's error.
func (e *TokenError) Unwrap() error { return e.Err }

// UnsentError reports a push made with NoReply (or an unacknowledged
// broadcast) that was still in the offline buffer when the client stopped:
// its caller was told it was queued, and this says it never went out. It
// is published on [Client.Errors] and to the error handler.
type UnsentError struct {
	Topic string
	Event string
	Err   error
}

func (e *UnsentError) Error() string {
	return fmt.Sprintf("rxrealtime: %s on %q was never sent: %v", e.Event, e.Topic, e.Err)
}

// Unwrap returns why the client stopped (ErrClosed after Close).
func (e *UnsentError) Unwrap() error { return e.Err }
