package source

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// The socket's errors (they are made by the client's socket, package source/internal/socket, and are the
// same values).
var (
	// ErrClosed is returned by operations on a client the user closed.
	ErrClosed = socket.ErrClosed
	// ErrPushTimeout means no reply arrived within the push timeout.
	ErrPushTimeout = socket.ErrPushTimeout
	// ErrSendBufferFull means the push could not be buffered: the socket is
	// down (or the channel not joined) and the buffer is full (see
	// [WithSendBuffer]).
	ErrSendBufferFull = socket.ErrSendBufferFull
	// ErrHeartbeatTimeout is the cause of a reconnect after a heartbeat got
	// no reply in time (a dead or half-open connection).
	ErrHeartbeatTimeout = socket.ErrHeartbeatTimeout
	// ErrConnectionLost is wrapped, once, by errors of pushes whose socket
	// dropped after they were sent but before their reply arrived, together
	// with why it dropped (a *transport.CloseError, ErrHeartbeatTimeout...).
	ErrConnectionLost = socket.ErrConnectionLost
)

var (
	// ErrReply is wrapped by every [*ReplyError].
	ErrReply = errors.New("rxrealtime: server replied with an error")
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
// "unmatched topic", "Unauthorized: ..." or "payload_size_exceeded"),
// Response the whole response; the client's API key and access tokens are
// removed from both. Error prints at most 200 bytes of the reason.
type ReplyError struct {
	Topic    string
	Event    string
	Status   string
	Reason   string
	Response []byte
}

// Error implements error.
func (e *ReplyError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("rxrealtime: %s on %q: %s: %s", e.Event, e.Topic, e.Status, excerpt(e.Reason))
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

// Error implements error.
func (e *ReconnectError) Error() string {
	return fmt.Sprintf("rxrealtime: connection lost, reconnect attempt %d in %v: %v", e.Attempt, e.Delay.Round(time.Millisecond), e.Cause)
}

// Unwrap returns the cause.
func (e *ReconnectError) Unwrap() error { return e.Cause }

// TokenError reports a failure of the access-token provider (see
// [WithAccessToken]): its error, or, when Waited is set, that it did not
// return within Waited. The previous token stays in use. While the client
// has no token at all, it fails the connection attempt instead: [Connect]
// returns it (unless [WithAnonymousFallback]).
type TokenError struct {
	Err    error         // the provider's error; with Waited, the ctx error it was given, if it returned
	Waited time.Duration // how long the provider was waited for when it did not return in time; 0 otherwise
}

// Error implements error.
func (e *TokenError) Error() string {
	if e.Waited > 0 || e.Err == nil {
		return "rxrealtime: access token provider did not return within " + e.Waited.String()
	}
	return "rxrealtime: access token provider: " + e.Err.Error()
}

// Unwrap returns the provider's error.
func (e *TokenError) Unwrap() error { return e.Err }

// FrameError reports a frame from the server that did not decode (Err is
// the serializer's *phoenix.DecodeError, wrapping phoenix.ErrMalformed). The
// frame is skipped, as the server skips a malformed frame from a client,
// and the socket carries on. It is published on [Client.Errors], given to
// the error handler, logged at Warn and counted in [Stats].DecodeErrors.
type FrameError struct{ Err error }

// Error implements error.
func (e *FrameError) Error() string { return "rxrealtime: frame skipped: " + e.Err.Error() }

// Unwrap returns the decoding error.
func (e *FrameError) Unwrap() error { return e.Err }

// UnsentError reports a push made with NoReply (or an unacknowledged
// broadcast) that was still in the offline buffer when the client stopped:
// its caller was told it was queued, and this says it never went out. It
// is published on [Client.Errors] and to the error handler.
type UnsentError struct {
	Topic string
	Event string
	Err   error
}

// Error implements error.
func (e *UnsentError) Error() string {
	return fmt.Sprintf("rxrealtime: %s on %q was never sent: %v", e.Event, e.Topic, e.Err)
}

// Unwrap returns why the client stopped (ErrClosed after Close).
func (e *UnsentError) Unwrap() error { return e.Err }

// ErrSlowConsumer is matched (errors.Is) by every [*SlowConsumerError].
var ErrSlowConsumer = errors.New("rxrealtime: slow consumer")

// SlowConsumerError reports that a consumer of a topic's streams fell behind and stayed behind: its
// mailbox was full when a message arrived, and the socket's reader waited for room as long as it may
// (WithConsumerWait: 100 ms at a time and 1 s in all by default) without the consumer making it. From
// then on, until the consumer catches up, the reader does not wait for it: the consumer loses messages by its
// drop policy (Dropped counts them, over all its episodes), or, for a consumer that chose stream.Block, its
// mailbox grows past its buffer (Blocking). It is reported once per episode (see stream.SlowConsumer) on
// [Client.Errors], to the error handler, to the log at Warn and to [Metrics].
type SlowConsumerError struct {
	Topic    string        // "realtime:<name>", or "" for a client-wide stream (Messages, AllChanges, ...)
	Queued   int           // messages queued for the consumer when the reader gave up waiting
	Dropped  uint64        // messages the consumer has lost so far at this stream
	Blocking bool          // the consumer chose stream.Block: its mailbox grows instead
	Waited   time.Duration // how long the reader waited for room before it gave up
}

// Error implements error.
func (e *SlowConsumerError) Error() string {
	where := "a client-wide stream"
	if e.Topic != "" {
		where = fmt.Sprintf("a stream of %q", e.Topic)
	}
	if e.Blocking {
		return fmt.Sprintf("rxrealtime: slow consumer of %s: %d messages queued, no room after %v, mailbox growing (Block)",
			where, e.Queued, e.Waited.Round(time.Millisecond))
	}
	return fmt.Sprintf("rxrealtime: slow consumer of %s: mailbox full at %d messages, no room after %v, %d dropped so far",
		where, e.Queued, e.Waited.Round(time.Millisecond), e.Dropped)
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

// Error implements error.
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

// Error implements error.
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

var (
	// ErrJoin is wrapped by every [*JoinError].
	ErrJoin = errors.New("rxrealtime: join refused")
	// ErrJoinTimeout is the error of a TIMED_OUT status.
	ErrJoinTimeout = errors.New("rxrealtime: join timed out")
	// ErrBindingMismatch means the server's postgres_changes bindings do
	// not match the client's; the channel is left and not rejoined.
	ErrBindingMismatch = errors.New("rxrealtime: mismatch between server and client bindings for postgres changes")
	// ErrChannelClosed is returned by operations on a channel that is
	// closed for good, and wrapped by server-side closes.
	ErrChannelClosed = errors.New("rxrealtime: channel closed")
	// ErrTokenExpired is wrapped by the close of a channel whose access
	// token expired.
	ErrTokenExpired = errors.New("rxrealtime: access token expired")
	// ErrServerError is wrapped by CHANNEL_ERROR statuses caused by the
	// server's phx_error.
	ErrServerError = errors.New("rxrealtime: server errored the channel")
	// ErrSocketClosed is wrapped by CHANNEL_ERROR statuses caused by the
	// socket dropping; the cause (a *transport.CloseError,
	// ErrHeartbeatTimeout, ...) is wrapped too.
	ErrSocketClosed = errors.New("rxrealtime: socket closed")
	// ErrNotJoined is returned by pushes on a channel that could not join
	// before the push timeout.
	ErrNotJoined = errors.New("rxrealtime: channel not joined")
	// ErrDuplicateChannel is returned by Client.Channel for a topic that
	// already has a live channel on this client, and by Client.Share for a
	// topic held by a channel that is not shared.
	ErrDuplicateChannel = errors.New("rxrealtime: channel already exists for this topic")
	// ErrConfigMismatch is wrapped by every [*ConfigMismatchError].
	ErrConfigMismatch = errors.New("rxrealtime: shared channel is live with another configuration")
	// ErrInvalidChannel reports an invalid channel configuration.
	ErrInvalidChannel = errors.New("rxrealtime: invalid channel configuration")
)

// JoinError is a join the server refused. Code and Message split the
// server's "<Code>: <message>" reason (for example "ChannelRateLimitReached",
// "Too many channels"). The client's API key and access tokens are removed
// from the reason; Error prints at most 200 bytes of it.
type JoinError struct {
	Topic   string
	Reason  string
	Code    string
	Message string
	// Permanent tells that retrying the same join cannot succeed (see [Channel.Subscribe]).
	Permanent bool
}

// Error implements error.
func (e *JoinError) Error() string {
	return fmt.Sprintf("rxrealtime: join %q refused: %s", e.Topic, excerpt(e.Reason))
}

// Unwrap makes errors.Is(err, ErrJoin) true.
func (e *JoinError) Unwrap() error { return ErrJoin }

// CloseReason is the error of a CLOSED status the server caused, with the
// message of the system error that preceded the phx_close, if any (secrets
// removed; Error prints at most 200 bytes of it).
type CloseReason struct {
	Topic   string
	Message string
	expired bool
}

// Error implements error.
func (e *CloseReason) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("rxrealtime: server closed channel %q", e.Topic)
	}
	return fmt.Sprintf("rxrealtime: server closed channel %q: %s", e.Topic, excerpt(e.Message))
}

// Is makes errors.Is match ErrChannelClosed, and ErrTokenExpired when
// the close was for an expired token.
func (e *CloseReason) Is(target error) bool {
	return target == ErrChannelClosed || (e.expired && target == ErrTokenExpired)
}

// ErrBinaryUnsupported is returned when sending a binary broadcast over
// a vsn 1.0.0 socket, which cannot carry one.
var ErrBinaryUnsupported = errors.New("rxrealtime: binary payloads need the vsn 2.0.0 serializer")

// ErrPersistUnsupported is returned (wrapped) by [Channel.Send] with
// [Persist] or [PersistTTL] on a public channel, over a vsn 1.0.0
// socket, or with a TTL under one second. realtime-js refuses the same
// sends (RealtimeChannel.send in 2.119.1: "cannot store a message on a
// public channel", "cannot store a message with protocol 1.0.0").
var ErrPersistUnsupported = errors.New("rxrealtime: persist needs a private channel and vsn 2.0.0")

// ErrInvalidPresence is wrapped by the error of a [Channel.Track] whose
// meta does not marshal to a JSON object (the server refuses any other
// meta, and the refusal would spend a presence call): nothing is sent.
var ErrInvalidPresence = errors.New("rxrealtime: invalid presence meta")

// ErrMessageTooLarge is matched (errors.Is) by every [*MessageTooLargeError].
var ErrMessageTooLarge = errors.New("rxrealtime: message larger than the server's frame limit")

// MessageTooLargeError reports a push or broadcast whose frame would be larger than the server takes
// ([WithMaxFrameSize], 5 MiB by default, Supabase's limit): it is refused before it is queued, and
// nothing is sent. A server closes the socket (1009) for such a frame.
type MessageTooLargeError struct {
	Topic string
	Event string
	Size  int // the encoded frame's size in bytes
	Limit int // the limit it exceeds
}

// Error implements error.
func (e *MessageTooLargeError) Error() string {
	return fmt.Sprintf("rxrealtime: %s on %q: message of %d bytes is larger than the server's frame limit of %d bytes",
		e.Event, e.Topic, e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrMessageTooLarge) true.
func (e *MessageTooLargeError) Is(target error) bool { return target == ErrMessageTooLarge }

// ErrBroadcastGap is matched (errors.Is) by every [*GapError].
var ErrBroadcastGap = errors.New("rxrealtime: broadcasts may have been lost across a rejoin")

// GapError reports that a gap-free channel's rejoin replay came back full
// (Limit messages, none of them already delivered), so broadcasts stored
// between Since and the oldest replayed one (OldestID) may be lost: the
// outage outlasted what one replay can fill. It is published on
// [Client.Errors], given to the error handler and logged at Warn. The
// channel carries on; a consumer that must not miss anything should
// resynchronise from its source of truth.
type GapError struct {
	Topic    string
	Since    time.Time // where the replay was asked to start
	Limit    int       // messages replayed, all new
	OldestID string    // id of the oldest message replayed
}

// Error implements error.
func (e *GapError) Error() string {
	return fmt.Sprintf("rxrealtime: channel %q: broadcasts may have been lost across a rejoin: the replay since %s returned %d new messages, the most the server replays",
		e.Topic, e.Since.UTC().Format(time.RFC3339Nano), e.Limit)
}

// Is makes errors.Is(err, ErrBroadcastGap) true.
func (e *GapError) Is(target error) bool { return target == ErrBroadcastGap }

// PayloadError reports a payload that could not be decoded: a postgres
// change's row, a broadcast's payload or a presence meta that does not fit
// the type a consumer asked for, or a message (a change's envelope, a
// presence state or diff, a system message) that is malformed. It is
// published on [Client.Errors], given to the error handler, logged at Warn
// and counted in [Stats].DecodeErrors; the value is skipped and the stream
// goes on.
//
// A value that does not fit a consumer's type is reported once per
// consumer that failed on it, each report naming its consumer: two streams
// of one row (a [Bind] stream and [Changes], say) report two errors that
// say which is which. A malformed message is reported once, for all.
type PayloadError struct {
	// Topic is the channel's topic, "realtime:<name>".
	Topic string
	// Event is the message's event: "postgres_changes", "broadcast",
	// "presence_state", "presence_diff", "presence" (a meta of either),
	// "system".
	Event string
	// What names the payload within the channel: the table of a postgres
	// change ("public.orders"), the event name of a broadcast; "" when the
	// message was not read that far.
	What string
	// Type is the Go type the payload was decoded into ("main.Order"); ""
	// for a malformed message, which failed before any consumer's type.
	Type string
	// Stream is the function whose stream the consumer reads ("Changes",
	// "TypedBinding.Changes", "AllChanges", "Broadcasts",
	// "PresenceEvents"..., or "PresenceState" for its snapshot), and
	// Consumer numbers that consumer among the client's consumers (from 1,
	// in the order they started): every report of one consumer carries the
	// same number. Both are unset for a message that failed once for every
	// consumer.
	Stream   string
	Consumer uint64
	// Err is why it did not decode: a *postgres.DecodeError, an error of
	// package presence, of the JSON decoder or of the consumer's codec.
	Err error
}

// Error implements error.
func (e *PayloadError) Error() string {
	var b strings.Builder
	b.WriteString("rxrealtime: ")
	b.WriteString(e.Event)
	if e.What != "" {
		if e.Event == phoenix.EventPostgres {
			b.WriteString(" of ")
			b.WriteString(excerpt(e.What))
		} else {
			fmt.Fprintf(&b, " %q", excerpt(e.What))
		}
	}
	fmt.Fprintf(&b, " on %q: cannot decode payload", e.Topic)
	if e.Type != "" {
		b.WriteString(" into ")
		b.WriteString(e.Type)
	}
	switch {
	case e.Consumer != 0:
		fmt.Fprintf(&b, " (consumer %d, %s)", e.Consumer, e.Stream)
	case e.Stream != "":
		fmt.Fprintf(&b, " (%s)", e.Stream)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

// Unwrap returns the decoding error.
func (e *PayloadError) Unwrap() error { return e.Err }

// ErrLiveLoad is matched (errors.Is) by every [*LiveLoadError].
var ErrLiveLoad = errors.New("rxrealtime: live query load failed")

// LiveLoadError reports a failed load of a live query (see [Live]): the
// loader returned an error (or panicked). The query keeps following the
// table's changes and tries again after Retry. It is published on
// [Client.Errors], given to the error handler and logged at Warn; the
// client's API key and access tokens are removed from its text.
type LiveLoadError struct {
	Topic   string        // the channel's topic
	Table   string        // the binding's table, "schema.table"
	Attempt int           // consecutive failed loads, from 1
	Retry   time.Duration // the wait before the next load
	Err     error         // the loader's error
	text    string        // Err's text, secrets removed
}

// Error implements error.
func (e *LiveLoadError) Error() string {
	text := e.text
	if text == "" && e.Err != nil {
		text = e.Err.Error()
	}
	return fmt.Sprintf("rxrealtime: live query of %s on %q: load failed (attempt %d, next in %v): %s",
		e.Table, e.Topic, e.Attempt, e.Retry.Round(time.Millisecond), text)
}

// Unwrap returns the loader's error.
func (e *LiveLoadError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrLiveLoad) true.
func (e *LiveLoadError) Is(target error) bool { return target == ErrLiveLoad }

// ConfigMismatchError is returned by [Client.Share] for a topic whose
// shared channel is live with another configuration: a request shares the
// join only with the same options. Differences names each option that
// differs, with both settings ("WithBroadcastAck: requested on, live
// off"). It matches [ErrConfigMismatch].
type ConfigMismatchError struct {
	Topic       string
	Differences []string
}

// Error implements error.
func (e *ConfigMismatchError) Error() string {
	return fmt.Sprintf("rxrealtime: shared channel %q is live with another configuration: %s", e.Topic, strings.Join(e.Differences, "; "))
}

// Unwrap makes errors.Is(err, ErrConfigMismatch) true.
func (e *ConfigMismatchError) Unwrap() error { return ErrConfigMismatch }
