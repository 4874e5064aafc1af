package stream_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/stream"
)

// itoa maps every value but the multiples of 3 to its decimal form.
func itoa() func(int) (string, bool) {
	return func(v int) (string, bool) { return strconv.Itoa(v), v%3 != 0 }
}

// pool runs the consumers of the MapHub streams of these tests.
var pool stream.Workers

func drainAll[T any](ch <-chan T) []T {
	var all []T
	for v := range ch {
		all = append(all, v)
	}
	return all
}

// settledGoroutines returns the goroutine count once it has stopped falling.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 100 {
		time.Sleep(time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

// Observed at a NeverWait hub, a MapHub stream keeps no goroutine per consumer, idle or not, and still
// delivers every value, mapped and in order, then ends with the hub.
func TestMapHubObserveNeedsNoGoroutine(t *testing.T) {
	h := stream.NewHub[int](stream.NeverWait())
	s := stream.MapHub(h, &pool, nil, itoa)
	before := settledGoroutines()
	outs := make([]<-chan string, 100)
	for i := range outs {
		outs[i] = s.Observe(t.Context(), stream.Block())
	}
	assert.Equal(t, 100, h.Consumers(), "registered when Observe returns")
	assert.LessOrEqual(t, settledGoroutines()-before, 0, "no goroutine per consumer")
	for i := range 200 {
		h.Emit(i)
	}
	h.Complete(nil)
	var want []string
	for i := range 200 {
		if i%3 != 0 {
			want = append(want, strconv.Itoa(i))
		}
	}
	for _, out := range outs {
		assert.Equal(t, want, drainAll(out))
	}
}

// keep filters on the producer's side; Run and Subscribe (the fallback path) map as Observe does.
func TestMapHubKeepAndRun(t *testing.T) {
	h := stream.NewHub[int](stream.NeverWait())
	s := stream.MapHub(h, &pool, func(v int) bool { return v < 10 }, itoa)
	assert.Equal(t, 1, s.Hubs())
	var got []string
	sub := s.Subscribe(t.Context(), func(v string) { got = append(got, v) }, stream.Block())
	out := s.Observe(t.Context(), stream.Block())
	for i := range 20 {
		h.Emit(i)
	}
	h.Complete(nil)
	want := []string{"1", "2", "4", "5", "7", "8"}
	assert.Equal(t, want, drainAll(out))
	require.NoError(t, sub.Wait())
	assert.Equal(t, want, got)
}

// A consumer that stops reading holds up neither the producer nor the other consumers; cancelling its
// context ends its stream.
func TestMapHubStalledConsumer(t *testing.T) {
	h := stream.NewHub[int](stream.NeverWait())
	s := stream.MapHub(h, &pool, nil, func() func(int) (int, bool) { return func(v int) (int, bool) { return v, true } })
	ctx, cancel := context.WithCancel(t.Context())
	stalled := s.Observe(ctx, stream.Block(), stream.WithBuffer(1))
	reader := s.Observe(t.Context(), stream.Block())
	const n = 10_000
	got := make(chan []int)
	go func() { got <- drainAll(reader) }()
	for i := range n {
		h.Emit(i)
	}
	h.Complete(nil)
	all := <-got
	require.Len(t, all, n)
	for i, v := range all {
		require.Equal(t, i, v)
	}
	assert.Equal(t, 0, <-stalled, "the stalled consumer's first value")
	cancel()
	for range stalled {
	}
}

// Cancelling ctx closes the channel and unregisters the consumer, whether it is idle or not.
func TestMapHubCancel(t *testing.T) {
	h := stream.NewHub[int](stream.NeverWait())
	s := stream.MapHub(h, &pool, nil, itoa)
	ctx, cancel := context.WithCancel(t.Context())
	out := s.Observe(ctx)
	require.Equal(t, 1, h.Consumers())
	h.Emit(1)
	assert.Equal(t, "1", <-out)
	cancel()
	for range out {
	}
	waitConsumers(t, h, 0)

	done, cancelDone := context.WithCancel(t.Context())
	cancelDone()
	_, open := <-s.Observe(done)
	assert.False(t, open, "a consumer whose context has ended gets a closed channel")
	assert.Equal(t, 0, h.Consumers())
}

// The terminal error goes to OnError, or else to the unhandled-error handler, after the last value and
// before the channel closes.
func TestMapHubTerminalError(t *testing.T) {
	var mu sync.Mutex
	var unhandled []error
	prev := stream.SetUnhandledErrorHandler(func(err error) {
		mu.Lock()
		unhandled = append(unhandled, err)
		mu.Unlock()
	})
	defer stream.SetUnhandledErrorHandler(prev)

	h := stream.NewHub[int](stream.NeverWait())
	s := stream.MapHub(h, &pool, nil, itoa)
	var onErr atomic.Value
	withHandler := s.Observe(t.Context(), stream.OnError(func(err error) { onErr.Store(err) }))
	plain := s.Observe(t.Context())
	h.Emit(1)
	h.Emit(2)
	h.Complete(errBoom)
	assert.Equal(t, []string{"1", "2"}, drainAll(withHandler))
	assert.Equal(t, errBoom, onErr.Load())
	assert.Equal(t, []string{"1", "2"}, drainAll(plain))
	mu.Lock()
	assert.Equal(t, []error{errBoom}, unhandled)
	mu.Unlock()

	var late atomic.Value
	assert.Empty(t, drainAll(s.Observe(t.Context(), stream.OnError(func(err error) { late.Store(err) }))))
	assert.Equal(t, errBoom, late.Load(), "a consumer after the end")
}

// A consumer of a ReplayLatest hub gets the current value first, or the final one after Complete.
func TestMapHubReplayLatest(t *testing.T) {
	h := stream.NewHub[int](stream.ReplayLatest())
	s := stream.MapHub(h, &pool, nil, itoa)
	h.Emit(1)
	out := s.Observe(t.Context())
	h.Emit(2)
	h.Complete(nil)
	assert.Equal(t, []string{"1", "2"}, drainAll(out))
	assert.Equal(t, []string{"2"}, drainAll(s.Observe(t.Context())))
}

// Drop policies and slow-consumer reports are the hub's, as for any consumer of a NeverWait hub.
func TestMapHubDropsAndSlowConsumers(t *testing.T) {
	var slow atomic.Int64
	var dropped atomic.Uint64
	h := stream.NewHub[int](stream.NeverWait(), stream.DropCounter(&dropped),
		stream.OnSlowConsumer(func(stream.SlowConsumer) { slow.Add(1) }))
	gate := make(chan struct{})
	s := stream.MapHub(h, &pool, nil, func() func(int) (int, bool) {
		return func(v int) (int, bool) {
			<-gate // the consumer is held up: its mailbox fills
			return v, true
		}
	})
	out := s.Observe(t.Context(), stream.DropNewest(), stream.WithBuffer(4))
	h.Emit(0)
	for dropped.Load() == 0 {
		h.Emit(1)
		runtime.Gosched()
	}
	close(gate)
	h.Complete(nil)
	got := drainAll(out)
	assert.Equal(t, 0, got[0])
	assert.LessOrEqual(t, len(got), 6, "the value being mapped, one past it, and a full mailbox")
	assert.Equal(t, int64(1), slow.Load(), "one episode")
}

// At a hub that is not NeverWait, or with OnDrop, Observe runs the stream on a goroutine as usual.
func TestMapHubFallback(t *testing.T) {
	h := stream.NewHub[int]()
	s := stream.MapHub(h, &pool, nil, itoa)
	out := s.Observe(t.Context())
	var drops atomic.Uint64
	n := stream.NewHub[int](stream.NeverWait())
	withDrop := stream.MapHub(n, &pool, nil, itoa).Observe(t.Context(), stream.OnDrop(func(d uint64) { drops.Add(d) }))
	h.Emit(1)
	h.Emit(3)
	h.Emit(4)
	h.Complete(nil)
	n.Emit(2)
	n.Complete(nil)
	assert.Equal(t, []string{"1", "4"}, drainAll(out))
	assert.Equal(t, []string{"2"}, drainAll(withDrop))
}
