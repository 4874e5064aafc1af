// Package otelmetrics exports an rxrealtime client's metrics through OpenTelemetry
// (go.opentelemetry.io/otel/metric). It lives in its own module so that the core module does not depend on
// OpenTelemetry.
//
// A [Metrics] does two things:
//   - it implements [source.Metrics]: pass it to [source.WithMetrics] and it records the client's events
//     (state changes, reconnects and their causes, errors by kind, heartbeat round trips, join and push
//     latencies, slow consumers);
//   - [Metrics.Observe] attaches a client, [Metrics.ObservePool] a [source.Pool], whose [source.Stats]
//     (frames and bytes in and out, decode errors, drops, offline-buffer depth, channels and their
//     statuses, traffic by topic and event...) are read by an observable-instrument callback when the
//     reader collects, so the client's hot path pays nothing for them.
//
// A pool is reported as one client: its sockets share the Metrics (pass the same one to
// [source.NewPool]), the observed figures are summed over its sockets (a socket opened later included),
// and the state gauge has one data point per socket and state, the socket attribute being its index in
// [source.Pool.Sockets].
//
// Instruments (attributes in brackets; [topic] only with [WithTopicLabel]):
//
//	rxrealtime.connection.state        gauge           {state}  [socket, state]  1 for each socket's current state, 0 for the others
//	rxrealtime.reconnects              counter         {attempt} [cause]  reconnect attempts, by source.ReconnectCause
//	rxrealtime.errors                  counter         {error}   [kind]   errors published on Client.Errors, by source.ErrorKind*
//	rxrealtime.heartbeat.rtt           histogram       s                 heartbeat round trip
//	rxrealtime.join.duration           histogram       s        [[topic], outcome]  phx_join to its reply
//	rxrealtime.push.duration           histogram       s        [[topic], event, outcome]  push to its reply
//	rxrealtime.slow_consumers          counter         {episode} [[topic]]  slow-consumer episodes
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
//	rxrealtime.channel.status          updowncounter   {channel} [status] (observed) live channels by status
//	rxrealtime.traffic.messages.received counter       {message} [[topic], event] (observed, with source.WithTrafficByTopic)
//	rxrealtime.traffic.messages.sent   counter         {message} [[topic], event] (observed, idem)
//	rxrealtime.traffic.bytes.received  counter         By        [[topic], event] (observed, idem) frame bytes
//	rxrealtime.traffic.bytes.sent      counter         By        [[topic], event] (observed, idem) frame bytes
//
// Attribute values: outcomes are the source.Outcome* strings ("ok", "error", "timeout", "cancelled",
// "connection_lost", "closed"); states the names of source.States() ("connecting", "open",
// "reconnecting", "closed", "idle"); statuses the channel statuses in lower case ("joining",
// "subscribed", "timed_out", "channel_error", "closed"); causes the source.Cause* strings; kinds the
// source.ErrorKind* strings.
//
// Cardinality: every attribute but topic and event has a fixed set of values. Topics are off by default
// ([WithTopicLabel] turns them on: one series per channel). A push's event is its Phoenix event
// ("broadcast", "presence"..., or the event given to Client.Push). The traffic series name a broadcast by
// its own event, a string of the application's: they are bounded by the client's limits
// ([source.WithTrafficByTopic], past which they count under source.TrafficOther), and without topic
// attributes they are summed by event.
//
// One Metrics serves one client or one pool. To export several through one MeterProvider, create one
// Metrics each with [WithAttributes] telling them apart.
package otelmetrics

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
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
	KeySocket  = attribute.Key("socket")
	KeyStatus  = attribute.Key("status")
	KeyCause   = attribute.Key("cause")
	KeyKind    = attribute.Key("kind")
)

// DefaultBuckets are the histogram bucket boundaries, in seconds.
var DefaultBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

var states = source.States()

// statusLabels are the channel statuses' attribute values, by source.Status.
var statusLabels = func() (out [len(source.ChannelStatuses{})]string) {
	for i := range out {
		out[i] = strings.ToLower(source.Status(i).String())
	}
	return out
}()

// Option configures [New].
type Option func(*config)

type config struct {
	topic   bool
	attrs   []attribute.KeyValue
	buckets []float64
}

// WithTopicLabel adds the topic attribute to the join, push, slow-consumer and traffic instruments: one
// series per channel, so it is off by default.
func WithTopicLabel() Option { return func(c *config) { c.topic = true } }

// WithoutTopicLabel leaves the topic attribute out, which is the default.
//
// Deprecated: topic attributes are off unless [WithTopicLabel] turns them on.
func WithoutTopicLabel() Option { return func(c *config) { c.topic = false } }

// WithAttributes adds attributes to every measurement, e.g. to tell several clients apart.
func WithAttributes(kv ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, kv...) }
}

// WithBuckets sets the histogram bucket boundaries, in seconds (default [DefaultBuckets]).
func WithBuckets(b ...float64) Option { return func(c *config) { c.buckets = b } }

// Metrics records a client's (or a pool's) metrics into OpenTelemetry instruments. Create it with [New].
// Its methods never block: the event methods record into synchronous instruments, and the collection
// callback reads [source.Client.Stats] (or [source.Pool.Stats]), which only takes the client's locks for a
// moment.
type Metrics struct {
	source.NopMetrics
	cfg  config
	base attribute.Set

	reconnects, slow, errs  metric.Int64Counter
	heartbeat, join, push   metric.Float64Histogram
	state                   metric.Int64ObservableGauge
	framesIn, framesOut     metric.Int64ObservableCounter
	bytesIn, bytesOut       metric.Int64ObservableCounter
	decodeErrors, dropped   metric.Int64ObservableCounter
	pushTimeouts            metric.Int64ObservableCounter
	notifDropped, panics    metric.Int64ObservableCounter
	offlineBuffer, channels metric.Int64ObservableUpDownCounter
	status                  metric.Int64ObservableUpDownCounter
	traffic                 [4]metric.Int64ObservableCounter // received and sent messages, received and sent bytes
	last                    atomic.Int32                     // 1 + the last State event, 0 before the first
	observed                atomic.Pointer[target]
	unregisterOnce          sync.Once
	reg                     metric.Registration
	unregisterErr           error
}

var _ source.Metrics = (*Metrics)(nil)

// target is what Observe or ObservePool attached.
type target struct{ stats func() source.PoolStats }

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
		metric.WithDescription("Reconnect attempts, by the cause of the previous session's end."))
	check(err)
	m.errs, err = meter.Int64Counter("rxrealtime.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Errors published on the client's error stream, by kind."))
	check(err)
	m.slow, err = meter.Int64Counter("rxrealtime.slow_consumers", metric.WithUnit("{episode}"),
		metric.WithDescription("Slow-consumer episodes of the streams of a topic."))
	check(err)
	m.heartbeat = hist("rxrealtime.heartbeat.rtt", "Round trip of heartbeats that got a reply.")
	m.join = hist("rxrealtime.join.duration", "Time from a channel's phx_join to its reply, by outcome.")
	m.push = hist("rxrealtime.push.duration", "Time from a push to its reply, by outcome.")
	m.state, err = meter.Int64ObservableGauge("rxrealtime.connection.state", metric.WithUnit("{state}"),
		metric.WithDescription("Connection state of each socket: 1 for the current state, 0 for the others."))
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
	m.status = updown("rxrealtime.channel.status", "{channel}", "Live channels by status.")
	m.traffic[0] = counter("rxrealtime.traffic.messages.received", "{message}", "Messages received, by event.")
	m.traffic[1] = counter("rxrealtime.traffic.messages.sent", "{message}", "Messages sent, by event.")
	m.traffic[2] = counter("rxrealtime.traffic.bytes.received", "By", "Size of the frames of the messages received, by event.")
	m.traffic[3] = counter("rxrealtime.traffic.bytes.sent", "By", "Size of the frames of the messages sent, by event.")
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m.reg, err = meter.RegisterCallback(m.collect, m.state, m.framesIn, m.framesOut, m.bytesIn, m.bytesOut,
		m.decodeErrors, m.dropped, m.pushTimeouts, m.notifDropped, m.panics, m.offlineBuffer, m.channels,
		m.status, m.traffic[0], m.traffic[1], m.traffic[2], m.traffic[3])
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Observe attaches c: from now on, collections read c.Stats() for the observed instruments, and the state
// gauge reads c's current state (as socket "0"). It replaces a client or pool observed before. stop
// detaches c (if it is still the observed client); the observed instruments then report nothing.
func (m *Metrics) Observe(c *source.Client) (stop func()) {
	return m.attach(func() source.PoolStats {
		st := c.Stats()
		return source.PoolStats{Stats: st, Sockets: []source.Stats{st}}
	})
}

// ObservePool attaches p: from now on, collections read p.Stats(): the observed instruments report the
// pool's figures summed over its sockets, and the state gauge one data point per socket and state, the
// socket being its index in p.Sockets() (sockets opened later included). It replaces a client or pool
// observed before. stop detaches p (if it is still the observed pool).
func (m *Metrics) ObservePool(p *source.Pool) (stop func()) { return m.attach(p.Stats) }

func (m *Metrics) attach(stats func() source.PoolStats) (stop func()) {
	t := &target{stats: stats}
	m.observed.Store(t)
	return func() { m.observed.CompareAndSwap(t, nil) }
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
	t := m.observed.Load()
	if t == nil {
		// Nothing observed: the state gauge keeps the last State event.
		if last := m.last.Load(); last > 0 {
			m.observeState(o, "0", source.State(last-1))
		}
		return nil
	}
	ps := t.stats()
	for i, st := range ps.Sockets {
		m.observeState(o, strconv.Itoa(i), st.State)
	}
	st := &ps.Stats
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
		o.ObserveInt64(v.inst, clamp(v.n), base)
	}
	o.ObserveInt64(m.offlineBuffer, int64(st.OfflineBuffer), base)
	o.ObserveInt64(m.channels, int64(st.Channels), base)
	for i, n := range st.ChannelStatuses {
		o.ObserveInt64(m.status, int64(n), metric.WithAttributeSet(m.set(KeyStatus.String(statusLabels[i]))))
	}
	m.observeTraffic(o, st.Traffic)
	return nil
}

// observeState reports socket's state: 1 for it, 0 for the others.
func (m *Metrics) observeState(o metric.Observer, socket string, state source.State) {
	for _, s := range states {
		v := int64(0)
		if s == state {
			v = 1
		}
		o.ObserveInt64(m.state, v, metric.WithAttributeSet(m.set(KeySocket.String(socket), KeyState.String(s.String()))))
	}
}

// observeTraffic reports the traffic series: as they are with topic attributes, else summed by event (an
// attribute set observed twice in one callback would not add up).
func (m *Metrics) observeTraffic(o metric.Observer, traffic []source.Traffic) {
	if len(traffic) == 0 {
		return
	}
	if !m.cfg.topic {
		traffic = byEvent(traffic)
	}
	for _, tr := range traffic {
		attrs := metric.WithAttributeSet(m.set(KeyEvent.String(tr.Event)))
		if m.cfg.topic {
			attrs = metric.WithAttributeSet(m.set(KeyTopic.String(tr.Topic), KeyEvent.String(tr.Event)))
		}
		for i, v := range [4]uint64{tr.MessagesIn, tr.MessagesOut, tr.BytesIn, tr.BytesOut} {
			o.ObserveInt64(m.traffic[i], clamp(v), attrs)
		}
	}
}

// byEvent sums the series of each event over the topics, in the order events first appear.
func byEvent(traffic []source.Traffic) []source.Traffic {
	index := make(map[string]int)
	var out []source.Traffic
	for _, tr := range traffic {
		i, ok := index[tr.Event]
		if !ok {
			i = len(out)
			index[tr.Event] = i
			out = append(out, source.Traffic{Event: tr.Event})
		}
		out[i].MessagesIn += tr.MessagesIn
		out[i].BytesIn += tr.BytesIn
		out[i].MessagesOut += tr.MessagesOut
		out[i].BytesOut += tr.BytesOut
	}
	return out
}

// clamp is n as an int64, at most math.MaxInt64.
func clamp(n uint64) int64 { return int64(min(n, math.MaxInt64)) }

// set is the base attributes plus kv.
func (m *Metrics) set(kv ...attribute.KeyValue) attribute.Set {
	if m.base.Len() == 0 {
		return attribute.NewSet(kv...)
	}
	return attribute.NewSet(append(m.base.ToSlice(), kv...)...)
}

// topicSet is the base attributes, the topic with WithTopicLabel, and kv.
func (m *Metrics) topicSet(topic string, kv ...attribute.KeyValue) metric.MeasurementOption {
	if m.cfg.topic {
		kv = append(kv, KeyTopic.String(topic))
	}
	return metric.WithAttributeSet(m.set(kv...))
}

// State records the connection state for the state gauge (when no client is observed).
func (m *Metrics) State(s source.State) { m.last.Store(int32(s) + 1) }

// Reconnect counts a reconnect attempt by its cause ([source.ReconnectCause]).
func (m *Metrics) Reconnect(_ int, _ time.Duration, cause error) {
	m.reconnects.Add(context.Background(), 1,
		metric.WithAttributeSet(m.set(KeyCause.String(source.ReconnectCause(cause)))))
}

// Error counts an error by kind.
func (m *Metrics) Error(kind string, _ error) {
	m.errs.Add(context.Background(), 1, metric.WithAttributeSet(m.set(KeyKind.String(kind))))
}

// Heartbeat records a heartbeat round trip.
func (m *Metrics) Heartbeat(rtt time.Duration) {
	m.heartbeat.Record(context.Background(), rtt.Seconds(), metric.WithAttributeSet(m.base))
}

// Join records a join's latency by outcome (and topic, with WithTopicLabel).
func (m *Metrics) Join(topic, outcome string, d time.Duration) {
	m.join.Record(context.Background(), d.Seconds(), m.topicSet(topic, KeyOutcome.String(outcome)))
}

// Push records a push's latency by event and outcome (and topic, with WithTopicLabel).
func (m *Metrics) Push(topic, event, outcome string, d time.Duration) {
	m.push.Record(context.Background(), d.Seconds(),
		m.topicSet(topic, KeyEvent.String(event), KeyOutcome.String(outcome)))
}

// SlowConsumer counts a slow-consumer episode (of topic, with WithTopicLabel).
func (m *Metrics) SlowConsumer(topic string, _ uint64) {
	m.slow.Add(context.Background(), 1, m.topicSet(topic))
}
