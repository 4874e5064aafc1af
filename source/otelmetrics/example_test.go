package otelmetrics_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/otelmetrics"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func Example() {
	s := realtimetest.NewServer()
	defer s.Close()
	ctx := context.Background()

	// In production the MeterProvider has an exporter's reader; a manual reader shows the figures here.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)

	m, err := otelmetrics.New(mp)
	if err != nil {
		panic(err)
	}
	defer m.Unregister()
	client, err := source.Connect(ctx, s.URL(), source.WithAPIKey("k"), source.WithMetrics(m))
	if err != nil {
		panic(err)
	}
	defer client.Close(ctx)
	stop := m.Observe(client) // frames, bytes, buffer depth... are read from client.Stats() at collection
	defer stop()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if mt.Name == "rxrealtime.frames.sent" {
				fmt.Println(mt.Name, mt.Unit, mt.Data.(metricdata.Sum[int64]).DataPoints[0].Value >= 0)
			}
		}
	}
	// Output: rxrealtime.frames.sent {frame} true
}
