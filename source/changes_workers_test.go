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
