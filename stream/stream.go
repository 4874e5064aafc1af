package stream

import "context"

// Stream describes a sequence of T that is delivered when the stream is run (see the package documentation
// for the run contract). Streams derived from a Hub are hot: a late consumer sees values from then on.
// A Stream value is cheap, immutable and reusable: every Run, Observe, Subscribe, All or All2 runs it anew.
// The zero Stream is an empty stream that completes at once.
//
// Besides its run function, a Stream records how many Hub registrations its run makes when it starts (see
// [Stream.Hubs]), so that Observe and Subscribe can return only once the consumer is registered everywhere.
type Stream[T any] struct {
	run    func(ctx context.Context, emit func(T) bool) error
	hubs   int       // Hub registrations made by a run when it starts
	opaque bool      // built by New: registrations inside run are not counted (see Run)
	pooled pooled[T] // MapHub: Observe may run it on shared workers (see MapHub); nil otherwise
}

// New builds a stream from a run function that pushes values synchronously with emit until it returns.
// emit returns false when the consumer has stopped: run should then return promptly. run's return value ends
// the stream: nil means completed, non-nil means failed with that error. ctx ends when the consumer cancels.
// A nil run gives an empty stream.
//
// A stream built with New declares no Hub registration: Observe and Subscribe do not wait for it (see
// "Readiness" in the package documentation), and Hubs that run reaches do not report to them. Use [Derive]
// for a stream that reads another stream, so that readiness propagates.
func New[T any](run func(ctx context.Context, emit func(T) bool) error) Stream[T] {
	return Stream[T]{run: run, opaque: true}
}

// cold builds a stream that reaches no Hub (the constructors of this package).
func cold[T any](run func(ctx context.Context, emit func(T) bool) error) Stream[T] {
	return Stream[T]{run: run}
}

// Run runs the stream synchronously in the caller's goroutine, calling emit for each value, and returns the
// terminal error (nil when the stream completed or emit returned false). No goroutine is started by Run
// itself; operators in the chain may start their own and end them before Run returns. A nil emit discards the
// values (the stream still runs to its end).
func (s Stream[T]) Run(ctx context.Context, emit func(T) bool) error {
	if s.run == nil {
		return nil
	}
	if emit == nil {
		emit = discard[T]
	}
	if s.opaque {
		ctx = unready(ctx)
	}
	return s.run(ctx, emit)
}

func discard[T any](T) bool { return true }

// Empty returns a stream that completes at once without values.
func Empty[T any]() Stream[T] { return Stream[T]{} }

// Fail returns a stream that fails at once with err (completes if err is nil).
func Fail[T any](err error) Stream[T] {
	return cold(func(context.Context, func(T) bool) error { return err })
}

// Of returns a cold stream of the given values, in order.
func Of[T any](values ...T) Stream[T] { return FromSlice(values) }

// FromSlice returns a cold stream of the elements of values, in order. The slice is read at each run, not
// copied.
func FromSlice[T any](values []T) Stream[T] {
	return cold(func(ctx context.Context, emit func(T) bool) error {
		for _, v := range values {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !emit(v) {
				return nil
			}
		}
		return nil
	})
}

// FromChan returns a stream of the values received from ch. It completes when ch is closed and stops when the
// consumer's context ends. Several concurrent runs share (split) the values of ch.
func FromChan[T any](ch <-chan T) Stream[T] {
	return cold(func(ctx context.Context, emit func(T) bool) error {
		done := ctx.Done()
		for {
			select {
			case v, ok := <-ch:
				if !ok {
					return nil
				}
				if !emit(v) {
					return nil
				}
			case <-done:
				return ctx.Err()
			}
		}
	})
}
