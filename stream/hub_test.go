package stream_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/stream"
)

// waitConsumers waits (yielding, no sleep) until the hub has n consumers.
func waitConsumers[T any](t *testing.T, h *stream.Hub[T], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.Consumers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d consumers, want %d", h.Consumers(), n)
		}
		runtime.Gosched()
	}
}

func TestHubLateSubscriber(t *testing.T) {
	h := stream.NewHub[int]()
	h.Emit(0) // nobody listening: dropped silently, not queued
	var early, late []int
	s1 := h.Stream().Subscribe(t.Context(), func(v int) { early = append(early, v) })
	waitConsumers(t, h, 1)
	h.Emit(1)
	h.Emit(2)
	s2 := h.Stream().Subscribe(t.Context(), func(v int) { late = append(late, v) })
	waitConsumers(t, h, 2)
	h.Emit(3)
	h.Complete(nil)
	require.NoError(t, s1.Wait())
	require.NoError(t, s2.Wait())
	assert.Equal(t, []int{1, 2, 3}, early)
	assert.Equal(t, []int{3}, late)
	assert.True(t, h.Completed())
}

func TestHubCompleteEndsAll(t *testing.T) {
	h := stream.NewHub[string]()
	subs := make([]*stream.Subscription, 5)
	for i := range subs {
		subs[i] = h.Stream().Subscribe(t.Context(), nil)
	}
	waitConsumers(t, h, 5)
	h.Emit("x")
	h.Complete(errBoom)
	h.Complete(nil) // no effect
	for _, s := range subs {
		assert.ErrorIs(t, s.Wait(), errBoom)
		assert.Equal(t, uint64(1), s.Delivered(), "queued values are delivered before the end")
	}
	assert.Equal(t, 0, h.Consumers())
	// later observers end at once with the same error; Emit is ignored.
	h.Emit("y")
	_, err := collect(t, h.Stream())
	assert.ErrorIs(t, err, errBoom)
}

func TestHubZeroValue(t *testing.T) {
	var h stream.Hub[int]
	h.Emit(1)
	sub := h.Stream().Subscribe(t.Context(), nil)
	waitConsumers(t, &h, 1)
	h.Emit(2)
	h.Complete(nil)
	require.NoError(t, sub.Wait())
	assert.Equal(t, uint64(1), sub.Delivered())
}

// A slow consumer with a drop policy must not slow Emit nor a fast consumer; its counters must be exact.
func TestHubSlowDropConsumers(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  stream.ObserveOption
		want func(got []int, n int) // checks which values survived
	}{
		{"DropNewest", stream.DropNewest(), func(got []int, n int) {
			// the first 4 fill the mailbox; the rest of the burst is dropped
			assert.Equal(t, []int{0, 1, 2, 3}, got[:4])
		}},
		{"DropOldest", stream.DropOldest(), func(got []int, n int) {
			// the last 4 of the burst survive
			assert.Equal(t, []int{n - 4, n - 3, n - 2, n - 1}, got[len(got)-4:])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := stream.NewHub[int]()
			const n = 1000
			release := make(chan struct{})
			var slow []int
			var fast atomic.Int64
			var drops atomic.Uint64
			slowSub := h.Stream().Subscribe(t.Context(), func(v int) {
				<-release // blocked until the burst is over
				slow = append(slow, v)
			}, tc.opt, stream.WithBuffer(4), stream.OnDrop(func(n uint64) { drops.Add(n) }))
			fastSub := h.Stream().Subscribe(t.Context(), func(int) { fast.Add(1) }, stream.WithBuffer(n))
			waitConsumers(t, h, 2)
			for i := range n {
				h.Emit(i) // would deadlock if the slow consumer blocked Emit
			}
			close(release)
			h.Complete(nil)
			require.NoError(t, slowSub.Wait())
			require.NoError(t, fastSub.Wait())
			assert.Equal(t, int64(n), fast.Load())
			assert.Equal(t, uint64(0), fastSub.Dropped())
			assert.Equal(t, uint64(n), slowSub.Delivered()+slowSub.Dropped(), "every value delivered or counted")
			assert.Equal(t, slowSub.Dropped(), drops.Load(), "OnDrop reports every drop")
			assert.Equal(t, int(slowSub.Delivered()), len(slow))
			assert.Greater(t, slowSub.Dropped(), uint64(n/2))
			tc.want(slow, n)
			for i := 1; i < len(slow); i++ {
				assert.Less(t, slow[i-1], slow[i], "order kept")
			}
		})
	}
}

func TestHubBlockConsumerBlocksEmit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int]()
		release := make(chan struct{})
		sub := h.Stream().Subscribe(t.Context(), func(int) { <-release }, stream.Block(), stream.WithBuffer(2))
		synctest.Wait()
		require.Equal(t, 1, h.Consumers())
		var emitted atomic.Int64
		go func() {
			for i := range 5 {
				h.Emit(i)
				emitted.Add(1)
			}
		}()
		synctest.Wait()
		// 1 value in next + 2 queued; the 4th Emit blocks.
		assert.Equal(t, int64(3), emitted.Load())
		close(release)
		synctest.Wait()
		assert.Equal(t, int64(5), emitted.Load())
		h.Complete(nil)
		require.NoError(t, sub.Wait())
		assert.Equal(t, uint64(5), sub.Delivered())
	})
}

func TestHubBlockedEmitReleasedWhenConsumerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int]()
		ctx, cancel := context.WithCancel(t.Context())
		block := make(chan struct{})
		sub := h.Stream().Subscribe(ctx, func(int) { <-block }, stream.WithBuffer(1))
		synctest.Wait()
		done := make(chan struct{})
		go func() {
			for i := range 10 {
				h.Emit(i)
			}
			close(done)
		}()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("Emit should be blocked")
		default:
		}
		cancel()
		close(block)
		<-done // the consumer left: Emit never blocks on it again
		require.NoError(t, sub.Wait())
	})
}

func TestHubEmitContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int]()
		block := make(chan struct{})
		sub := h.Stream().Subscribe(t.Context(), func(int) { <-block }, stream.WithBuffer(1))
		synctest.Wait()
		require.NoError(t, h.EmitContext(t.Context(), 1)) // in next
		require.NoError(t, h.EmitContext(t.Context(), 2)) // queued
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := h.EmitContext(ctx, 3) // full: waits until ctx ends
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		close(block)
		h.Complete(nil)
		require.NoError(t, sub.Wait())
		assert.Equal(t, uint64(2), sub.Delivered())
		var empty stream.Hub[int]
		assert.NoError(t, empty.EmitContext(t.Context(), 1))
	})
}

func TestHubDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int](stream.WithDefaults(stream.DropNewest(), stream.WithBuffer(1)))
		block := make(chan struct{})
		sub := h.Stream().Subscribe(t.Context(), func(int) { <-block })
		synctest.Wait()
		for i := range 10 {
			h.Emit(i) // never blocks: the hub default is DropNewest
		}
		synctest.Wait()
		close(block)
		h.Complete(nil)
		require.NoError(t, sub.Wait())
		assert.Equal(t, uint64(2), sub.Delivered()) // one in next, one queued
		assert.Equal(t, uint64(8), sub.Dropped())

		// A consumer's own choice wins over the hub default.
		h2 := stream.NewHub[int](stream.WithDefaults(stream.DropNewest(), stream.WithBuffer(1)))
		block2 := make(chan struct{})
		sub2 := h2.Stream().Subscribe(t.Context(), func(int) { <-block2 }, stream.Block())
		synctest.Wait()
		var emitted atomic.Int64
		go func() {
			for i := range 5 {
				h2.Emit(i)
				emitted.Add(1)
			}
		}()
		synctest.Wait()
		assert.Equal(t, int64(2), emitted.Load())
		close(block2)
		synctest.Wait()
		h2.Complete(nil)
		require.NoError(t, sub2.Wait())
		assert.Equal(t, uint64(5), sub2.Delivered())
	})
}

func TestHubOnActive(t *testing.T) {
	var mu sync.Mutex
	var calls []bool
	h := stream.NewHub[int](stream.OnActive(func(a bool) {
		mu.Lock()
		calls = append(calls, a)
		mu.Unlock()
	}))
	ctx1, cancel1 := context.WithCancel(t.Context())
	ctx2, cancel2 := context.WithCancel(t.Context())
	s1 := h.Stream().Subscribe(ctx1, nil)
	s2 := h.Stream().Subscribe(ctx2, nil)
	waitConsumers(t, h, 2)
	cancel1()
	<-s1.Done()
	cancel2()
	<-s2.Done()
	s3 := h.Stream().Subscribe(t.Context(), nil)
	waitConsumers(t, h, 1)
	h.Complete(nil)
	<-s3.Done()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []bool{true, false, true, false}, calls)
}

// 1000 concurrent subscribe/unsubscribe while Emit runs: run with -race.
func TestHubConcurrentChurn(t *testing.T) {
	h := stream.NewHub[int]()
	stop := make(chan struct{})
	var emitterDone sync.WaitGroup
	emitterDone.Add(1)
	go func() {
		defer emitterDone.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				h.Emit(i)
			}
		}
	}()
	var wg sync.WaitGroup
	policies := []stream.ObserveOption{stream.Block(), stream.DropNewest(), stream.DropOldest()}
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(t.Context())
			last := -1
			n := 0
			sub := h.Stream().Subscribe(ctx, func(v int) {
				if v <= last {
					t.Errorf("out of order: %d after %d", v, last)
				}
				last = v
				if n++; n == 3 {
					cancel()
				}
			}, policies[i%3], stream.WithBuffer(1+i%4))
			if i%2 == 0 {
				runtime.Gosched()
				cancel()
			}
			<-sub.Done()
			cancel()
		}()
	}
	wg.Wait()
	close(stop)
	emitterDone.Wait()
	assert.Equal(t, 0, h.Consumers())
}

func TestEmitNoConsumersAllocs(t *testing.T) {
	h := stream.NewHub[int]()
	allocs := testing.AllocsPerRun(1000, func() { h.Emit(1) })
	assert.Zero(t, allocs)
}

// An idle Hub must stay small (target well under 1 KiB): count the bytes allocated by NewHub.
func TestHubIdleSize(t *testing.T) {
	const n = 1000
	hubs := make([]*stream.Hub[string], n)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range hubs {
		hubs[i] = stream.NewHub[string](stream.OnActive(func(bool) {}))
	}
	runtime.ReadMemStats(&after)
	perHub := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("NewHub with an option allocates %d bytes", perHub)
	assert.Less(t, perHub, uint64(256))
	runtime.KeepAlive(hubs)
}

func TestRunNilEmit(t *testing.T) {
	assert.ErrorIs(t, stream.New(func(ctx context.Context, emit func(int) bool) error {
		emit(1)
		return errBoom
	}).Run(t.Context(), nil), errBoom)
}
