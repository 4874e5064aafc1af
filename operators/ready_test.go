package operators_test

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
)

const readyRounds = 1000

// readyCase is a chain of operators over two hubs; emit feeds both hubs right after Observe or Subscribe
// returned and completes them; want is what the consumer must then receive (sorted).
type readyCase struct {
	name  string
	build func(a, b *stream.Hub[int]) stream.Stream[int]
	hubs  int // hubs the chain registers at start (the first `hubs` of a, b)
	want  func(i int) []int
}

func readyCases() []readyCase {
	one := func(i int) []int { return []int{i} }
	return []readyCase{
		{"Filter+Map", func(a, _ *stream.Hub[int]) stream.Stream[int] {
			return operators.Map(operators.Filter(a.Stream(), func(int) bool { return true }), func(v int) int { return v * 2 })
		}, 1, func(i int) []int { return []int{2 * i} }},
		{"Merge", func(a, b *stream.Hub[int]) stream.Stream[int] {
			return operators.Merge(a.Stream(), operators.Map(b.Stream(), func(v int) int { return -v - 1 }))
		}, 2, func(i int) []int { return []int{-i - 1, i} }},
		{"Debounce", func(a, _ *stream.Hub[int]) stream.Stream[int] {
			return operators.Debounce(a.Stream(), time.Hour) // flushed when a completes
		}, 1, one},
		{"RetryWithBackoff", func(a, _ *stream.Hub[int]) stream.Stream[int] {
			return operators.RetryWithBackoff(a.Stream(), operators.StepBackoff{time.Hour})
		}, 1, one},
		{"Debounce(Merge)+RetryWithBackoff", func(a, b *stream.Hub[int]) stream.Stream[int] {
			return operators.RetryWithBackoff(operators.Debounce(operators.Merge(a.Stream(), b.Stream()), time.Hour),
				operators.StepBackoff{time.Hour})
		}, 2, nil}, // debounced: only the last of the two values
		{"TakeUntil", func(a, b *stream.Hub[int]) stream.Stream[int] {
			return operators.TakeUntil(a.Stream(), operators.Filter(b.Stream(), func(int) bool { return false }))
		}, 2, one},
		{"StartWith", func(a, _ *stream.Hub[int]) stream.Stream[int] {
			return operators.StartWith(a.Stream(), -1)
		}, 1, func(i int) []int { return []int{-1, i} }},
		{"FlatMap", func(a, _ *stream.Hub[int]) stream.Stream[int] {
			return operators.FlatMap(a.Stream(), func(v int) stream.Stream[int] { return stream.Of(v, v) })
		}, 1, func(i int) []int { return []int{i, i} }},
		{"ConcatMap", func(a, _ *stream.Hub[int]) stream.Stream[int] {
			return operators.ConcatMap(a.Stream(), func(v int) stream.Stream[int] { return stream.Of(v) })
		}, 1, one},
		{"Sample+Timeout", func(a, _ *stream.Hub[int]) stream.Stream[int] {
			return operators.Sample(operators.Timeout(a.Stream(), time.Hour), time.Hour)
		}, 1, one},
		{"BufferTime", func(a, _ *stream.Hub[int]) stream.Stream[int] {
			return operators.Map(operators.BufferTime(a.Stream(), time.Hour), func(v []int) int { return v[0] })
		}, 1, one},
		{"Take+Skip+Scan+Distinct", func(a, _ *stream.Hub[int]) stream.Stream[int] {
			s := operators.Scan(operators.Skip(a.Stream(), 0), 0, func(acc, v int) int { return acc + v })
			return operators.Take(operators.Distinct(s, operators.Identity[int]), 1)
		}, 1, one},
	}
}

func hubsOf(a, b *stream.Hub[int], n int) []*stream.Hub[int] { return []*stream.Hub[int]{a, b}[:n] }

func feed(hubs []*stream.Hub[int], i int) {
	for _, h := range hubs {
		h.Emit(i)
	}
	for _, h := range hubs {
		h.Complete(nil)
	}
}

// Observe, then emit at once: the value is not lost, through any chain of operators.
func TestObserveReadyThroughOperators(t *testing.T) {
	for _, tc := range readyCases() {
		t.Run(tc.name, func(t *testing.T) {
			a, b := stream.NewHub[int](), stream.NewHub[int]()
			require.Equal(t, tc.hubs, tc.build(a, b).Hubs())
			for i := range readyRounds {
				a, b := stream.NewHub[int](), stream.NewHub[int]()
				ctx, cancel := context.WithCancel(t.Context())
				ch := tc.build(a, b).Observe(ctx)
				hubs := hubsOf(a, b, tc.hubs)
				for k, h := range hubs {
					require.Equal(t, 1, h.Consumers(), "round %d: hub %d not registered when Observe returned", i, k)
				}
				feed(hubs, i)
				var got []int
				for v := range ch {
					got = append(got, v)
				}
				cancel()
				checkReady(t, tc, i, got)
			}
		})
	}
}

func TestSubscribeReadyThroughOperators(t *testing.T) {
	for _, tc := range readyCases() {
		t.Run(tc.name, func(t *testing.T) {
			for i := range readyRounds {
				a, b := stream.NewHub[int](), stream.NewHub[int]()
				var got []int
				sub := tc.build(a, b).Subscribe(t.Context(), func(v int) { got = append(got, v) })
				hubs := hubsOf(a, b, tc.hubs)
				for k, h := range hubs {
					require.Equal(t, 1, h.Consumers(), "round %d: hub %d not registered when Subscribe returned", i, k)
				}
				feed(hubs, i)
				require.NoError(t, sub.Wait())
				checkReady(t, tc, i, got)
			}
		})
	}
}

func checkReady(t *testing.T, tc readyCase, i int, got []int) {
	t.Helper()
	if tc.want == nil {
		require.Equal(t, []int{i}, got, "round %d", i)
		return
	}
	slices.Sort(got)
	require.Equal(t, tc.want(i), got, "round %d: values emitted right after Observe/Subscribe returned were lost", i)
}

// gated declares h's registration but runs h.Stream() only once gate is closed.
func gated(h *stream.Hub[int], gate <-chan struct{}) stream.Stream[int] {
	return stream.Derive(h.Stream(), func(ctx context.Context, emit func(int) bool) error {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		return h.Stream().Run(ctx, emit)
	})
}

// Inner streams of FlatMap and ConcatMap start later and are not counted: their Hubs registering cannot stand
// in for an outer Hub that has not registered yet.
func TestInnerStreamsDoNotCount(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   func(stream.Stream[int], func(int) stream.Stream[int]) stream.Stream[int]
	}{{"FlatMap", operators.FlatMap[int, int]}, {"ConcatMap", operators.ConcatMap[int, int]}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b, inner := stream.NewHub[int](), stream.NewHub[int](), stream.NewHub[int]()
				gate := make(chan struct{})
				s := tc.op(operators.Merge(a.Stream(), gated(b, gate)), func(int) stream.Stream[int] { return inner.Stream() })
				require.Equal(t, 2, s.Hubs())
				res := make(chan (<-chan int), 1)
				go func() { res <- s.Observe(t.Context()) }()
				synctest.Wait()
				require.Equal(t, 1, a.Consumers())
				a.Emit(1) // starts an inner stream
				synctest.Wait()
				require.Equal(t, 1, inner.Consumers())
				select {
				case <-res:
					t.Fatal("Observe returned before b registered")
				default:
				}
				close(gate)
				synctest.Wait()
				var ch <-chan int
				select {
				case ch = <-res:
				default:
					t.Fatal("Observe did not return once b registered")
				}
				assert.Equal(t, 1, b.Consumers())
				inner.Emit(7)
				for _, h := range []*stream.Hub[int]{a, b, inner} {
					h.Complete(nil)
				}
				var got []int
				for v := range ch {
					got = append(got, v)
				}
				assert.Equal(t, []int{7}, got)
			})
		})
	}
}

// StartWith over a Hub delivers its values while its source is already registered: no deadlock with
// Observe (which waits for the registration before anyone reads), and nothing emitted meanwhile is lost.
func TestStartWithRegistersFirst(t *testing.T) {
	h := stream.NewHub[int]()
	ch := operators.StartWith(h.Stream(), 1, 2, 3).Observe(t.Context())
	h.Emit(4)
	h.Emit(5)
	h.Complete(errBoom)
	var got []int
	for v := range ch {
		got = append(got, v)
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5}, got)
	got, err := collect(t, operators.StartWith(h.Stream(), 1))
	assert.Equal(t, []int{1}, got)
	assert.ErrorIs(t, err, errBoom)

	// the consumer stops during the prefix: the source run is stopped too.
	h2 := stream.NewHub[int]()
	got, err = collect(t, operators.Take(operators.StartWith(h2.Stream(), 1, 2), 1))
	assert.NoError(t, err)
	assert.Equal(t, []int{1}, got)
	assert.Equal(t, 0, h2.Consumers())
}

func TestOperatorHubs(t *testing.T) {
	a, b := stream.NewHub[int](), stream.NewHub[string]()
	s, cold := a.Stream(), stream.Of(1)
	id := func(v int) int { return v }
	for name, tc := range map[string]struct {
		got, want int
	}{
		"Filter":      {operators.Filter(s, func(int) bool { return true }).Hubs(), 1},
		"Map":         {operators.Map(s, id).Hubs(), 1},
		"Merge":       {operators.Merge(s, cold, s, s).Hubs(), 3},
		"Merge1":      {operators.Merge(s).Hubs(), 1},
		"Merge0":      {operators.Merge[int]().Hubs(), 0},
		"TakeUntil":   {operators.TakeUntil(s, b.Stream()).Hubs(), 2},
		"TakeUntilCt": {operators.TakeUntilContext(s, t.Context()).Hubs(), 1},
		"FlatMap":     {operators.FlatMap(cold, func(int) stream.Stream[int] { return s }).Hubs(), 0},
		"ConcatMap":   {operators.ConcatMap(s, func(int) stream.Stream[int] { return s }).Hubs(), 1},
		"Retry":       {operators.RetryWithBackoff(operators.Merge(s, s), operators.StepBackoff{}).Hubs(), 2},
		"StartWith":   {operators.StartWith(s, 1).Hubs(), 1},
		"Debounce":    {operators.Debounce(s, time.Second).Hubs(), 1},
		"New":         {operators.Map(stream.New(s.Run), id).Hubs(), 0},
	} {
		assert.Equal(t, tc.want, tc.got, name)
	}
}
