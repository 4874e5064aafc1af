// Package otelmetrics exports an rxrealtime client's metrics through OpenTelemetry
// (go.opentelemetry.io/otel/metric). It lives in its own module so that the core module does not depend on
// OpenTelemetry.
//
// A [Metrics] does two things:
//   - it implements [source.Metrics]: pass it to [source.WithMetrics] and it records the client's events
//     (state changes, reconnects, heartbeat round trips, join and push latencies, slow consumers);
//   - [Metrics.Observe] attaches a client whose [source.Stats] (frames and bytes in and out, decode errors,
//     drops, offline-buffer depth, channels...) are read by an observable-instrument callback when the
//     reader collects, so the client's hot path pays nothing for them.
//
// Instruments (attributes in brackets):
//
//	rxrealtime.connection.state        gauge           {state}  [state]  1 for the current state, 0 for the others
//	rxrealtime.reconnects              counter         {attempt}         reconnect attempts
//	rxrealtime.heartbeat.rtt           histogram       s                 heartbeat round trip
//	rxrealtime.join.duration           histogram       s        [topic, outcome]  phx_join to its reply
//	rxrealtime.push.duration           histogram       s        [topic, event, outcome]  push to its reply
//	rxrealtime.slow_consumers          counter         {episode} [topic]  slow-consumer episodes
//	rxrealtime.frames.received         counter         {frame}   (observed)
//	rxrealtime.frames.sent             counter         {frame}   (observed)
//	rxrealtime.bytes.received          counter         By        (observed)
//	rxrealtime.bytes.sent              counter         By        (observed)
//	rxrealtime.decode_errors           counter         {error}   (observed)
//	rxrealtime.dropped                 counter         {value}   (observed) values dropped by consumers' drop policies
//	rxrealtime.push.timeouts           counter         {push}    (observed) pushes and joins without a reply in time
//	rxrealtime.notifications.dropped   counter         {notification} (observed) events lost because the observer was behind
//	rxrealtime.callback.panics         counter         {panic}   (observed)
//	rxrealtime.offline_buffer.depth    updowncounter   {push}    (observed) pushes waiting for the socket
//	rxrealtime.channels                updowncounter   {channel} (observed) live channels
//
// Outcomes are the source.Outcome* strings ("ok", "error", "timeout", "cancelled", "connection_lost",
// "closed"); states are the names of source.States() ("connecting", "open", "reconnecting", "closed",
// "idle"). [WithoutTopicLabel] drops the topic attribute when topics are too many.
//
// One Metrics serves one client. To export several clients through one MeterProvider, create one Metrics
// per client with [WithAttributes] telling them apart.
package otelmetrics

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/rxrealtime/rxrealtime/source"
)

// ScopeName is the instrumentation scope of the meter the instruments are created with.
const ScopeName = "github.com/rxrealtime/rxrealtime/source/otelmetrics"

// Attribute keys.
const (
	KeyTopic   = attribute.Key("topic")
	KeyEvent   = attribute.Key("event")
	KeyOutcome = attribute.Key("outcome")
	KeyState   = attribute.Key("state")
)

// DefaultBuckets are the histogram bucket boundaries, in seconds.
var DefaultBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

var states = source.States()

// Option configures [New].
type Option func(*config)

type config struct {
	noTopic bool
	attrs   []attribute.KeyValue
	buckets []float64
}

// WithoutTopicLabel drops the topic attribute from the join, push and slow-consumer instruments, for
// applications with many (or per-user) topics.
func WithoutTopicLabel() Option { return func(c *config) { c.noTopic = true } }

// WithAttributes adds attributes to every measurement, e.g. to tell several clients apart.
func WithAttributes(kv ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, kv...) }
}

// WithBuckets sets the histogram bucket boundaries, in seconds (default [DefaultBuckets]).
func WithBuckets(b ...float64) Option { return func(c *config) { c.buckets = b } }

// Metrics records a client's metrics into OpenTelemetry instruments. Create it with [New]. Its methods never
// block: the event methods record into synchronous instruments, and the collection callback reads
// [source.Client.Stats], which only takes the client's lock for a moment.
type Metrics struct {
	source.NopMetrics
	cfg  config
	base attribute.Set

	reconnects, slow        metric.Int64Counter
	heartbeat, join, push   metric.Float64Histogram
	state                   metric.Int64ObservableGauge
	framesIn, framesOut     metric.Int64ObservableCounter
	bytesIn, bytesOut       metric.Int64ObservableCounter
	decodeErrors, dropped   metric.Int64ObservableCounter
	pushTimeouts            metric.Int64ObservableCounter
	notifDropped, panics    metric.Int64ObservableCounter
	offlineBuffer, channels metric.Int64ObservableUpDownCounter
	last                    atomic.Int32 // 1 + the last State event, 0 before the first
	observed                atomic.Pointer[source.Client]
	unregisterOnce          sync.Once
	reg                     metric.Registration
	unregisterErr           error
}

var _ source.Metrics = (*Metrics)(nil)

// New creates the instruments on mp's meter (the global MeterProvider if mp is nil) and registers the
// collection callback; [Metrics.Unregister] removes it.
func New(mp metric.MeterProvider, opts ...Option) (*Metrics, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	cfg := config{buckets: DefaultBuckets}
	for _, o := range opts {
		o(&cfg)
	}
	m := &Metrics{cfg: cfg, base: attribute.NewSet(cfg.attrs...)}
	meter := mp.Meter(ScopeName)
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	hist := func(name, desc string) metric.Float64Histogram {
		h, err := meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(cfg.buckets...))
		check(err)
		return h
	}
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := meter.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		check(err)
		return c
	}
	updown := func(name, unit, desc string) metric.Int64ObservableUpDownCounter {
		c, err := meter.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		check(err)
		return c
	}

	m.reconnects, err = meter.Int64Counter("rxrealtime.reconnects", metric.WithUnit("{attempt}"),
		metric.WithDescription("Reconnect attempts."))
	check(err)
	m.slow, err = meter.Int64Counter("rxrealtime.slow_consumers", metric.WithUnit("{episode}"),
		metric.WithDescription("Slow-consumer episodes of the streams of a topic."))
	check(err)
	m.heartbeat = hist("rxrealtime.heartbeat.rtt", "Round trip of heartbeats that got a reply.")
	m.join = hist("rxrealtime.join.duration", "Time from a channel's phx_join to its reply, by outcome.")
	m.push = hist("rxrealtime.push.duration", "Time from a push to its reply, by outcome.")
	m.state, err = meter.Int64ObservableGauge("rxrealtime.connection.state", metric.WithUnit("{state}"),
		metric.WithDescription("Connection state: 1 for the current state, 0 for the others."))
	check(err)
	m.framesIn = counter("rxrealtime.frames.received", "{frame}", "Frames read from the socket.")
	m.framesOut = counter("rxrealtime.frames.sent", "{frame}", "Frames written to the socket.")
	m.bytesIn = counter("rxrealtime.bytes.received", "By", "Size of the frames read from the socket.")
	m.bytesOut = counter("rxrealtime.bytes.sent", "By", "Size of the frames written to the socket.")
	m.decodeErrors = counter("rxrealtime.decode_errors", "{error}", "Frames or payloads that did not decode.")
	m.dropped = counter("rxrealtime.dropped", "{value}", "Values dropped by consumers' drop policies.")
	m.pushTimeouts = counter("rxrealtime.push.timeouts", "{push}", "Pushes and joins without a reply in time.")
	m.notifDropped = counter("rxrealtime.notifications.dropped", "{notification}",
		"Metrics, log and error-handler calls dropped because the observer goroutine was behind.")
	m.panics = counter("rxrealtime.callback.panics", "{panic}", "Callbacks that panicked.")
	m.offlineBuffer = updown("rxrealtime.offline_buffer.depth", "{push}", "Pushes waiting for the socket.")
	m.channels = updown("rxrealtime.channels", "{channel}", "Live channels.")
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m.reg, err = meter.RegisterCallback(m.collect, m.state, m.framesIn, m.framesOut, m.bytesIn, m.bytesOut,
		m.decodeErrors, m.dropped, m.pushTimeouts, m.notifDropped, m.panics, m.offlineBuffer, m.channels)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Observe attaches c: from now on, collections read c.Stats() for the observed instruments, and the state
// gauge reads c's current state. It replaces a client observed before. stop detaches c (if it is still the
// observed client); the observed instruments then report nothing.
func (m *Metrics) Observe(c *source.Client) (stop func()) {
	m.observed.Store(c)
	return func() { m.observed.CompareAndSwap(c, nil) }
}

// Unregister removes the collection callback from the meter: the observable instruments stop reporting.
// The event instruments cannot be removed from a meter; they simply stop changing once the client is
// closed. Unregister is idempotent.
func (m *Metrics) Unregister() error {
	m.unregisterOnce.Do(func() {
		m.observed.Store(nil)
		m.unregisterErr = m.reg.Unregister()
	})
	return m.unregisterErr
}

func (m *Metrics) collect(_ context.Context, o metric.Observer) error {
	c := m.observed.Load()
	var st source.Stats
	if c != nil {
		st = c.Stats()
	}
	last := m.last.Load()
	state, known := source.State(last-1), last > 0
	if c != nil {
		state, known = st.State, true
	}
	if known {
		for _, s := range states {
			v := int64(0)
			if s == state {
				v = 1
			}
			o.ObserveInt64(m.state, v, metric.WithAttributeSet(m.set(KeyState.String(s.String()))))
		}
	}
	if c == nil {
		return nil
	}
	base := metric.WithAttributeSet(m.base)
	for _, v := range []struct {
		inst metric.Int64Observable
		n    uint64
	}{
		{m.framesIn, st.FramesIn}, {m.framesOut, st.FramesOut},
		{m.bytesIn, st.BytesIn}, {m.bytesOut, st.BytesOut},
		{m.decodeErrors, st.DecodeErrors}, {m.dropped, st.Dropped},
		{m.pushTimeouts, st.PushTimeouts},
		{m.notifDropped, st.NotificationsDropped}, {m.panics, st.CallbackPanics},
	} {
		o.ObserveInt64(v.inst, int64(min(v.n, math.MaxInt64)), base)
	}
	o.ObserveInt64(m.offlineBuffer, int64(st.OfflineBuffer), base)
	o.ObserveInt64(m.channels, int64(st.Channels), base)
	return nil
}

// set is the base attributes plus kv.
func (m *Metrics) set(kv ...attribute.KeyValue) attribute.Set {
	if m.base.Len() == 0 {
		return attribute.NewSet(kv...)
	}
	return attribute.NewSet(append(m.base.ToSlice(), kv...)...)
}

// topicSet is the base attributes, the topic unless WithoutTopicLabel, and kv.
func (m *Metrics) topicSet(topic string, kv ...attribute.KeyValue) metric.MeasurementOption {
	if !m.cfg.noTopic {
		kv = append(kv, KeyTopic.String(topic))
	}
	return metric.WithAttributeSet(m.set(kv...))
}

// State records the connection state for the state gauge (when no client is observed).
func (m *Metrics) State(s source.State) { m.last.Store(int32(s) + 1) }

// Reconnect counts a reconnect attempt.
func (m *Metrics) Reconnect(int, time.Duration, error) {
	m.reconnects.Add(context.Background(), 1, metric.WithAttributeSet(m.base))
}

// Heartbeat records a heartbeat round trip.
func (m *Metrics) Heartbeat(rtt time.Duration) {
	m.heartbeat.Record(context.Background(), rtt.Seconds(), metric.WithAttributeSet(m.base))
}

// Join records a join's latency by topic and outcome.
func (m *Metrics) Join(topic, outcome string, d time.Duration) {
	m.join.Record(context.Background(), d.Seconds(), m.topicSet(topic, KeyOutcome.String(outcome)))
}

// Push records a push's latency by topic, event and outcome.
func (m *Metrics) Push(topic, event, outcome string, d time.Duration) {
	m.push.Record(context.Background(), d.Seconds(),
		m.topicSet(topic, KeyEvent.String(event), KeyOutcome.String(outcome)))
}

// SlowConsumer counts a slow-consumer episode of topic.
func (m *Metrics) SlowConsumer(topic string, _ uint64) {
	m.slow.Add(context.Background(), 1, m.topicSet(topic))
}
