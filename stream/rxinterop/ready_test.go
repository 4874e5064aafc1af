package rxinterop_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/stream/rxinterop"
)

// receiveN reads n values from ch, failing the test if they do not all arrive within a second.
func receiveN[T any](t *testing.T, ch <-chan T, n int) []T {
	t.Helper()
	var got []T
	timeout := time.After(time.Second)
	for len(got) < n {
		select {
		case v, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %v, want %d values", got, n)
			}
			got = append(got, v)
		case <-timeout:
			t.Fatalf("got %v within 1s, want %d values (lost after Observe returned)", got, n)
		}
	}
	return got
}

// The round trip through rxgo keeps readiness: Observe on FromObservable(ToObservable(hot)) returns once the
// consumer is registered at the hub, so nothing emitted afterwards is lost (issue 10, point 7).
func TestRoundTripKeepsReadiness(t *testing.T) {
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := rxinterop.FromObservable[int](rxinterop.ToObservable(ctx, h.Stream()))
	assert.Equal(t, h.Stream().Hubs(), s.Hubs(), "the round trip declares the source's hubs")
	ch := s.Observe(ctx)
	require.Equal(t, 1, h.Consumers(), "registered when Observe returns")
	for i := range 5 {
		h.Emit(i)
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4}, receiveN(t, ch, 5))
	cancel()
	for range ch {
	}
}

// Subscribe waits the same way.
func TestRoundTripKeepsReadinessSubscribe(t *testing.T) {
	h := stream.NewHub[string]()
	got := make(chan string, 3)
	sub := rxinterop.FromObservable[string](rxinterop.ToObservable(t.Context(), h.Stream())).
		Subscribe(t.Context(), func(v string) { got <- v })
	require.Equal(t, 1, h.Consumers())
	h.Emit("a")
	h.Emit("b")
	h.Complete(nil)
	require.NoError(t, sub.Wait())
	close(got)
	var all []string
	for v := range got {
		all = append(all, v)
	}
	assert.Equal(t, []string{"a", "b"}, all)
}

// Readiness goes on through native operators over the round trip, and the hub consumer is the bridge's.
func TestRoundTripReadinessThroughOperators(t *testing.T) {
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := operators.Map(rxinterop.FromObservable[int](rxinterop.ToObservable(ctx, h.Stream())),
		func(v int) int { return v * 10 })
	assert.Equal(t, 1, s.Hubs())
	ch := s.Observe(ctx)
	require.Equal(t, 1, h.Consumers())
	h.Emit(1)
	h.Emit(2)
	assert.Equal(t, []int{10, 20}, receiveN(t, ch, 2))
	cancel()
	for range ch {
	}
	waitConsumers(t, h, 0)
}

// Observe does not hang when the bridge cannot register: ToObservable's context has already ended.
func TestRoundTripEndedContext(t *testing.T) {
	h := stream.NewHub[int]()
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	ch := rxinterop.FromObservable[int](rxinterop.ToObservable(ended, h.Stream())).Observe(t.Context())
	for range ch {
	}
	assert.Equal(t, 0, h.Consumers())
}

// An rxgo operator between the two hides the source: the result declares no Hub and is not waited for
// (documented on FromObservable), and nothing hangs.
func TestRxgoChainDeclaresNoHub(t *testing.T) {
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := rxinterop.FromObservable[int](rxinterop.ToObservable(ctx, h.Stream()).
		Map(func(_ context.Context, v any) (any, error) { return v, nil }))
	assert.Equal(t, 0, s.Hubs())
	ch := s.Observe(ctx)
	waitConsumers(t, h, 1)
	h.Emit(5)
	assert.Equal(t, []int{5}, receiveN(t, ch, 1))
	cancel()
	for range ch {
	}
}

// A cold source through the round trip: declares nothing, delivers everything, re-runs.
func TestRoundTripCold(t *testing.T) {
	s := rxinterop.FromObservable[int](rxinterop.ToObservable(t.Context(), stream.Of(1, 2, 3)))
	assert.Equal(t, 0, s.Hubs())
	for range 2 {
		got, err := collect(t, s)
		require.NoError(t, err)
		assert.Equal(t, []int{1, 2, 3}, got)
	}
}
