package operators_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
)

func TestMerge(t *testing.T) {
	runTimedCases(t, []timedCase{
		{"interleaves by time", operators.Merge(timed(at(10*ms, 1), at(30*ms, 3)), timed(at(20*ms, 2), at(40*ms, 4))),
			[]stamped[int]{st(10*ms, 1), st(20*ms, 2), st(30*ms, 3), st(40*ms, 4)}, nil},
		{"first error stops all", operators.Merge(timed(at(10*ms, 1), endAt[int](15*ms, errBoom)), timed(at(20*ms, 2))),
			[]stamped[int]{st(10*ms, 1)}, errBoom},
		{"none", operators.Merge[int](), nil, nil},
		{"one", operators.Merge(timed(at(ms, 5))), []stamped[int]{st(ms, 5)}, nil},
	})
	// Each input keeps its order, whatever the interleaving.
	a, b := make([]int, 500), make([]int, 500)
	for i := range a {
		a[i], b[i] = i, 1000+i
	}
	got, err := collect(t, operators.Merge(stream.FromSlice(a), stream.FromSlice(b)))
	require.NoError(t, err)
	require.Len(t, got, 1000)
	assert.True(t, slices.IsSorted(slices.DeleteFunc(slices.Clone(got), func(v int) bool { return v >= 1000 })))
	assert.True(t, slices.IsSorted(slices.DeleteFunc(got, func(v int) bool { return v < 1000 })))
}

func TestFlatMap(t *testing.T) {
	inner := func(v int) stream.Stream[int] {
		return timed(at(time.Duration(v)*ms, v), at(time.Duration(v)*ms+25*ms, v*10))
	}
	runTimedCases(t, []timedCase{
		// outer values at 0 and 10 ms; inners run concurrently
		{"concurrent merge", operators.FlatMap(timed(at(0, 20), at(10*ms, 5)), inner),
			[]stamped[int]{st(15*ms, 5), st(20*ms, 20), st(40*ms, 50), st(45*ms, 200)}, nil},
		{"inner error", operators.FlatMap(timed(at(0, 1), at(time.Hour, 2)), func(v int) stream.Stream[int] {
			return timed(at(5*ms, v), endAt[int](6*ms, errBoom))
		}), []stamped[int]{st(5*ms, 1)}, errBoom},
		{"outer error", operators.FlatMap(timed(at(0, 1), endAt[int](50*ms, errBoom)), func(v int) stream.Stream[int] {
			return timed(at(5*ms, v), at(time.Hour, 0))
		}), []stamped[int]{st(5*ms, 1)}, errBoom},
		{"waits for inners", operators.FlatMap(stream.Of(1), func(v int) stream.Stream[int] { return timed(at(time.Second, v)) }),
			[]stamped[int]{st(time.Second, 1)}, nil},
	})
}

func TestMergeCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h1, h2 := stream.NewHub[int](), stream.NewHub[int]()
		ctx, cancel := context.WithCancel(t.Context())
		var got []int
		s := operators.FlatMap(operators.Merge(h1.Stream(), h2.Stream()), func(v int) stream.Stream[int] {
			return timed(at(0, v), at(time.Hour, -v))
		})
		sub := s.Subscribe(ctx, func(v int) { got = append(got, v) })
		synctest.Wait()
		h1.Emit(1)
		synctest.Wait()
		h2.Emit(2)
		synctest.Wait()
		cancel()
		require.NoError(t, sub.Wait())
		assert.ElementsMatch(t, []int{1, 2}, got)
		assert.Zero(t, h1.Consumers()+h2.Consumers())
	})
}

// Cancelling a 5-operator pipeline mid-stream leaves no goroutine behind.
func TestPipelineCancelNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	h := stream.NewHub[int]()
	pipeline := operators.Take(
		operators.Debounce(
			operators.Map(
				operators.Merge(
					operators.Filter(h.Stream(), func(v int) bool { return v >= 0 }),
					stream.New(func(ctx context.Context, emit func(int) bool) error { <-ctx.Done(); return ctx.Err() }),
				),
				func(v int) int { return v * 2 }),
			time.Millisecond),
		1_000_000)
	ctx, cancel := context.WithCancel(t.Context())
	received := make(chan int, 1)
	sub := pipeline.Subscribe(ctx, func(v int) {
		select {
		case received <- v:
		default:
		}
	}, stream.DropOldest())
	for h.Consumers() == 0 {
		runtime.Gosched()
	}
	assert.Greater(t, runtime.NumGoroutine(), before)
	h.Emit(21)
	assert.Equal(t, 42, <-received) // mid-stream: the pipeline is live
	h.Emit(1)                       // pending in Debounce when cancelled
	cancel()
	require.NoError(t, sub.Wait())
	assert.Equal(t, 0, h.Consumers())
	// goleak in TestMain also checks at the end of the package.
	// Wait for the exiting goroutines with a time bound, not a number of yields: under load (go test ./...)
	// 1000 yields were not always enough for them to finish returning.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before)
}
