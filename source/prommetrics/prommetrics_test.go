package prommetrics_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/prommetrics"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gathered is one Gather, indexed by metric family name.
type gathered map[string]*dto.MetricFamily

func gather(t *testing.T, g prometheus.Gatherer) gathered {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	out := gathered{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// metrics are the family's metrics whose labels include all of labels (name, value, name, value...).
func (g gathered) metrics(name string, labels ...string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range g[name].GetMetric() {
		if hasAll(m, labels) {
			out = append(out, m)
		}
	}
	return out
}

func hasAll(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// value is the counter or gauge value of the only metric matching labels, -1 unless there is exactly one.
func (g gathered) value(name string, labels ...string) float64 {
	ms := g.metrics(name, labels...)
	if len(ms) != 1 {
		return -1
	}
	if c := ms[0].GetCounter(); c != nil {
		return c.GetValue()
	}
	return ms[0].GetGauge().GetValue()
}

// count is the number of histogram observations over the metrics matching labels.
func (g gathered) count(name string, labels ...string) uint64 {
	var n uint64
	for _, m := range g.metrics(name, labels...) {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

func TestScriptedSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := realtimetest.NewServer()
	defer s.Close()

	reg := prometheus.NewPedanticRegistry()
	m := prommetrics.New(prommetrics.WithConstLabels(prometheus.Labels{"client": "test"}), prommetrics.WithTopicLabel())
	require.NoError(t, reg.Register(m))

	client, err := source.Connect(ctx, s.URL(), source.WithAPIKey("k"), source.WithMetrics(m),
		source.WithHeartbeat(100*time.Millisecond, 100*time.Millisecond),
		source.WithReconnectBackoff(operators.StepBackoff{20 * time.Millisecond}),
		source.WithTrafficByTopic(16, 8))
	require.NoError(t, err)
	stop := m.Observe(client)
	defer stop()

	ch, err := client.Channel("room", source.WithBroadcastAck())
	require.NoError(t, err)
	statuses := ch.Statuses().Observe(ctx)
	require.NoError(t, ch.Subscribe(ctx))
	require.NoError(t, ch.Send(ctx, "ev", map[string]int{"a": 1}))

	// Drop the connection and wait for the channel to be subscribed again.
	waitStatus(t, statuses, source.StatusSubscribed) // the first join
	s.Faults().DropAll()
	waitStatus(t, statuses, source.StatusChannelError)
	waitStatus(t, statuses, source.StatusSubscribed)

	topic := ch.Topic()
	require.Eventually(t, func() bool {
		g := gather(t, reg)
		return g.value("rxrealtime_reconnects_total", "cause", source.CauseConnectionLost, "client", "test") >= 1 &&
			g.value("rxrealtime_errors_total", "kind", source.ErrorKindReconnect) >= 1 &&
			g.value("rxrealtime_errors_total", "kind", source.ErrorKindChannel) >= 1 &&
			g.value("rxrealtime_connection_state", "socket", "0", "state", "open", "client", "test") == 1 &&
			g.value("rxrealtime_traffic_sent_messages_total", "topic", topic, "event", phoenix.EventJoin) == 2 &&
			g.count("rxrealtime_join_duration_seconds", "topic", topic, "outcome", source.OutcomeOK) >= 2 &&
			g.count("rxrealtime_push_duration_seconds", "topic", topic, "event", "broadcast",
				"outcome", source.OutcomeOK) >= 1 &&
			g.count("rxrealtime_heartbeat_rtt_seconds") >= 1
	}, 10*time.Second, 20*time.Millisecond)

	g := gather(t, reg)
	for _, name := range []string{"rxrealtime_received_frames_total", "rxrealtime_sent_frames_total",
		"rxrealtime_received_bytes_total", "rxrealtime_sent_bytes_total"} {
		assert.Positive(t, g.value(name, "client", "test"), name)
	}
	assert.Equal(t, 1.0, g.value("rxrealtime_channels"))
	assert.Equal(t, 1.0, g.value("rxrealtime_channel_status", "status", "subscribed"))
	for _, st := range []string{"joining", "timed_out", "channel_error", "closed"} {
		assert.Equal(t, 0.0, g.value("rxrealtime_channel_status", "status", st), st)
	}
	assert.Equal(t, 1.0, g.value("rxrealtime_traffic_sent_messages_total", "topic", topic, "event", "ev"), "a broadcast by its own event")
	assert.Positive(t, g.value("rxrealtime_traffic_received_messages_total", "topic", "phoenix", "event", phoenix.EventReply), "heartbeat replies")
	assert.Positive(t, g.value("rxrealtime_traffic_sent_bytes_total", "topic", topic, "event", "ev"))
	assert.Equal(t, 0.0, g.value("rxrealtime_offline_buffer_depth"))
	assert.Equal(t, 0.0, g.value("rxrealtime_decode_errors_total"))
	for _, st := range []string{"connecting", "reconnecting", "closed"} {
		assert.Equal(t, 0.0, g.value("rxrealtime_connection_state", "state", st), st)
	}
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)

	require.NoError(t, client.Close(ctx))
	// Detached, the observed metrics go away; the state gauge keeps the last event.
	stop()
	require.Eventually(t, func() bool {
		return gather(t, reg).value("rxrealtime_connection_state", "state", "closed") == 1
	}, 5*time.Second, 10*time.Millisecond)
	assert.Empty(t, gather(t, reg).metrics("rxrealtime_received_frames_total"))

	assert.True(t, reg.Unregister(m))
	assert.Empty(t, gather(t, reg))
}

// Issue 20, item 4: a Pool is reported whole. On main, observing each socket in turn reported
// rxrealtime_channels 2 (the last socket's) for 3 sockets and 6 channels, and one socket's state.
func TestScriptedSessionPool(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := realtimetest.NewServer()
	defer s.Close()

	reg := prometheus.NewPedanticRegistry()
	m := prommetrics.New()
	require.NoError(t, reg.Register(m))
	p, err := source.ConnectPool(ctx, s.URL(), source.WithAPIKey("k"), source.WithMetrics(m),
		source.WithChannelsPerSocket(2), source.WithTrafficByTopic(16, 8),
		source.WithHeartbeat(100*time.Millisecond, 100*time.Millisecond),
		source.WithReconnectBackoff(operators.StepBackoff{20 * time.Millisecond}))
	require.NoError(t, err)
	defer func() { require.NoError(t, p.Close(ctx)) }()
	stop := m.ObservePool(p)
	defer stop()

	var chans []*source.Channel
	for i := range 6 {
		ch, err := p.Channel(fmt.Sprintf("room-%d", i))
		require.NoError(t, err)
		require.NoError(t, ch.Subscribe(ctx))
		chans = append(chans, ch)
	}
	require.Len(t, p.Sockets(), 3)
	g := gather(t, reg)
	assert.Equal(t, 6.0, g.value("rxrealtime_channels"), "channels summed over the sockets")
	assert.Equal(t, 6.0, g.value("rxrealtime_channel_status", "status", "subscribed"))
	for i := range 3 {
		socket := strconv.Itoa(i)
		assert.Equal(t, 1.0, g.value("rxrealtime_connection_state", "socket", socket, "state", "open"), "socket %d", i)
		assert.Equal(t, 0.0, g.value("rxrealtime_connection_state", "socket", socket, "state", "reconnecting"), "socket %d", i)
	}
	assert.Len(t, g.metrics("rxrealtime_connection_state"), 3*len(source.States()), "a state per socket")
	var framesIn float64
	for _, sock := range p.Stats().Sockets {
		framesIn += float64(sock.FramesIn)
	}
	assert.LessOrEqual(t, framesIn, g.value("rxrealtime_received_frames_total"), "frames summed over the sockets")
	require.Eventually(t, func() bool { // the writer counts a join once written: its reply may be read first
		return gather(t, reg).value("rxrealtime_traffic_sent_messages_total", "event", phoenix.EventJoin) == 6
	}, 5*time.Second, 10*time.Millisecond, "traffic summed over topics and sockets")
	assert.Empty(t, g.metrics("rxrealtime_traffic_sent_messages_total", "topic", "realtime:room-0"), "no topic label by default")

	// Every socket drops: each reconnects and its channels rejoin.
	statuses := make([]<-chan source.StatusEvent, len(chans))
	for i, ch := range chans {
		statuses[i] = ch.Statuses().Observe(ctx)
		waitStatus(t, statuses[i], source.StatusSubscribed)
	}
	s.Faults().DropAll()
	for _, st := range statuses {
		waitStatus(t, st, source.StatusChannelError)
		waitStatus(t, st, source.StatusSubscribed)
	}
	require.Eventually(t, func() bool {
		g := gather(t, reg)
		return g.value("rxrealtime_reconnects_total", "cause", source.CauseConnectionLost) >= 3 &&
			g.value("rxrealtime_errors_total", "kind", source.ErrorKindReconnect) >= 3 &&
			g.value("rxrealtime_errors_total", "kind", source.ErrorKindChannel) >= 6 &&
			g.value("rxrealtime_traffic_sent_messages_total", "event", phoenix.EventJoin) == 12 &&
			g.value("rxrealtime_channel_status", "status", "subscribed") == 6
	}, 10*time.Second, 20*time.Millisecond)

	// One socket closed: its state says so, the others' do not.
	require.NoError(t, p.Sockets()[1].Close(ctx))
	g = gather(t, reg)
	assert.Equal(t, 1.0, g.value("rxrealtime_connection_state", "socket", "1", "state", "closed"))
	assert.Equal(t, 1.0, g.value("rxrealtime_connection_state", "socket", "0", "state", "open"))
	assert.Equal(t, 4.0, g.value("rxrealtime_channels"))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// Topic labels are opt-in.
func TestTopicLabelIsOptIn(t *testing.T) {
	for name, opts := range map[string][]prommetrics.Option{
		"default":           nil,
		"WithoutTopicLabel": {prommetrics.WithTopicLabel(), prommetrics.WithoutTopicLabel()},
	} {
		t.Run(name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			m := prommetrics.New(opts...)
			require.NoError(t, reg.Register(m))
			m.Join("realtime:a", source.OutcomeOK, time.Millisecond)
			m.Join("realtime:b", source.OutcomeTimeout, time.Second)
			m.Push("realtime:a", "broadcast", source.OutcomeOK, time.Millisecond)
			m.SlowConsumer("realtime:a", 3)

			g := gather(t, reg)
			joins := g.metrics("rxrealtime_join_duration_seconds")
			require.Len(t, joins, 2) // by outcome only
			for _, j := range joins {
				require.Len(t, j.GetLabel(), 1)
				assert.Equal(t, prommetrics.LabelOutcome, j.GetLabel()[0].GetName())
			}
			assert.Equal(t, 1.0, g.value("rxrealtime_slow_consumers_total"))
			assert.Empty(t, g.metrics("rxrealtime_received_frames_total"), "no client observed")
			assert.Empty(t, g.metrics("rxrealtime_connection_state"), "no state known yet")
		})
	}

	reg := prometheus.NewPedanticRegistry()
	m := prommetrics.New(prommetrics.WithTopicLabel())
	require.NoError(t, reg.Register(m))
	m.Join("realtime:a", source.OutcomeOK, time.Millisecond)
	m.Push("realtime:a", "broadcast", source.OutcomeOK, time.Millisecond)
	m.SlowConsumer("realtime:a", 3)
	g := gather(t, reg)
	assert.Len(t, g.metrics("rxrealtime_join_duration_seconds", "topic", "realtime:a"), 1)
	assert.Equal(t, uint64(1), g.count("rxrealtime_push_duration_seconds", "topic", "realtime:a", "event", "broadcast"))
	assert.Equal(t, 1.0, g.value("rxrealtime_slow_consumers_total", "topic", "realtime:a"))

	// Two clients share a registry when their constant labels differ.
	a := prommetrics.New(prommetrics.WithConstLabels(prometheus.Labels{"client": "a"}))
	b := prommetrics.New(prommetrics.WithConstLabels(prometheus.Labels{"client": "b"}))
	reg2 := prometheus.NewPedanticRegistry()
	require.NoError(t, reg2.Register(a))
	require.NoError(t, reg2.Register(b))
}

func waitStatus(t *testing.T, statuses <-chan source.StatusEvent, want source.Status) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-statuses:
			require.True(t, ok, "statuses ended before %v", want)
			if ev.Status == want {
				return
			}
		case <-timeout:
			t.Fatalf("no %v status", want)
		}
	}
}

// Issue 21, item 5: traffic by topic and event is opt-in (source.WithTrafficByTopic): without it there is
// no traffic series.
func TestTrafficIsOffByDefault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := realtimetest.NewServer()
	defer s.Close()
	reg := prometheus.NewPedanticRegistry()
	m := prommetrics.New(prommetrics.WithTopicLabel())
	require.NoError(t, reg.Register(m))
	client, err := source.Connect(ctx, s.URL(), source.WithAPIKey("k"), source.WithMetrics(m))
	require.NoError(t, err)
	defer func() { require.NoError(t, client.Close(ctx)) }()
	defer m.Observe(client)()
	ch, err := client.Channel("room")
	require.NoError(t, err)
	require.NoError(t, ch.Subscribe(ctx))

	g := gather(t, reg)
	assert.Positive(t, g.value("rxrealtime_received_frames_total"))
	for name := range g {
		assert.NotContains(t, name, "traffic")
	}
}
