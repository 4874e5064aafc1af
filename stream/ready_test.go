package stream_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/stream"
)

const readyRounds = 1000

// passThrough is an operator built with Derive, as package operators builds its own.
func passThrough[T any](s stream.Stream[T]) stream.Stream[T] {
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		return s.Run(ctx, emit)
	})
}

// gated declares h's registration but only runs h.Stream() once gate is closed.
func gated[T any](h *stream.Hub[T], gate <-chan struct{}) stream.Stream[T] {
	return stream.Derive(h.Stream(), func(ctx context.Context, emit func(T) bool) error {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		return h.Stream().Run(ctx, emit)
	})
}

// observeAsync calls Observe in a new goroutine; the returned channel yields its result once it returned.
func observeAsync[T any](ctx context.Context, s stream.Stream[T]) <-chan (<-chan T) {
	res := make(chan (<-chan T), 1)
	go func() { res <- s.Observe(ctx) }()
	return res
}

func returned[T any](res <-chan (<-chan T)) (<-chan T, bool) {
	select {
	case ch := <-res:
		return ch, true
	default:
		return nil, false
	}
}

func TestObserveRegisteredOnReturn(t *testing.T) {
	for i := range readyRounds {
		h := stream.NewHub[int]()
		ch := h.Stream().Observe(t.Context())
		require.Equal(t, 1, h.Consumers(), "round %d", i)
		h.Emit(i)
		h.Complete(nil)
		v, ok := <-ch
		require.True(t, ok, "round %d: the value emitted right after Observe returned was lost", i)
		require.Equal(t, i, v)
		_, ok = <-ch
		require.False(t, ok)
	}
}

func TestSubscribeRegisteredOnReturn(t *testing.T) {
	for i := range readyRounds {
		h := stream.NewHub[int]()
		var got atomic.Int64
		got.Store(-1)
		sub := h.Stream().Subscribe(t.Context(), func(v int) { got.Store(int64(v)) })
		require.Equal(t, 1, h.Consumers(), "round %d", i)
		h.Emit(i)
		h.Complete(nil)
		require.NoError(t, sub.Wait())
		require.Equal(t, uint64(1), sub.Delivered(), "round %d: the value emitted right after Subscribe returned was lost", i)
		require.Equal(t, int64(i), got.Load())
	}
}

func TestObserveThroughDerive(t *testing.T) {
	for i := range readyRounds {
		h := stream.NewHub[int]()
		ch := passThrough(passThrough(h.Stream())).Observe(t.Context())
		h.Emit(i)
		h.Complete(nil)
		v, ok := <-ch
		require.True(t, ok, "round %d: lost", i)
		require.Equal(t, i, v)
	}
}

// An operator that Observes its source itself (in its run, or in a goroutine of its own) still makes the outer
// Observe wait: the inner readiness passes its reports on.
func TestNestedObservePropagatesReadiness(t *testing.T) {
	inline := func(s stream.Stream[int]) stream.Stream[int] {
		return stream.Derive(s, func(ctx context.Context, emit func(int) bool) error {
			for v := range s.Observe(ctx) {
				if !emit(v) {
					return nil
				}
			}
			return nil
		})
	}
	spawned := func(s stream.Stream[int]) stream.Stream[int] {
		return stream.Derive(s, func(ctx context.Context, emit func(int) bool) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			values := make(chan int)
			go func() {
				defer close(values)
				for v := range s.Observe(ctx) {
					select {
					case values <- v:
					case <-ctx.Done():
					}
				}
			}()
			for v := range values {
				if !emit(v) {
					cancel()
					for range values {
					}
					return nil
				}
			}
			return nil
		})
	}
	for name, op := range map[string]func(stream.Stream[int]) stream.Stream[int]{"inline": inline, "goroutine": spawned} {
		t.Run(name, func(t *testing.T) {
			for i := range readyRounds {
				h := stream.NewHub[int]()
				ch := op(h.Stream()).Observe(t.Context())
				require.Equal(t, 1, h.Consumers(), "round %d", i)
				h.Emit(i)
				h.Complete(nil)
				v, ok := <-ch
				require.True(t, ok, "round %d: lost", i)
				require.Equal(t, i, v)
				for range ch {
				}
			}
		})
	}
}

func TestHubsCount(t *testing.T) {
	a, b := stream.NewHub[int](), stream.NewHub[string]()
	run := func(context.Context, func(int) bool) error { return nil }
	assert.Equal(t, 1, a.Stream().Hubs())
	assert.Equal(t, 0, stream.New(a.Stream().Run).Hubs(), "New declares nothing")
	assert.Equal(t, 0, stream.Of(1).Hubs())
	assert.Equal(t, 0, stream.FromSlice([]int{1}).Hubs())
	assert.Equal(t, 0, stream.FromChan(make(chan int)).Hubs())
	assert.Equal(t, 0, stream.Empty[int]().Hubs())
	assert.Equal(t, 0, stream.Fail[int](errBoom).Hubs())
	assert.Equal(t, 0, stream.Stream[int]{}.Hubs())
	assert.Equal(t, 1, stream.Derive(a.Stream(), run).Hubs())
	assert.Equal(t, 2, passThrough(stream.Derive(a.Stream(), run)).Hubs()+stream.Derive(a.Stream(), run).Hubs())
	assert.Equal(t, 3, stream.DeriveAll([]stream.Stream[int]{a.Stream(), stream.Of(1), a.Stream(), a.Stream()}, run).Hubs())
	assert.Equal(t, 2, stream.Derive2(a.Stream(), b.Stream(), run).Hubs())
	assert.Equal(t, 0, stream.Derive[int, int](a.Stream(), nil).Hubs(), "a nil run is the empty stream")
	assert.NoError(t, stream.Derive[int, int](a.Stream(), nil).Run(t.Context(), nil))
}

func TestObserveWaitsForEveryDeclaredHub(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := stream.NewHub[int](), stream.NewHub[int]()
		gate := make(chan struct{})
		both := stream.DeriveAll([]stream.Stream[int]{a.Stream(), b.Stream()},
			func(ctx context.Context, emit func(int) bool) error {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				errs := make(chan error, 2)
				go func() { errs <- a.Stream().Run(ctx, emit) }()
				<-gate
				err := b.Stream().Run(ctx, func(int) bool { return true })
				cancel()
				<-errs
				return err
			})
		res := observeAsync(t.Context(), both)
		synctest.Wait()
		assert.Equal(t, 1, a.Consumers())
		_, ok := returned(res)
		require.False(t, ok, "Observe returned before b registered")
		close(gate)
		synctest.Wait()
		ch, ok := returned(res)
		require.True(t, ok)
		assert.Equal(t, 1, b.Consumers())
		b.Complete(nil)
		for range ch {
		}
	})
}

// Hubs reached through a stream built with New are not counted and do not report: they cannot stand in for
// a declared registration that has not happened yet.
func TestNewDoesNotReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, x := stream.NewHub[int](), stream.NewHub[int]()
		gate := make(chan struct{})
		opaque := stream.New(x.Stream().Run)
		s := stream.DeriveAll([]stream.Stream[int]{opaque, gated(a, gate)},
			func(ctx context.Context, emit func(int) bool) error {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				done := make(chan error, 1)
				go func() { done <- opaque.Run(ctx, emit) }()
				err := gated(a, gate).Run(ctx, emit)
				cancel()
				<-done
				return err
			})
		require.Equal(t, 1, s.Hubs())
		res := observeAsync(t.Context(), s)
		synctest.Wait()
		assert.Equal(t, 1, x.Consumers(), "the New stream runs")
		_, ok := returned(res)
		require.False(t, ok, "the registration inside New was counted")
		close(gate)
		synctest.Wait()
		ch, ok := returned(res)
		require.True(t, ok)
		assert.Equal(t, 1, a.Consumers())
		a.Complete(nil)
		for range ch {
		}
	})
}

func TestObserveColdDoesNotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int]()
		gate := make(chan struct{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		streams := map[string]stream.Stream[int]{
			"of":       stream.Of(1, 2, 3), // blocked on its first send: nobody reads yet
			"blocking": stream.New(func(ctx context.Context, _ func(int) bool) error { <-ctx.Done(); return ctx.Err() }),
			// New declares nothing, even when it reaches a Hub later.
			"new over hub": stream.New(func(ctx context.Context, emit func(int) bool) error {
				select {
				case <-gate:
				case <-ctx.Done():
					return ctx.Err()
				}
				return h.Stream().Run(ctx, emit)
			}),
		}
		for name, s := range streams {
			res := observeAsync(ctx, s)
			synctest.Wait()
			_, ok := returned(res)
			assert.True(t, ok, "%s: Observe waited", name)
			subRes := make(chan *stream.Subscription, 1)
			go func() { subRes <- s.Subscribe(ctx, func(int) { <-ctx.Done() }) }()
			synctest.Wait()
			select {
			case <-subRes:
			default:
				t.Errorf("%s: Subscribe waited", name)
			}
		}
		cancel()
	})
}

func TestObserveCompletedHubReturnsAtOnce(t *testing.T) {
	h := stream.NewHub[int]()
	h.Complete(errBoom)
	for _, s := range []stream.Stream[int]{h.Stream(), passThrough(h.Stream())} {
		var got error
		ch := s.Observe(t.Context(), stream.OnError(func(err error) { got = err }))
		_, ok := <-ch
		assert.False(t, ok)
		assert.ErrorIs(t, got, errBoom)
		sub := s.Subscribe(t.Context(), nil)
		assert.ErrorIs(t, sub.Wait(), errBoom)
	}
}

func TestObserveCancelledWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int]()
		gate := make(chan struct{})
		ctx, cancel := context.WithCancel(t.Context())
		res := observeAsync(ctx, gated(h, gate))
		synctest.Wait()
		_, ok := returned(res)
		require.False(t, ok)
		cancel()
		synctest.Wait()
		ch, ok := returned(res)
		require.True(t, ok, "Observe must return when its context ends")
		_, open := <-ch
		assert.False(t, open)
		assert.Equal(t, 0, h.Consumers())
		close(gate)
	})
}

// A stream that ends without ever registering releases Observe.
func TestObserveReturnsWhenRunEnds(t *testing.T) {
	h := stream.NewHub[int]()
	neverRuns := stream.Derive(h.Stream(), func(context.Context, func(int) bool) error { return errBoom })
	var got error
	ch := neverRuns.Observe(t.Context(), stream.OnError(func(err error) { got = err }))
	_, ok := <-ch
	assert.False(t, ok)
	assert.ErrorIs(t, got, errBoom)
	assert.ErrorIs(t, neverRuns.Subscribe(t.Context(), nil).Wait(), errBoom)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, ok = <-h.Stream().Observe(ctx) // already cancelled: the run settles at once
	assert.False(t, ok)
}

func TestObserveReturnsAfterOnActive(t *testing.T) {
	for i := range readyRounds {
		var active atomic.Bool
		h := stream.NewHub[int](stream.OnActive(func(on bool) { active.Store(on) }))
		ctx, cancel := context.WithCancel(t.Context())
		ch := h.Stream().Observe(ctx)
		require.True(t, active.Load(), "round %d: Observe returned before OnActive(true)", i)
		cancel()
		for range ch {
		}
	}
}
