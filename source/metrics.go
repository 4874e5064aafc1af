package source

import (
	"errors"
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport"
)

// Outcome labels of [Metrics] observations: stable strings, for metric labels.
const (
	OutcomeOK             = "ok"              // the reply said ok
	OutcomeError          = "error"           // the reply said error (a *ReplyError, a refused join)
	OutcomeTimeout        = "timeout"         // no reply within the push or join timeout
	OutcomeCancelled      = "cancelled"       // the caller's ctx ended first
	OutcomeConnectionLost = "connection_lost" // the socket dropped before the reply
	OutcomeClosed         = "closed"          // the client closed first
)

// Error kinds of [Metrics].Error: stable strings, for metric labels. Every error published on
// [Client.Errors] has one.
const (
	ErrorKindReconnect    = "reconnect"     // a *ReconnectError: a session ended without the user asking
	ErrorKindJoinRefused  = "join_refused"  // a *ChannelError for a refused join (its Err is a *JoinError)
	ErrorKindJoinTimeout  = "join_timeout"  // a *ChannelError for a join without a reply in time (TIMED_OUT)
	ErrorKindChannel      = "channel"       // any other *ChannelError: a server phx_error or close, a socket drop, a binding mismatch
	ErrorKindSystem       = "system"        // a *SystemError: a system error message that does not close the channel
	ErrorKindPayload      = "payload"       // a *PayloadError: a payload that did not decode into a consumer's type
	ErrorKindDecode       = "decode"        // a malformed frame (the error wraps phoenix.ErrMalformed)
	ErrorKindSlowConsumer = "slow_consumer" // a *SlowConsumerError
	ErrorKindUnsent       = "unsent"        // an *UnsentError: a push without reply that never went out
	ErrorKindToken        = "token"         // a *TokenError, or a refreshed access token that could not be pushed
	ErrorKindGap          = "gap"           // a *GapError: broadcasts may have been lost across a rejoin
	ErrorKindOther        = "other"         // anything else
)

// Reconnect causes: stable strings, for metric labels. [ReconnectCause] tells which one a
// [Metrics].Reconnect cause (or a [ReconnectError]'s) is.
const (
	CauseHeartbeatTimeout = "heartbeat_timeout" // a heartbeat got no reply in time (a dead or half-open connection)
	CauseServerClose      = "server_close"      // the server sent a close frame (a *transport.CloseError that is not Abnormal)
	CauseConnectionLost   = "connection_lost"   // the connection ended without a close frame: EOF, a reset, a failed write
	CauseHandshake        = "handshake"         // a dial the server refused with an HTTP status (*transport.HandshakeError)
	CauseDial             = "dial"              // a dial that failed before any answer: DNS, TCP, TLS, its timeout (*transport.DialError)
	CauseProtocol         = "protocol"          // the server broke the WebSocket protocol or sent a frame over the limit
	CauseOther            = "other"             // no cause (a session that ended cleanly)
)

// ReconnectCause sorts why a session ended or a dial failed (the cause given to [Metrics].Reconnect)
// into one of the Cause* strings, a bounded set for a metric label.
func ReconnectCause(err error) string {
	var he *transport.HandshakeError
	var de *transport.DialError
	var ce *transport.CloseError
	switch {
	case err == nil:
		return CauseOther
	case errors.Is(err, ErrHeartbeatTimeout):
		return CauseHeartbeatTimeout
	case errors.As(err, &he):
		return CauseHandshake
	case errors.As(err, &de):
		return CauseDial
	case errors.Is(err, transport.ErrProtocol), errors.Is(err, transport.ErrFrameTooLarge):
		return CauseProtocol
	case errors.As(err, &ce) && !ce.Abnormal():
		return CauseServerClose
	}
	return CauseConnectionLost
}

// Metrics receives the client's observations, for a metrics system (see the OpenTelemetry and Prometheus
// adapters). Every method is called on the client's observer goroutine, never on the socket's reader or
// writer, so a slow or panicking implementation cannot stall or kill the socket: calls queue up (up to a
// bound, then they are dropped and counted in [Stats].NotificationsDropped) and a panic is recovered,
// logged and counted. Embed [NopMetrics] so that methods added later do not break an implementation.
//
// Per-frame figures (frames and bytes in and out, drops, decode errors) are not events: they are counters
// that cost the reader one atomic add, read with [Client.Stats] when a metrics system collects them.
type Metrics interface {
	// State is called on every connection state change.
	State(s State)
	// Reconnect is called before each reconnect attempt, with the attempt number (from 1), the delay
	// about to be waited and why the previous session ended (or the previous dial failed);
	// [ReconnectCause] sorts it for a label.
	Reconnect(attempt int, delay time.Duration, cause error)
	// Heartbeat is called when a heartbeat reply arrives, with its round trip.
	Heartbeat(rtt time.Duration)
	// Join is called when a channel join ends: outcome is OutcomeOK, OutcomeError or OutcomeTimeout, d
	// the time from the phx_join to its reply.
	Join(topic, outcome string, d time.Duration)
	// Push is called when a push that waited for a reply ends, with its outcome and latency.
	Push(topic, event, outcome string, d time.Duration)
	// SlowConsumer is called when a consumer of topic's streams starts a slow-consumer episode.
	SlowConsumer(topic string, dropped uint64)
	// Error is called for every error published on [Client.Errors] (and given to the error handler),
	// with its kind: one of the ErrorKind* strings.
	Error(kind string, err error)
}

// NopMetrics implements [Metrics] with methods that do nothing. Embed it in an implementation.
type NopMetrics struct{}

// State does nothing.
func (NopMetrics) State(State) {}

// Reconnect does nothing.
func (NopMetrics) Reconnect(int, time.Duration, error) {}

// Heartbeat does nothing.
func (NopMetrics) Heartbeat(time.Duration) {}

// Join does nothing.
func (NopMetrics) Join(string, string, time.Duration) {}

// Push does nothing.
func (NopMetrics) Push(string, string, string, time.Duration) {}

// SlowConsumer does nothing.
func (NopMetrics) SlowConsumer(string, uint64) {}

// Error does nothing.
func (NopMetrics) Error(string, error) {}

// Stats is a snapshot of the client's counters (totals since New) and gauges.
type Stats struct {
	FramesIn, BytesIn   uint64 // frames read and their size
	FramesOut, BytesOut uint64 // frames written and their size
	DecodeErrors        uint64 // frames, and payloads (once per consumer that failed: PayloadError), that did not decode
	Dropped             uint64 // values dropped by consumers' drop policies (slow consumers)
	SlowConsumers       uint64 // slow-consumer episodes
	Reconnects          uint64 // reconnect attempts
	PushTimeouts        uint64 // pushes and joins without a reply in time
	OfflineBuffer       int    // pushes waiting for the socket (gauge)
	Channels            int    // live channels (gauge); a shared channel counts once, whatever its holders
	State               State  // connection state (gauge)
	// ChannelStatuses counts the live channels by their current status (gauges); a channel never
	// subscribed has no status and is counted only in Channels.
	ChannelStatuses ChannelStatuses
	// Traffic is the messages and bytes received and sent by topic and event, sorted by topic, then
	// event; nil unless [WithTrafficByTopic]. A message that did not decode has no topic: it is
	// counted in FramesIn and DecodeErrors only.
	Traffic []Traffic
	// NotificationsDropped counts error-handler, log and Metrics calls dropped because the observer
	// goroutine was behind (a blocking callback); CallbackPanics counts callbacks that panicked.
	NotificationsDropped uint64
	CallbackPanics       uint64
}

// ChannelStatuses counts channels by status, indexed by [Status]: c[StatusSubscribed] is the number of
// channels subscribed now.
type ChannelStatuses [StatusClosed + 1]int

// TrafficOther is the topic, or the event, under which [WithTrafficByTopic] counts the messages past
// its limits.
const TrafficOther = socket.TrafficOther

// Traffic is one series of [Stats].Traffic: the messages received and sent on one topic with one event,
// and the size of their frames.
type Traffic struct {
	Topic string
	// Event is the Phoenix event, a broadcast's own event name, or TrafficOther.
	Event                 string
	MessagesIn, BytesIn   uint64
	MessagesOut, BytesOut uint64
}

// trafficOf converts the socket's series.
func trafficOf(ts []socket.Traffic) []Traffic {
	if ts == nil {
		return nil
	}
	out := make([]Traffic, len(ts))
	for i, t := range ts {
		out[i] = Traffic(t)
	}
	return out
}
