package prommetrics_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/prommetrics"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func Example() {
	s := realtimetest.NewServer()
	defer s.Close()
	ctx := context.Background()

	// In production: prometheus.DefaultRegisterer, served by promhttp.Handler().
	reg := prometheus.NewRegistry()
	m := prommetrics.New()
	reg.MustRegister(m)
	defer reg.Unregister(m)

	client, err := source.Connect(ctx, s.URL(), source.WithAPIKey("k"), source.WithMetrics(m))
	if err != nil {
		panic(err)
	}
	defer client.Close(ctx)
	stop := m.Observe(client) // frames, bytes, buffer depth... are read from client.Stats() at scrape time
	defer stop()

	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP rxrealtime_channels Live channels.
# TYPE rxrealtime_channels gauge
rxrealtime_channels 0
# HELP rxrealtime_connection_state Connection state of each socket: 1 for the current state, 0 for the others.
# TYPE rxrealtime_connection_state gauge
rxrealtime_connection_state{socket="0",state="closed"} 0
rxrealtime_connection_state{socket="0",state="connecting"} 0
rxrealtime_connection_state{socket="0",state="idle"} 0
rxrealtime_connection_state{socket="0",state="open"} 1
rxrealtime_connection_state{socket="0",state="reconnecting"} 0
`), "rxrealtime_channels", "rxrealtime_connection_state")
	fmt.Println(err)
	// Output: <nil>
}

// A pool's sockets share one Metrics; ObservePool reports the pool as one client, with a state per socket.
func ExampleMetrics_ObservePool() {
	s := realtimetest.NewServer()
	defer s.Close()
	ctx := context.Background()

	reg := prometheus.NewRegistry()
	m := prommetrics.New()
	reg.MustRegister(m)
	defer reg.Unregister(m)

	p, err := source.ConnectPool(ctx, s.URL(), source.WithAPIKey("k"), source.WithMetrics(m),
		source.WithChannelsPerSocket(2))
	if err != nil {
		panic(err)
	}
	defer p.Close(ctx)
	stop := m.ObservePool(p) // read from p.Stats() at scrape time: summed over the sockets, a state per socket
	defer stop()
	for _, name := range []string{"a", "b", "c"} {
		ch, err := p.Channel(name)
		if err != nil {
			panic(err)
		}
		if err := ch.Subscribe(ctx); err != nil {
			panic(err)
		}
	}

	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP rxrealtime_channel_status Live channels by status.
# TYPE rxrealtime_channel_status gauge
rxrealtime_channel_status{status="channel_error"} 0
rxrealtime_channel_status{status="closed"} 0
rxrealtime_channel_status{status="joining"} 0
rxrealtime_channel_status{status="subscribed"} 3
rxrealtime_channel_status{status="timed_out"} 0
# HELP rxrealtime_channels Live channels.
# TYPE rxrealtime_channels gauge
rxrealtime_channels 3
# HELP rxrealtime_connection_state Connection state of each socket: 1 for the current state, 0 for the others.
# TYPE rxrealtime_connection_state gauge
rxrealtime_connection_state{socket="0",state="closed"} 0
rxrealtime_connection_state{socket="0",state="connecting"} 0
rxrealtime_connection_state{socket="0",state="idle"} 0
rxrealtime_connection_state{socket="0",state="open"} 1
rxrealtime_connection_state{socket="0",state="reconnecting"} 0
rxrealtime_connection_state{socket="1",state="closed"} 0
rxrealtime_connection_state{socket="1",state="connecting"} 0
rxrealtime_connection_state{socket="1",state="idle"} 0
rxrealtime_connection_state{socket="1",state="open"} 1
rxrealtime_connection_state{socket="1",state="reconnecting"} 0
`), "rxrealtime_channels", "rxrealtime_channel_status", "rxrealtime_connection_state")
	fmt.Println(err)
	// Output: <nil>
}
