// Package prommetrics exports an rxrealtime client's metrics to Prometheus
// (github.com/prometheus/client_golang). It lives in its own module so that the core module does not depend
// on Prometheus.
//
// A [Metrics] is both a [source.Metrics] and a [prometheus.Collector]:
//   - pass it to [source.WithMetrics] and it records the client's events (state changes, reconnects,
//     heartbeat round trips, join and push latencies, slow consumers);
//   - register it with a registry; [Metrics.Observe] attaches a client whose [source.Stats] (frames and bytes
//     in and out, decode errors, drops, offline-buffer depth, channels...) are read at scrape time, so the
//     client's hot path pays nothing for them. Unregister it with the registry's Unregister.
//
// Metrics (labels in brackets):
//
//	rxrealtime_connection_state{state}                  gauge      1 for the current state, 0 for the others
//	rxrealtime_reconnects_total                         counter    reconnect attempts
//	rxrealtime_heartbeat_rtt_seconds                    histogram  heartbeat round trip
//	rxrealtime_join_duration_seconds{topic,outcome}     histogram  phx_join to its reply
//	rxrealtime_push_duration_seconds{topic,event,outcome} histogram  push to its reply
//	rxrealtime_slow_consumers_total{topic}              counter    slow-consumer episodes
//	rxrealtime_received_frames_total                    counter    (observed)
//	rxrealtime_sent_frames_total                        counter    (observed)
//	rxrealtime_received_bytes_total                     counter    (observed)
//	rxrealtime_sent_bytes_total                         counter    (observed)
//	rxrealtime_decode_errors_total                      counter    (observed)
//	rxrealtime_dropped_values_total                     counter    (observed) values dropped by consumers' drop policies
//	rxrealtime_push_timeouts_total                      counter    (observed) pushes and joins without a reply in time
//	rxrealtime_notifications_dropped_total              counter    (observed) events lost because the observer was behind
//	rxrealtime_callback_panics_total                    counter    (observed)
//	rxrealtime_offline_buffer_depth                     gauge      (observed) pushes waiting for the socket
//	rxrealtime_channels                                 gauge      (observed) live channels
//
// Outcomes are the source.Outcome* strings ("ok", "error", "timeout", "cancelled", "connection_lost",
// "closed"); states are the names of source.States() ("connecting", "open", "reconnecting", "closed",
// "idle"). [WithoutTopicLabel] drops the topic label when topics are too many.
//
// One Metrics serves one client. To register several clients with one registry, create one Metrics per
// client with [WithConstLabels] telling them apart.
package prommetrics

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rxrealtime/rxrealtime/source"
)

// Label names.
const (
	LabelTopic   = "topic"
	LabelEvent   = "event"
	LabelOutcome = "outcome"
	LabelState   = "state"
)

// DefaultBuckets are the histogram buckets, in seconds.
var DefaultBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

var states = source.States()

// Option configures [New].
type Option func(*config)

type config struct {
	noTopic bool
	labels  prometheus.Labels
	buckets []float64
}

// WithoutTopicLabel drops the topic label from the join, push and slow-consumer metrics, for applications
// with many (or per-user) topics.
func WithoutTopicLabel() Option { return func(c *config) { c.noTopic = true } }

// WithConstLabels adds constant labels to every metric, e.g. to tell several clients apart.
func WithConstLabels(l prometheus.Labels) Option { return func(c *config) { c.labels = l } }

// WithBuckets sets the histogram buckets, in seconds (default [DefaultBuckets]).
func WithBuckets(b ...float64) Option { return func(c *config) { c.buckets = b } }

// Metrics records a client's metrics for Prometheus. Create it with [New]. Its methods never block: the
// event methods update in-memory metrics, and Collect reads [source.Client.Stats], which only takes the
// client's lock for a moment.
type Metrics struct {
	source.NopMetrics
	noTopic bool

	reconnects prometheus.Counter
	slow       *prometheus.CounterVec
	heartbeat  prometheus.Histogram
	join, push *prometheus.HistogramVec

	state    *prometheus.Desc
	counters []statCounter
	gauges   []statGauge

	last     atomic.Int32 // 1 + the last State event, 0 before the first
	observed atomic.Pointer[source.Client]
}

type statCounter struct {
	desc *prometheus.Desc
	get  func(*source.Stats) uint64
}

type statGauge struct {
	desc *prometheus.Desc
	get  func(*source.Stats) int
}

var (
	_ source.Metrics       = (*Metrics)(nil)
	_ prometheus.Collector = (*Metrics)(nil)
)

// New returns a Metrics; register it with a [prometheus.Registerer] and pass it to [source.WithMetrics].
func New(opts ...Option) *Metrics {
	cfg := config{buckets: DefaultBuckets}
	for _, o := range opts {
		o(&cfg)
	}
	m := &Metrics{noTopic: cfg.noTopic}
	withTopic := func(labels ...string) []string {
		if cfg.noTopic {
			return labels
		}
		return append([]string{LabelTopic}, labels...)
	}
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "rxrealtime_reconnects_total", Help: "Reconnect attempts.", ConstLabels: cfg.labels,
	})
	m.slow = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rxrealtime_slow_consumers_total", Help: "Slow-consumer episodes of the streams of a topic.",
		ConstLabels: cfg.labels,
	}, withTopic())
	m.heartbeat = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "rxrealtime_heartbeat_rtt_seconds", Help: "Round trip of heartbeats that got a reply.",
		ConstLabels: cfg.labels, Buckets: cfg.buckets,
	})
	m.join = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "rxrealtime_join_duration_seconds", Help: "Time from a channel's phx_join to its reply, by outcome.",
		ConstLabels: cfg.labels, Buckets: cfg.buckets,
	}, withTopic(LabelOutcome))
	m.push = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "rxrealtime_push_duration_seconds", Help: "Time from a push to its reply, by outcome.",
		ConstLabels: cfg.labels, Buckets: cfg.buckets,
	}, withTopic(LabelEvent, LabelOutcome))
	m.state = prometheus.NewDesc("rxrealtime_connection_state",
		"Connection state: 1 for the current state, 0 for the others.", []string{LabelState}, cfg.labels)

	counter := func(name, help string, get func(*source.Stats) uint64) statCounter {
		return statCounter{prometheus.NewDesc(name, help, nil, cfg.labels), get}
	}
	m.counters = []statCounter{
		counter("rxrealtime_received_frames_total", "Frames read from the socket.",
			func(s *source.Stats) uint64 { return s.FramesIn }),
		counter("rxrealtime_sent_frames_total", "Frames written to the socket.",
			func(s *source.Stats) uint64 { return s.FramesOut }),
		counter("rxrealtime_received_bytes_total", "Size of the frames read from the socket.",
			func(s *source.Stats) uint64 { return s.BytesIn }),
		counter("rxrealtime_sent_bytes_total", "Size of the frames written to the socket.",
			func(s *source.Stats) uint64 { return s.BytesOut }),
		counter("rxrealtime_decode_errors_total", "Frames or payloads that did not decode.",
			func(s *source.Stats) uint64 { return s.DecodeErrors }),
		counter("rxrealtime_dropped_values_total", "Values dropped by consumers' drop policies.",
			func(s *source.Stats) uint64 { return s.Dropped }),
		counter("rxrealtime_push_timeouts_total", "Pushes and joins without a reply in time.",
			func(s *source.Stats) uint64 { return s.PushTimeouts }),
		counter("rxrealtime_notifications_dropped_total",
			"Metrics, log and error-handler calls dropped because the observer goroutine was behind.",
			func(s *source.Stats) uint64 { return s.NotificationsDropped }),
		counter("rxrealtime_callback_panics_total", "Callbacks that panicked.",
			func(s *source.Stats) uint64 { return s.CallbackPanics }),
	}
	m.gauges = []statGauge{
		{prometheus.NewDesc("rxrealtime_offline_buffer_depth", "Pushes waiting for the socket.", nil, cfg.labels),
			func(s *source.Stats) int { return s.OfflineBuffer }},
		{prometheus.NewDesc("rxrealtime_channels", "Live channels.", nil, cfg.labels),
			func(s *source.Stats) int { return s.Channels }},
	}
	return m
}

// Observe attaches c: from now on, Collect reads c.Stats() for the observed metrics, and the state gauge
// reads c's current state. It replaces a client observed before. stop detaches c (if it is still the
// observed client); the observed metrics are then no longer collected.
func (m *Metrics) Observe(c *source.Client) (stop func()) {
	m.observed.Store(c)
	return func() { m.observed.CompareAndSwap(c, nil) }
}

// Describe implements [prometheus.Collector].
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.reconnects.Describe(ch)
	m.slow.Describe(ch)
	m.heartbeat.Describe(ch)
	m.join.Describe(ch)
	m.push.Describe(ch)
	ch <- m.state
	for _, c := range m.counters {
		ch <- c.desc
	}
	for _, g := range m.gauges {
		ch <- g.desc
	}
}

// Collect implements [prometheus.Collector].
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.reconnects.Collect(ch)
	m.slow.Collect(ch)
	m.heartbeat.Collect(ch)
	m.join.Collect(ch)
	m.push.Collect(ch)

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
			v := 0.0
			if s == state {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(m.state, prometheus.GaugeValue, v, s.String())
		}
	}
	if c == nil {
		return
	}
	for _, k := range m.counters {
		ch <- prometheus.MustNewConstMetric(k.desc, prometheus.CounterValue, float64(min(k.get(&st), math.MaxInt64)))
	}
	for _, g := range m.gauges {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(g.get(&st)))
	}
}

// State records the connection state for the state gauge (when no client is observed).
func (m *Metrics) State(s source.State) { m.last.Store(int32(s) + 1) }

// Reconnect counts a reconnect attempt.
func (m *Metrics) Reconnect(int, time.Duration, error) { m.reconnects.Inc() }

// Heartbeat records a heartbeat round trip.
func (m *Metrics) Heartbeat(rtt time.Duration) { m.heartbeat.Observe(rtt.Seconds()) }

// Join records a join's latency by topic and outcome.
func (m *Metrics) Join(topic, outcome string, d time.Duration) {
	if m.noTopic {
		m.join.WithLabelValues(outcome).Observe(d.Seconds())
		return
	}
	m.join.WithLabelValues(topic, outcome).Observe(d.Seconds())
}

// Push records a push's latency by topic, event and outcome.
func (m *Metrics) Push(topic, event, outcome string, d time.Duration) {
	if m.noTopic {
		m.push.WithLabelValues(event, outcome).Observe(d.Seconds())
		return
	}
	m.push.WithLabelValues(topic, event, outcome).Observe(d.Seconds())
}

// SlowConsumer counts a slow-consumer episode of topic.
func (m *Metrics) SlowConsumer(topic string, _ uint64) {
	if m.noTopic {
		m.slow.WithLabelValues().Inc()
		return
	}
	m.slow.WithLabelValues(topic).Inc()
}
