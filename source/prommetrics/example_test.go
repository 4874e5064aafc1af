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
