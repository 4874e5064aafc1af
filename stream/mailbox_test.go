package stream_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/stream"
)

// A consumer that stops reading never holds up Emit at a NeverWait hub, whatever its policy; drops are exact,
// each slow episode is reported once, and a fast consumer beside it gets everything.
func TestNeverWaitHubSlowConsumers(t *testing.T) {
	const n = 1000
	for _, tc := range []struct {
		name     string
		opt      stream.ObserveOption
		blocking bool
	}{
		{"DropNewest", stream.DropNewest(), false},
		{"DropOldest", stream.DropOldest(), false},
		{"Block", stream.Block(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var episodes []stream.SlowConsumer
			h := stream.NewHub[int](stream.NeverWait(), stream.OnSlowConsumer(func(ev stream.SlowConsumer) {
				mu.Lock()
				episodes = append(episodes, ev)
				mu.Unlock()
			}))
			release := make(chan struct{})
			entered := make(chan struct{}, 1)
			var slowGot []int
			slow := h.Stream().Subscribe(t.Context(), func(v int) {
				select {
				case entered <- struct{}{}:
				default:
				}
				<-release
				slowGot = append(slowGot, v)
			}, tc.opt, stream.WithBuffer(8))
			var fastGot []int
			fast := h.Stream().Subscribe(t.Context(), func(v int) { fastGot = append(fastGot, v) }, stream.WithBuffer(n))

			emitted := make(chan struct{})
			h.Emit(0)
			<-entered // the slow consumer holds 0 and stops reading
			go func() {
				defer close(emitted)
				for i := 1; i < n; i++ {
					h.Emit(i)
				}
			}()
			select {
			case <-emitted:
			case <-time.After(10 * time.Second):
				t.Fatal("Emit waited for a consumer that stopped reading")
			}
			close(release)
			h.Complete(nil)
			require.NoError(t, slow.Wait())
			require.NoError(t, fast.Wait())

			assert.Len(t, fastGot, n, "the fast consumer is not slowed down")
			assert.Equal(t, uint64(n), slow.Delivered()+slow.Dropped(), "every value delivered or counted")
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, episodes, 1, "one episode: the consumer never caught up while values arrived")
			assert.Equal(t, tc.blocking, episodes[0].Blocking)
			assert.Equal(t, 8, episodes[0].Queued)
			if tc.blocking {
				assert.Zero(t, slow.Dropped())
				assert.Len(t, slowGot, n)
			} else {
				assert.Greater(t, slow.Dropped(), uint64(n/2))
			}
			for i := 1; i < len(slowGot); i++ {
				assert.Less(t, slowGot[i-1], slowGot[i], "order is kept")
			}
			if tc.name == "DropOldest" {
				assert.Equal(t, n-1, slowGot[len(slowGot)-1], "DropOldest keeps the newest")
			}
			if tc.name == "DropNewest" {
				assert.Equal(t, 0, slowGot[0], "DropNewest keeps the oldest")
			}
		})
	}
}

// An episode ends when the consumer has caught up: falling behind again is reported again.
func TestNeverWaitHubEpisodes(t *testing.T) {
	var mu sync.Mutex
	episodes := 0
	h := stream.NewHub[int](stream.NeverWait(), stream.OnSlowConsumer(func(stream.SlowConsumer) {
		mu.Lock()
		episodes++
		mu.Unlock()
	}))
	entered := make(chan int, 100)
	gate := make(chan struct{})
	sub := h.Stream().Subscribe(t.Context(), func(v int) {
		entered <- v
		<-gate
	}, stream.DropNewest(), stream.WithBuffer(2))
	for round := range 2 {
		h.Emit(round * 10)
		<-entered                // the consumer holds it: its mailbox is empty
		for i := 1; i < 5; i++ { // two queued, two dropped
			h.Emit(round*10 + i)
		}
		gate <- struct{}{}
		for range 2 {
			<-entered
			gate <- struct{}{}
		}
	}
	h.Complete(nil)
	require.NoError(t, sub.Wait())
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 2, episodes)
	assert.Equal(t, uint64(4), sub.Dropped())
}

// Values queued at a NeverWait hub are delivered before the stream ends, in order.
func TestNeverWaitHubCompleteDeliversQueue(t *testing.T) {
	h := stream.NewHub[int](stream.NeverWait())
	var got []int
	gate := make(chan struct{})
	sub := h.Stream().Subscribe(t.Context(), func(v int) {
		<-gate
		got = append(got, v)
	}, stream.WithBuffer(100))
	for i := range 50 {
		h.Emit(i)
	}
	h.Complete(errBoom)
	close(gate)
	assert.ErrorIs(t, sub.Wait(), errBoom)
	require.Len(t, got, 50)
	for i, v := range got {
		assert.Equal(t, i, v)
	}
}

// Where filters on the producer's side: values the consumer does not want never reach its mailbox, so
// they cannot make it slow.
func TestHubWhereFiltersBeforeTheMailbox(t *testing.T) {
	var mu sync.Mutex
	slow := 0
	h := stream.NewHub[int](stream.NeverWait(), stream.OnSlowConsumer(func(stream.SlowConsumer) {
		mu.Lock()
		slow++
		mu.Unlock()
	}))
	gate := make(chan struct{})
	var got []int
	sub := h.Where(func(v int) bool { return v%100 == 0 }).Subscribe(t.Context(), func(v int) {
		<-gate
		got = append(got, v)
	}, stream.WithBuffer(16))
	for i := range 1000 {
		h.Emit(i) // 10 wanted values: fewer than the mailbox holds
	}
	close(gate)
	h.Complete(nil)
	require.NoError(t, sub.Wait())
	assert.Equal(t, []int{0, 100, 200, 300, 400, 500, 600, 700, 800, 900}, got)
	assert.Zero(t, sub.Dropped())
	mu.Lock()
	defer mu.Unlock()
	assert.Zero(t, slow, "the unwanted values did not fill the mailbox")
}

// ReplayLatest: a late consumer first receives the last value, then every later one; Latest reads it.
func TestHubReplayLatest(t *testing.T) {
	h := stream.NewHub[int](stream.ReplayLatest())
	_, ok := h.Latest()
	assert.False(t, ok)
	h.Emit(1)
	h.Emit(2)
	v, ok := h.Latest()
	require.True(t, ok)
	assert.Equal(t, 2, v)
	got := h.Stream().Observe(t.Context())
	h.Emit(3)
	h.Complete(nil)
	h.Emit(4) // ignored after Complete
	var all []int
	for v := range got {
		all = append(all, v)
	}
	assert.Equal(t, []int{2, 3}, all)
	v, _ = h.Latest()
	assert.Equal(t, 3, v)
	var after []int
	for v := range h.Stream().Observe(t.Context()) {
		after = append(after, v)
	}
	assert.Equal(t, []int{3}, after, "a consumer after Complete gets the final value, then ends")
}
