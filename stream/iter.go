package stream

import (
	"context"
	"iter"
)

// All returns an iterator over the stream's values for range-over-func loops. Each loop runs the stream
// anew, in the caller's goroutine; breaking out of the loop stops the stream. Hub consumers get the hub's
// default policy. The terminal error is discarded: use All2 to see it.
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
