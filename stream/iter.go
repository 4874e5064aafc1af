package stream

import (
	"context"
	"iter"
)

// All returns an iterator over the stream's values for range-over-func loops. Each loop runs the stream
// anew, in the caller's goroutine; breaking out of the loop stops the stream. Hub consumers get the hub's
// default policy. The terminal error is discarded: use All2 to see it.
//
// The stream starts when the loop starts, in the loop's goroutine, so there is no earlier moment at which to
// register: a Hub stream sees the values emitted once the loop is running (for instance by the loop body),
// not those emitted between the call to All and the start of the loop. To register first and read later, use
// Observe or Subscribe.
func (s Stream[T]) All(ctx context.Context) iter.Seq[T] {
	return func(yield func(T) bool) {
		stopped := false
		_ = s.Run(ctx, func(v T) bool {
			if stopped || !yield(v) {
				stopped = true
				return false
			}
			return true
		})
	}
}

// All2 is All with the terminal error: it yields (v, nil) for each value and, when the stream ends with an
// error (including ctx.Err() when ctx ended), a last pair (zero, err). Nothing is yielded after the loop body
// breaks.
func (s Stream[T]) All2(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		stopped := false
		err := s.Run(ctx, func(v T) bool {
			if stopped || !yield(v, nil) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil && !stopped {
			var zero T
			yield(zero, err)
		}
	}
}
