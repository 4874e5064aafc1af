// Package prommetrics exports an rxrealtime client's metrics to Prometheus
// (github.com/prometheus/client_golang). It lives in its own module so that the core module does not depend
// on Prometheus.
//
// A [Metrics] is both a [source.Metrics] and a [prometheus.Collector]:
//   - pass it to [source.WithMetrics] and it records the client's events (state changes, reconnects and
//     their causes, errors by kind, heartbeat round trips, join and push latencies, slow consumers);
//   - register it with a registry; [Metrics.Observe] attaches a client, [Metrics.ObservePool] a
//     [source.Pool], whose [source.Stats] (frames and bytes in and out, decode errors, drops,
//     offline-buffer depth, channels and their statuses, traffic by topic and event...) are read at
//     scrape time, so the client's hot path pays nothing for them. Unregister it with the registry's
//     Unregister.
//
// A pool is reported as one client: its sockets share the Metrics (pass the same one to
// [source.NewPool]), the observed figures are summed over its sockets (a socket opened later included),
// and the state gauge has one series per socket, labelled with its index in [source.Pool.Sockets].
//
// Metrics (labels in brackets; [topic] only with [WithTopicLabel]):
//
//	rxrealtime_connection_state{socket,state}           gauge      1 for each socket's current state, 0 for the others
//	rxrealtime_reconnects_total{cause}                  counter    reconnect attempts, by source.ReconnectCause
//	rxrealtime_errors_total{kind}                       counter    errors published on Client.Errors, by source.ErrorKind*
//	rxrealtime_heartbeat_rtt_seconds                    histogram  heartbeat round trip
//	rxrealtime_join_duration_seconds{[topic],outcome}   histogram  phx_join to its reply
//	rxrealtime_push_duration_seconds{[topic],event,outcome} histogram  push to its reply
//	rxrealtime_slow_consumers_total{[topic]}            counter    slow-consumer episodes
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
//	rxrealtime_channel_status{status}                   gauge      (observed) live channels by status
//	rxrealtime_traffic_received_messages_total{[topic],event} counter  (observed, with source.WithTrafficByTopic)
//	rxrealtime_traffic_sent_messages_total{[topic],event}     counter  (observed, idem)
//	rxrealtime_traffic_received_bytes_total{[topic],event}    counter  (observed, idem) frame bytes
//	rxrealtime_traffic_sent_bytes_total{[topic],event}        counter  (observed, idem) frame bytes
//
// Label values: outcomes are the source.Outcome* strings ("ok", "error", "timeout", "cancelled",
// "connection_lost", "closed"); states the names of source.States() ("connecting", "open", "reconnecting",
// "closed", "idle"); statuses the channel statuses in lower case ("joining", "subscribed", "timed_out",
// "channel_error", "closed"); causes the source.Cause* strings; kinds the source.ErrorKind* strings.
//
// Cardinality: every label but topic and event has a fixed set of values. Topics are off by default
// ([WithTopicLabel] turns them on: one series per channel). A push's event is its Phoenix event
// ("broadcast", "presence"..., or the event given to Client.Push). The traffic series name a broadcast by
// its own event, a string of the application's: they are bounded by the client's limits
// ([source.WithTrafficByTopic], past which they count under source.TrafficOther), and without topic
// labels they are summed by event.
//
// One Metrics serves one client or one pool. To register several with one registry, create one Metrics
// each with [WithConstLabels] telling them apart.
package prommetrics

import (
	"math"
	"strconv"
	"strings"
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
	LabelSocket  = "socket"
	LabelStatus  = "status"
	LabelCause   = "cause"
	LabelKind    = "kind"
)

// DefaultBuckets are the histogram buckets, in seconds.
var DefaultBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

var states = source.States()

// statusLabels are the channel statuses' label values, by source.Status.
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
	labels  prometheus.Labels
	buckets []float64
}

// WithTopicLabel adds the topic label to the join, push, slow-consumer and traffic metrics: one series
// per channel, so it is off by default.
func WithTopicLabel() Option { return func(c *config) { c.topic = true } }

// WithoutTopicLabel leaves the topic label out, which is the default.
//
// Deprecated: topic labels are off unless [WithTopicLabel] turns them on.
func WithoutTopicLabel() Option { return func(c *config) { c.topic = false } }

// WithConstLabels adds constant labels to every metric, e.g. to tell several clients apart.
func WithConstLabels(l prometheus.Labels) Option { return func(c *config) { c.labels = l } }

// WithBuckets sets the histogram buckets, in seconds (default [DefaultBuckets]).
func WithBuckets(b ...float64) Option { return func(c *config) { c.buckets = b } }

// Metrics records a client's (or a pool's) metrics for Prometheus. Create it with [New]. Its methods
// never block: the event methods update in-memory metrics, and Collect reads [source.Client.Stats] (or
// [source.Pool.Stats]), which only takes the client's locks for a moment.
type Metrics struct {
	source.NopMetrics
	topic bool

	reconnects *prometheus.CounterVec
	errs       *prometheus.CounterVec
	slow       *prometheus.CounterVec
	heartbeat  prometheus.Histogram
	join, push *prometheus.HistogramVec

	state, status *prometheus.Desc
	counters      []statCounter
	gauges        []statGauge
	traffic       [4]*prometheus.Desc // received and sent messages, received and sent bytes

	last     atomic.Int32 // 1 + the last State event, 0 before the first
	observed atomic.Pointer[target]
}

// target is what Observe or ObservePool attached.
type target struct{ stats func() source.PoolStats }

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

// New returns a Metrics; register it with a [prometheus.Registerer] and pass it to [source.WithMetrics]
// (or to [source.NewPool], for all the pool's sockets).
func New(opts ...Option) *Metrics {
	cfg := config{buckets: DefaultBuckets}
	for _, o := range opts {
		o(&cfg)
	}
	m := &Metrics{topic: cfg.topic}
	withTopic := func(labels ...string) []string {
		if !cfg.topic {
			return labels
		}
		return append([]string{LabelTopic}, labels...)
	}
	m.reconnects = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rxrealtime_reconnects_total", Help: "Reconnect attempts, by the cause of the previous session's end.",
		ConstLabels: cfg.labels,
	}, []string{LabelCause})
	m.errs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rxrealtime_errors_total", Help: "Errors published on the client's error stream, by kind.",
		ConstLabels: cfg.labels,
	}, []string{LabelKind})
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
		"Connection state of each socket: 1 for the current state, 0 for the others.",
		[]string{LabelSocket, LabelState}, cfg.labels)
	m.status = prometheus.NewDesc("rxrealtime_channel_status", "Live channels by status.",
		[]string{LabelStatus}, cfg.labels)

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
	trafficLabels := withTopic(LabelEvent)
	for i, d := range []struct{ name, help string }{
		{"rxrealtime_traffic_received_messages_total", "Messages received, by event."},
		{"rxrealtime_traffic_sent_messages_total", "Messages sent, by event."},
		{"rxrealtime_traffic_received_bytes_total", "Size of the frames of the messages received, by event."},
		{"rxrealtime_traffic_sent_bytes_total", "Size of the frames of the messages sent, by event."},
	} {
		m.traffic[i] = prometheus.NewDesc(d.name, d.help, trafficLabels, cfg.labels)
	}
	return m
}

// Observe attaches c: from now on, Collect reads c.Stats() for the observed metrics, and the state gauge
// reads c's current state (as socket "0"). It replaces a client or pool observed before. stop detaches c
// (if it is still the observed client); the observed metrics are then no longer collected.
func (m *Metrics) Observe(c *source.Client) (stop func()) {
	return m.attach(func() source.PoolStats {
		st := c.Stats()
		return source.PoolStats{Stats: st, Sockets: []source.Stats{st}}
	})
}

// ObservePool attaches p: from now on, Collect reads p.Stats(): the observed metrics are the pool's
// figures summed over its sockets, and the state gauge has one series per socket, labelled with its index
// in p.Sockets() (sockets opened later included). It replaces a client or pool observed before. stop
// detaches p (if it is still the observed pool).
func (m *Metrics) ObservePool(p *source.Pool) (stop func()) { return m.attach(p.Stats) }

func (m *Metrics) attach(stats func() source.PoolStats) (stop func()) {
	t := &target{stats: stats}
	m.observed.Store(t)
	return func() { m.observed.CompareAndSwap(t, nil) }
}

// Describe implements [prometheus.Collector].
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.reconnects.Describe(ch)
	m.errs.Describe(ch)
	m.slow.Describe(ch)
	m.heartbeat.Describe(ch)
	m.join.Describe(ch)
	m.push.Describe(ch)
	ch <- m.state
	ch <- m.status
	for _, c := range m.counters {
		ch <- c.desc
	}
	for _, g := range m.gauges {
		ch <- g.desc
	}
	for _, d := range m.traffic {
		ch <- d
	}
}

// Collect implements [prometheus.Collector].
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.reconnects.Collect(ch)
	m.errs.Collect(ch)
	m.slow.Collect(ch)
	m.heartbeat.Collect(ch)
	m.join.Collect(ch)
	m.push.Collect(ch)

	t := m.observed.Load()
	if t == nil {
		// Nothing observed: the state gauge keeps the last State event.
		if last := m.last.Load(); last > 0 {
			m.collectState(ch, "0", source.State(last-1))
		}
		return
	}
	ps := t.stats()
	for i, st := range ps.Sockets {
		m.collectState(ch, strconv.Itoa(i), st.State)
	}
	st := &ps.Stats
	for _, k := range m.counters {
		ch <- prometheus.MustNewConstMetric(k.desc, prometheus.CounterValue, float64(min(k.get(st), math.MaxInt64)))
	}
	for _, g := range m.gauges {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(g.get(st)))
	}
	for i, n := range st.ChannelStatuses {
		ch <- prometheus.MustNewConstMetric(m.status, prometheus.GaugeValue, float64(n), statusLabels[i])
	}
	m.collectTraffic(ch, st.Traffic)
}

// collectState reports socket's state: 1 for it, 0 for the others.
func (m *Metrics) collectState(ch chan<- prometheus.Metric, socket string, state source.State) {
	for _, s := range states {
		v := 0.0
		if s == state {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(m.state, prometheus.GaugeValue, v, socket, s.String())
	}
}

// collectTraffic reports the traffic series: as they are with topic labels, else summed by event.
func (m *Metrics) collectTraffic(ch chan<- prometheus.Metric, traffic []source.Traffic) {
	if len(traffic) == 0 {
		return
	}
	if !m.topic {
		traffic = byEvent(traffic)
	}
	for _, tr := range traffic {
		labels := []string{tr.Event}
		if m.topic {
			labels = []string{tr.Topic, tr.Event}
		}
		for i, v := range [4]uint64{tr.MessagesIn, tr.MessagesOut, tr.BytesIn, tr.BytesOut} {
			ch <- prometheus.MustNewConstMetric(m.traffic[i], prometheus.CounterValue, float64(min(v, math.MaxInt64)), labels...)
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

// State records the connection state for the state gauge (when no client is observed).
func (m *Metrics) State(s source.State) { m.last.Store(int32(s) + 1) }

// Reconnect counts a reconnect attempt by its cause ([source.ReconnectCause]).
func (m *Metrics) Reconnect(_ int, _ time.Duration, cause error) {
	m.reconnects.WithLabelValues(source.ReconnectCause(cause)).Inc()
}

// Error counts an error by kind.
func (m *Metrics) Error(kind string, _ error) { m.errs.WithLabelValues(kind).Inc() }

// Heartbeat records a heartbeat round trip.
func (m *Metrics) Heartbeat(rtt time.Duration) { m.heartbeat.Observe(rtt.Seconds()) }

// Join records a join's latency by outcome (and topic, with WithTopicLabel).
func (m *Metrics) Join(topic, outcome string, d time.Duration) {
	if !m.topic {
		m.join.WithLabelValues(outcome).Observe(d.Seconds())
		return
	}
	m.join.WithLabelValues(topic, outcome).Observe(d.Seconds())
}

// Push records a push's latency by event and outcome (and topic, with WithTopicLabel).
func (m *Metrics) Push(topic, event, outcome string, d time.Duration) {
	if !m.topic {
		m.push.WithLabelValues(event, outcome).Observe(d.Seconds())
		return
	}
	m.push.WithLabelValues(topic, event, outcome).Observe(d.Seconds())
}

// SlowConsumer counts a slow-consumer episode (of topic, with WithTopicLabel).
func (m *Metrics) SlowConsumer(topic string, _ uint64) {
	if !m.topic {
		m.slow.WithLabelValues().Inc()
		return
	}
	m.slow.WithLabelValues(topic).Inc()
}
