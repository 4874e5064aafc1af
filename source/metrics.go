package source

import "time"

// Outcome labels of [Metrics] observations: stable strings, for metric labels.
const (
	OutcomeOK             = "ok"              // the reply said ok
	OutcomeError          = "error"           // the reply said error (a *ReplyError, a refused join)
	OutcomeTimeout        = "timeout"         // no reply within the push or join timeout
	OutcomeCancelled      = "cancelled"       // the caller's ctx ended first
	OutcomeConnectionLost = "connection_lost" // the socket dropped before the reply
	OutcomeClosed         = "closed"          // the client closed first
)

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
	// about to be waited and why the previous session ended.
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
	Channels            int    // live channels (gauge)
	State               State  // connection state (gauge)
	// NotificationsDropped counts error-handler, log and Metrics calls dropped because the observer
	// goroutine was behind (a blocking callback); CallbackPanics counts callbacks that panicked.
	NotificationsDropped uint64
	CallbackPanics       uint64
}
