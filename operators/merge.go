package operators

import (
	"context"

	"github.com/rxrealtime/rxrealtime/stream"
)

// Merge runs all streams concurrently (one goroutine each) and emits their values as they arrive: the order
// of each stream is kept, values of different streams interleave. It completes when all complete; the first
// error stops the others and ends the stream. The result declares the Hub registrations of all the streams
// (see stream.Stream.Hubs).
func Merge[T any](streams ...stream.Stream[T]) stream.Stream[T] {
	switch len(streams) {
	case 0:
		return stream.Empty[T]()
	case 1:
		return streams[0]
	}
	return stream.DeriveAll(streams, func(ctx context.Context, emit func(T) bool) error {
		m := newMerger[T](ctx)
		for _, s := range streams {
			m.spawn(s, true)
		}
		return m.loop(emit, nil)
	})
}

// FlatMap runs f(v) for each value v of s and merges the resulting streams concurrently (one goroutine per
// live inner stream, plus one for s): values of each inner stream keep their order, values of different inner
// streams interleave by arrival. It completes when s and all inner streams have completed; the first error
// stops everything and ends the stream. f is called sequentially, from the goroutine running s. Use ConcatMap
// to keep the order of s. Only the Hub registrations of s are declared (see stream.Stream.Hubs): inner
// streams start later.
func FlatMap[T, U any](s stream.Stream[T], f func(T) stream.Stream[U]) stream.Stream[U] {
	checkFunc("FlatMap", "f", f == nil)
	return stream.Derive(s, func(ctx context.Context, emit func(U) bool) error {
		m := newMerger[U](ctx)
		inners := make(chan stream.Stream[U])
		done := m.ctx.Done()
		m.left++
		go func() {
			m.results <- s.Run(m.ctx, func(v T) bool {
				select {
				case inners <- f(v):
					return true
				case <-done:
					return false
				}
			})
		}()
		return m.loop(emit, inners)
	})
}

// ConcatMap runs f(v) for each value v of s, one inner stream at a time, and emits their values in order:
// s waits while an inner stream runs. No goroutine is added. The first error ends the stream. Only the Hub
// registrations of s are declared (see stream.Stream.Hubs): inner streams start later.
func ConcatMap[T, U any](s stream.Stream[T], f func(T) stream.Stream[U]) stream.Stream[U] {
	checkFunc("ConcatMap", "f", f == nil)
	return stream.Derive(s, func(ctx context.Context, emit func(U) bool) error {
		var innerErr error
		stopped := false
		forward := func(u U) bool {
			if !emit(u) {
				stopped = true
				return false
			}
			return true
		}
		err := s.Run(ctx, func(v T) bool {
			// New: the Hubs of inner streams are not counted by readiness (only s's are).
			if err := stream.New(f(v).Run).Run(ctx, forward); err != nil {
				innerErr = err
				return false
			}
			return !stopped && ctx.Err() == nil
		})
		switch {
		case stopped:
			return nil
		case innerErr != nil:
			return innerErr
		case err == nil && ctx.Err() != nil:
			return ctx.Err()
		default:
			return err
		}
	})
}

// merger collects the values of concurrently running streams into the goroutine that runs loop.
type merger[T any] struct {
	ctx     context.Context
	cancel  context.CancelFunc
	parent  context.Context
	items   chan T
	results chan error
	left    int
}

func newMerger[T any](parent context.Context) *merger[T] {
	ctx, cancel := context.WithCancel(parent)
	return &merger[T]{ctx: ctx, cancel: cancel, parent: parent, items: make(chan T), results: make(chan error)}
}

// spawn runs s in a new goroutine. counted is false for the inner streams of FlatMap: they run as New
// streams, so their Hubs do not report to the consumer's readiness (only the outer stream's are declared).
func (m *merger[T]) spawn(s stream.Stream[T], counted bool) {
	m.left++
	done := m.ctx.Done()
	go func() {
		run := s
		if !counted {
			run = stream.New(s.Run)
		}
		m.results <- run.Run(m.ctx, func(v T) bool {
			select {
			case m.items <- v:
				return true
			case <-done:
				return false
			}
		})
	}()
}

// loop emits the merged values until every spawned run has returned; inners (may be nil) delivers new
// streams to spawn. It returns the first error, or ctx.Err() when the consumer's context ended.
func (m *merger[T]) loop(emit func(T) bool, inners <-chan stream.Stream[T]) error {
	defer m.cancel()
	var first error
	stopped := false
	items := m.items
	// halt stops everything: the runs see their context end, and their pending sends give up on it, so the
	// loop stops receiving values and new inner streams and only waits for the runs to return.
	halt := func() {
		m.cancel()
		items, inners = nil, nil
	}
	for m.left > 0 {
		select {
		case v := <-items:
			if !emit(v) {
				stopped = true
				halt()
			}
		case s := <-inners:
			m.spawn(s, false)
		case err := <-m.results:
			m.left--
			if err != nil && first == nil && !stopped && m.ctx.Err() == nil {
				first = err
				halt()
			}
		}
	}
	switch {
	case stopped:
		return nil
	case first != nil:
		return first
	default:
		return m.parent.Err()
	}
}
