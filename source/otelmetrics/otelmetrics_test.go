package otelmetrics_test

import (
	"context"
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
	m, err := otelmetrics.New(mp, otelmetrics.WithAttributes(attribute.String("client", "test")))
	require.NoError(t, err)
	defer func() { require.NoError(t, m.Unregister()) }()

	client, err := source.Connect(ctx, s.URL(), source.WithAPIKey("k"), source.WithMetrics(m),
		source.WithHeartbeat(100*time.Millisecond, 100*time.Millisecond),
		source.WithReconnectBackoff(operators.StepBackoff{20 * time.Millisecond}))
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
		reconnects, _ := c.sum("rxrealtime.reconnects", client0)
		open, _ := c.gauge("rxrealtime.connection.state", otelmetrics.KeyState.String("open"), client0)
		return reconnects >= 1 && open == 1 &&
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

func TestWithoutTopicLabel(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { require.NoError(t, mp.Shutdown(context.Background())) }()
	m, err := otelmetrics.New(mp, otelmetrics.WithoutTopicLabel())
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
