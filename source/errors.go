package source

import (
	"errors"
	"fmt"
	"strings"
	"time"
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
	// ErrInvalidOption is wrapped by the error [New] returns when an
	// [Option] was given an unusable value; the error names the first such
	// option ("rxrealtime: invalid option WithHeartbeat: interval 0s is not
	// positive").
	ErrInvalidOption = errors.New("rxrealtime: invalid option")
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
	Attempt int           // the reconnect attempt about to be made, from 1
	Delay   time.Duration // the backoff wait before it
	Cause   error
}

func (e *ReconnectError) Error() string {
	return fmt.Sprintf("rxrealtime: connection lost, reconnect attempt %d in %v: %v", e.Attempt, e.Delay.Round(time.Millisecond), e.Cause)
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

// ErrSlowConsumer is matched (errors.Is) by every [*SlowConsumerError].
var ErrSlowConsumer = errors.New("rxrealtime: slow consumer")

// SlowConsumerError reports that a consumer of a topic's streams fell behind: its mailbox was full when a
// message arrived. The socket did not wait for it (it never waits on a user): the consumer lost messages
// by its drop policy (Dropped counts them, over all its episodes), or, for a consumer that chose
// stream.Block, its mailbox grew past its buffer (Blocking). It is reported once per episode (see
// stream.SlowConsumer) on [Client.Errors], to the error handler, to the log at Warn and to [Metrics].
type SlowConsumerError struct {
	Topic    string // "realtime:<name>", or "" for a client-wide stream (Messages, AllChanges, ...)
	Queued   int    // messages queued for the consumer when the episode started
	Dropped  uint64
	Blocking bool
}

func (e *SlowConsumerError) Error() string {
	where := "a client-wide stream"
	if e.Topic != "" {
		where = fmt.Sprintf("a stream of %q", e.Topic)
	}
	if e.Blocking {
		return fmt.Sprintf("rxrealtime: slow consumer of %s: %d messages queued, mailbox growing (Block)", where, e.Queued)
	}
	return fmt.Sprintf("rxrealtime: slow consumer of %s: mailbox full at %d messages, %d dropped so far", where, e.Queued, e.Dropped)
}

// Is makes errors.Is(err, ErrSlowConsumer) true.
func (e *SlowConsumerError) Is(target error) bool { return target == ErrSlowConsumer }

// ChannelError is published on [Client.Errors], given to the error handler and logged at Warn for every
// channel status change that carries an error: a refused or timed-out join, a server phx_error or
// phx_close, a socket drop, a binding mismatch. Err is the status's error; the channel's status stream
// has the same event.
type ChannelError struct {
	Topic  string
	Status Status
	Err    error
}

func (e *ChannelError) Error() string {
	return fmt.Sprintf("rxrealtime: channel %q %s: %v", e.Topic, e.Status, e.Err)
}

// Unwrap returns the status's error.
func (e *ChannelError) Unwrap() error { return e.Err }

// ConnectError is why a connection could not be established: returned by [Connect] and [Client.Connect]
// when ctx ended first (Err is ctx's error) or the client gave up (a permanent rejection, or
// WithMaxReconnects ran out; Err is nil), and by [Client.Err] after the client gave up. Last is the cause
// of the last failed attempt: a *transport.HandshakeError with the HTTP status and the server's message, a
// *transport.DialError wrapping the network error (*net.OpError, *net.DNSError...), and so on. errors.Is
// and errors.As see both Err and Last.
type ConnectError struct {
	Attempts int   // dials made
	Err      error // ctx's error, or nil when the client gave up
	Last     error // the last attempt's cause; nil if no attempt failed yet
	// Permanent tells that the server's answer cannot change by retrying (a 4xx other than 408 and 429
	// before any session opened), so the client stopped at once.
	Permanent bool
}

func (e *ConnectError) Error() string {
	var b strings.Builder
	b.WriteString("rxrealtime: connect")
	switch {
	case e.Err != nil:
		fmt.Fprintf(&b, ": %v", e.Err)
	case e.Permanent:
		b.WriteString(": rejected")
	default:
		b.WriteString(": gave up")
	}
	fmt.Fprintf(&b, " after %d attempt", e.Attempts)
	if e.Attempts != 1 {
		b.WriteByte('s')
	}
	if e.Last != nil {
		fmt.Fprintf(&b, "; last error: %v", e.Last)
	}
	return b.String()
}

// Unwrap returns Err and Last.
func (e *ConnectError) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Last != nil {
		errs = append(errs, e.Last)
	}
	return errs
}
