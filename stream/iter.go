package stream

import (
	"context"
	"iter"
)

// All returns an iterator over the stream's values for range-over-func loops. Each loop runs the stream
// anew, in the caller's goroutine; breaking out of the loop stops the stream. Hub consumers get the hub's
// default policy. A loop over All cannot see why the stream ended, so a terminal error goes to the
// unhandled-error handler (by default a Warn log; see [SetUnhandledErrorHandler]) when the loop ends; the end
// because ctx ended or the loop broke is not an error. Use [Stream.All2] in loops that care why the stream
// ended.
//
// The stream starts when the loop starts, in the loop's goroutine, so there is no earlier moment at which to
// register: a Hub stream sees the values emitted once the loop is running (for instance by the loop body),
// not those emitted between the call to All and the start of the loop. To register first and read later, use
// Observe or Subscribe.
func (s Stream[T]) All(ctx context.Context) iter.Seq[T] {
	return func(yield func(T) bool) {
		stopped := false
		err := s.Run(ctx, func(v T) bool {
			if stopped || !yield(v) {
				stopped = true
				return false
			}
			return true
		})
		if !stopped {
			reportUnhandled(terminal(ctx, err))
		}
	}
}

// All2 is All with the terminal error, the way for range loops that care why the stream ended: it yields
// (v, nil) for each value and, when the stream ends with an error (including ctx.Err() when ctx ended), a
// last pair (zero, err). A loop that completes without seeing a non-nil error saw the stream complete (or
// broke out itself). Nothing is yielded after the loop body breaks, and the unhandled-error handler is never
// called: the error is the loop's.
//
//	for v, err := range s.All2(ctx) {
//		if err != nil {
//			return fmt.Errorf("updates ended: %w", err)
//		}
//		use(v)
//	}
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
