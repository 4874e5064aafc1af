package otelmetrics_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/otelmetrics"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// collected is one collection, indexed by instrument name.
type collected map[string]metricdata.Aggregation

func collect(t *testing.T, r *sdkmetric.ManualReader) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := collected{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// sum is the value of a counter or up-down counter at the data point matching attrs (all of them if none).
func (c collected) sum(name string, attrs ...attribute.KeyValue) (int64, bool) {
	s, ok := c[name].(metricdata.Sum[int64])
	if !ok {
		return 0, false
	}
	var total int64
	found := false
	for _, dp := range s.DataPoints {
		if hasAll(dp.Attributes, attrs) {
			total, found = total+dp.Value, true
		}
	}
	return total, found
}

func (c collected) gauge(name string, attrs ...attribute.KeyValue) (int64, bool) {
	g, ok := c[name].(metricdata.Gauge[int64])
	if !ok {
		return 0, false
	}
	for _, dp := range g.DataPoints {
		if hasAll(dp.Attributes, attrs) {
			return dp.Value, true
		}
	}
	return 0, false
}

// count is the number of observations of a histogram at the data points matching attrs.
func (c collected) count(name string, attrs ...attribute.KeyValue) uint64 {
	h, ok := c[name].(metricdata.Histogram[float64])
	if !ok {
		return 0
	}
	var n uint64
	for _, dp := range h.DataPoints {
		if hasAll(dp.Attributes, attrs) {
			n += dp.Count
		}
	}
	return n
}

func hasAll(set attribute.Set, attrs []attribute.KeyValue) bool {
	for _, kv := range attrs {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

func TestScriptedSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := realtimetest.NewServer()
	defer s.Close()

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { require.NoError(t, mp.Shutdown(context.Background())) }()
	m, err := otelmetrics.New(mp, otelmetrics.WithAttributes(attribute.String("client", "test")), otelmetrics.WithTopicLabel())
	require.NoError(t, err)
	defer func() { require.NoError(t, m.Unregister()) }()

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

	ok := otelmetrics.KeyOutcome.String(source.OutcomeOK)
	topic := otelmetrics.KeyTopic.String(ch.Topic())
	client0 := attribute.String("client", "test")
	require.Eventually(t, func() bool {
		c := collect(t, reader)
		reconnects, _ := c.sum("rxrealtime.reconnects", client0, otelmetrics.KeyCause.String(source.CauseConnectionLost))
		reconnectErrs, _ := c.sum("rxrealtime.errors", otelmetrics.KeyKind.String(source.ErrorKindReconnect))
		channelErrs, _ := c.sum("rxrealtime.errors", otelmetrics.KeyKind.String(source.ErrorKindChannel))
		joins, _ := c.sum("rxrealtime.traffic.messages.sent", topic, otelmetrics.KeyEvent.String(phoenix.EventJoin))
		open, _ := c.gauge("rxrealtime.connection.state", otelmetrics.KeySocket.String("0"), otelmetrics.KeyState.String("open"), client0)
		return reconnects >= 1 && reconnectErrs >= 1 && channelErrs >= 1 && joins == 2 && open == 1 &&
			c.count("rxrealtime.join.duration", topic, ok, client0) >= 2 &&
			c.count("rxrealtime.push.duration", topic, ok, otelmetrics.KeyEvent.String("broadcast")) >= 1 &&
			c.count("rxrealtime.heartbeat.rtt") >= 1
	}, 10*time.Second, 20*time.Millisecond)

	c := collect(t, reader)
	for _, name := range []string{"rxrealtime.frames.received", "rxrealtime.frames.sent",
		"rxrealtime.bytes.received", "rxrealtime.bytes.sent"} {
		v, found := c.sum(name, client0)
		assert.True(t, found, name)
		assert.Positive(t, v, name)
	}
	chans, found := c.sum("rxrealtime.channels")
	assert.True(t, found)
	assert.EqualValues(t, 1, chans)
	subscribed, found := c.sum("rxrealtime.channel.status", otelmetrics.KeyStatus.String("subscribed"))
	assert.True(t, found)
	assert.EqualValues(t, 1, subscribed)
	for _, st := range []string{"joining", "timed_out", "channel_error", "closed"} {
		v, found := c.sum("rxrealtime.channel.status", otelmetrics.KeyStatus.String(st))
		assert.True(t, found, st)
		assert.Zero(t, v, st)
	}
	sent, _ := c.sum("rxrealtime.traffic.messages.sent", topic, otelmetrics.KeyEvent.String("ev"))
	assert.EqualValues(t, 1, sent, "a broadcast by its own event")
	replies, _ := c.sum("rxrealtime.traffic.messages.received", otelmetrics.KeyTopic.String("phoenix"), otelmetrics.KeyEvent.String(phoenix.EventReply))
	assert.Positive(t, replies, "heartbeat replies")
	sentBytes, _ := c.sum("rxrealtime.traffic.bytes.sent", topic, otelmetrics.KeyEvent.String("ev"))
	assert.Positive(t, sentBytes)
	depth, found := c.sum("rxrealtime.offline_buffer.depth")
	assert.True(t, found)
	assert.Zero(t, depth)
	for _, st := range []string{"connecting", "reconnecting", "closed"} {
		v, found := c.gauge("rxrealtime.connection.state", otelmetrics.KeyState.String(st))
		assert.True(t, found, st)
		assert.Zero(t, v, st)
	}

	require.NoError(t, client.Close(ctx))
	// Detached, the observed instruments report nothing new; the state gauge keeps the last event.
	stop()
	require.Eventually(t, func() bool {
		closed, _ := collect(t, reader).gauge("rxrealtime.connection.state", otelmetrics.KeyState.String("closed"))
		return closed == 1
	}, 5*time.Second, 10*time.Millisecond)
}

// Issue 20, item 4: a Pool is reported whole. On main, observing each socket in turn reported
// rxrealtime.channels 2 (the last socket's) for 3 sockets and 6 channels, and one socket's state.
func TestScriptedSessionPool(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := realtimetest.NewServer()
	defer s.Close()

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { require.NoError(t, mp.Shutdown(context.Background())) }()
	m, err := otelmetrics.New(mp)
	require.NoError(t, err)
	defer func() { require.NoError(t, m.Unregister()) }()
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
	c := collect(t, reader)
	chanCount, _ := c.sum("rxrealtime.channels")
	assert.EqualValues(t, 6, chanCount, "channels summed over the sockets")
	subscribed, _ := c.sum("rxrealtime.channel.status", otelmetrics.KeyStatus.String("subscribed"))
	assert.EqualValues(t, 6, subscribed)
	for i := range 3 {
		socket := otelmetrics.KeySocket.String(strconv.Itoa(i))
		open, found := c.gauge("rxrealtime.connection.state", socket, otelmetrics.KeyState.String("open"))
		assert.True(t, found, "socket %d", i)
		assert.EqualValues(t, 1, open, "socket %d", i)
		reconnecting, _ := c.gauge("rxrealtime.connection.state", socket, otelmetrics.KeyState.String("reconnecting"))
		assert.Zero(t, reconnecting, "socket %d", i)
	}
	assert.Len(t, c["rxrealtime.connection.state"].(metricdata.Gauge[int64]).DataPoints, 3*len(source.States()), "a state per socket")
	require.Eventually(t, func() bool { // the writer counts a join once written: its reply may be read first
		joins, _ := collect(t, reader).sum("rxrealtime.traffic.messages.sent", otelmetrics.KeyEvent.String(phoenix.EventJoin))
		return joins == 6
	}, 5*time.Second, 10*time.Millisecond, "traffic summed over topics and sockets")
	_, found := collect(t, reader).sum("rxrealtime.traffic.messages.sent", otelmetrics.KeyTopic.String("realtime:room-0"))
	assert.False(t, found, "no topic attribute by default")

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
		c := collect(t, reader)
		reconnects, _ := c.sum("rxrealtime.reconnects", otelmetrics.KeyCause.String(source.CauseConnectionLost))
		reconnectErrs, _ := c.sum("rxrealtime.errors", otelmetrics.KeyKind.String(source.ErrorKindReconnect))
		channelErrs, _ := c.sum("rxrealtime.errors", otelmetrics.KeyKind.String(source.ErrorKindChannel))
		joins, _ := c.sum("rxrealtime.traffic.messages.sent", otelmetrics.KeyEvent.String(phoenix.EventJoin))
		subscribed, _ := c.sum("rxrealtime.channel.status", otelmetrics.KeyStatus.String("subscribed"))
		return reconnects >= 3 && reconnectErrs >= 3 && channelErrs >= 6 && joins == 12 && subscribed == 6
	}, 10*time.Second, 20*time.Millisecond)

	// One socket closed: its state says so, the others' do not.
	require.NoError(t, p.Sockets()[1].Close(ctx))
	c = collect(t, reader)
	closed, _ := c.gauge("rxrealtime.connection.state", otelmetrics.KeySocket.String("1"), otelmetrics.KeyState.String("closed"))
	assert.EqualValues(t, 1, closed)
	open, _ := c.gauge("rxrealtime.connection.state", otelmetrics.KeySocket.String("0"), otelmetrics.KeyState.String("open"))
	assert.EqualValues(t, 1, open)
	chanCount, _ = c.sum("rxrealtime.channels")
	assert.EqualValues(t, 4, chanCount)
}

// Topic attributes are opt-in.
func TestTopicLabelIsOptIn(t *testing.T) {
	for name, opts := range map[string][]otelmetrics.Option{
		"default":           nil,
		"WithoutTopicLabel": {otelmetrics.WithTopicLabel(), otelmetrics.WithoutTopicLabel()},
	} {
		t.Run(name, func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			defer func() { require.NoError(t, mp.Shutdown(context.Background())) }()
			m, err := otelmetrics.New(mp, opts...)
			require.NoError(t, err)
			m.Join("realtime:a", source.OutcomeOK, time.Millisecond)
			m.Join("realtime:b", source.OutcomeTimeout, time.Second)
			m.Push("realtime:a", "broadcast", source.OutcomeOK, time.Millisecond)
			m.SlowConsumer("realtime:a", 3)

			c := collect(t, reader)
			h := c["rxrealtime.join.duration"].(metricdata.Histogram[float64])
			require.Len(t, h.DataPoints, 2) // by outcome only
			for _, dp := range h.DataPoints {
				_, hasTopic := dp.Attributes.Value(otelmetrics.KeyTopic)
				assert.False(t, hasTopic)
			}
			slow, found := c.sum("rxrealtime.slow_consumers")
			assert.True(t, found)
			assert.EqualValues(t, 1, slow)
			_, found = c.sum("rxrealtime.frames.received")
			assert.False(t, found, "no client observed")
			_, found = c.gauge("rxrealtime.connection.state")
			assert.False(t, found, "no state known yet")
			require.NoError(t, m.Unregister())
			require.NoError(t, m.Unregister())
		})
	}

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { require.NoError(t, mp.Shutdown(context.Background())) }()
	m, err := otelmetrics.New(mp, otelmetrics.WithTopicLabel())
	require.NoError(t, err)
	defer func() { require.NoError(t, m.Unregister()) }()
	m.Join("realtime:a", source.OutcomeOK, time.Millisecond)
	m.Push("realtime:a", "broadcast", source.OutcomeOK, time.Millisecond)
	m.SlowConsumer("realtime:a", 3)
	c := collect(t, reader)
	topic := otelmetrics.KeyTopic.String("realtime:a")
	assert.EqualValues(t, 1, c.count("rxrealtime.join.duration", topic))
	assert.EqualValues(t, 1, c.count("rxrealtime.push.duration", topic, otelmetrics.KeyEvent.String("broadcast")))
	slow, _ := c.sum("rxrealtime.slow_consumers", topic)
	assert.EqualValues(t, 1, slow)
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
// no traffic data point.
func TestTrafficIsOffByDefault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := realtimetest.NewServer()
	defer s.Close()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { require.NoError(t, mp.Shutdown(context.Background())) }()
	m, err := otelmetrics.New(mp, otelmetrics.WithTopicLabel())
	require.NoError(t, err)
	defer func() { require.NoError(t, m.Unregister()) }()
	client, err := source.Connect(ctx, s.URL(), source.WithAPIKey("k"), source.WithMetrics(m))
	require.NoError(t, err)
	defer func() { require.NoError(t, client.Close(ctx)) }()
	defer m.Observe(client)()
	ch, err := client.Channel("room")
	require.NoError(t, err)
	require.NoError(t, ch.Subscribe(ctx))

	c := collect(t, reader)
	frames, _ := c.sum("rxrealtime.frames.received")
	assert.Positive(t, frames)
	for _, name := range []string{"rxrealtime.traffic.messages.received", "rxrealtime.traffic.messages.sent",
		"rxrealtime.traffic.bytes.received", "rxrealtime.traffic.bytes.sent"} {
		_, found := c.sum(name)
		assert.False(t, found, name)
	}
}
