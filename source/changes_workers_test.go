package source_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
)

// goroutinesSettled returns the goroutine count once it has stopped changing.
func goroutinesSettled() int {
	n := runtime.NumGoroutine()
	for range 200 {
		time.Sleep(2 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

// A typed change stream observed with Observe keeps no goroutine per consumer (the client's shared
// workers decode), and every consumer still receives every change, then ends with its context.
func TestChangesObserveNeedsNoGoroutinePerConsumer(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "db", source.WithPostgresChanges(postgres.Binding{Table: "todos"}))
	chSubscribe(t, ch)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	before := goroutinesSettled()
	outs := make([]<-chan postgres.Change[todo], 50)
	for i := range outs {
		outs[i] = source.Changes[todo](ch).Observe(ctx, stream.Block())
	}
	assert.LessOrEqual(t, goroutinesSettled()-before, 0, "no goroutine per idle consumer")

	for i := range 3 {
		emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos",
			Columns: todoColumns, Record: todo{ID: int64(i), Title: "t"}})
	}
	for _, out := range outs {
		for i := range 3 {
			select {
			case v := <-out:
				require.Equal(t, int64(i), v.New.ID)
			case <-time.After(chWait):
				t.Fatal("change not delivered")
			}
		}
	}
	cancel()
	for _, out := range outs {
		for range out {
		}
	}
}

// A change consumer that stops reading holds up neither the socket nor another channel's consumers on the
// shared decoding workers, and both streams end when the client closes.
func TestStalledChangesConsumerHoldsUpNoOtherChannel(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	stuck := chNew(t, c, "stuck", source.WithPostgresChanges(postgres.Binding{Table: "stuck"}))
	live := chNew(t, c, "live", source.WithPostgresChanges(postgres.Binding{Table: "live"}))
	chSubscribe(t, stuck)
	chSubscribe(t, live)
	ctx := t.Context()
	forgotten := source.Changes[todo](stuck).Observe(ctx, stream.Block()) // never read
	got := source.Changes[todo](live).Observe(ctx)

	for i := range 300 { // far past the stuck consumer's channel buffer
		emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "stuck",
			Columns: todoColumns, Record: todo{ID: int64(i), Title: "s"}})
	}
	for i := range 20 {
		emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "live",
			Columns: todoColumns, Record: todo{ID: int64(i), Title: "l"}})
		select {
		case v := <-got:
			require.Equal(t, int64(i), v.New.ID)
		case <-time.After(chWait):
			t.Fatalf("live change %d not delivered while another consumer is stalled", i)
		}
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), chWait)
	defer cancel()
	require.NoError(t, c.Close(closeCtx))
	n := 0
	for range forgotten { // the stalled stream still ends, after its queued changes
		n++
	}
	assert.Equal(t, 300, n, "Block keeps every change of the stalled consumer")
	for range got {
	}
}
