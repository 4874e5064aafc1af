package stream

import "context"

// Derive returns a stream whose run reads src: the way to build an operator on one source. The result
// declares the Hub registrations of src (see [Stream.Hubs]), so Observe and Subscribe on the result wait, as
// on src itself, until the consumer is registered at src's Hubs before they return ([New] declares none).
//
// For readiness to propagate, run must follow, besides the run contract:
//   - run src with the ctx it receives, or a context derived from it (values must flow: they carry the
//     consumer's options and its readiness);
//   - start running src when it starts, before emitting anything or in another goroutine, and not wait for
//     the consumer first: Observe and Subscribe do not return, so nobody reads, until src's Hubs are
//     registered (a run that emits first must run src concurrently, as StartWith in package operators does).
//
// Other streams that run runs later (inner streams of a FlatMap, say) are not counted: run them as
// New(inner.Run) so that their Hubs do not report to the consumer as if they were src's. A nil run gives an
// empty stream.
func Derive[T, U any](src Stream[T], run func(ctx context.Context, emit func(U) bool) error) Stream[U] {
	return derived(run, src.hubs)
}

// DeriveAll is Derive for a run that reads all of srcs when it starts (Merge, say): the result declares the
// sum of their Hub registrations.
func DeriveAll[T, U any](srcs []Stream[T], run func(ctx context.Context, emit func(U) bool) error) Stream[U] {
	n := 0
	for _, s := range srcs {
		n += s.hubs
	}
	return derived(run, n)
}

// Derive2 is Derive for a run that reads two streams of different types when it starts (TakeUntil, say): the
// result declares the Hub registrations of both.
func Derive2[A, B, U any](a Stream[A], b Stream[B], run func(ctx context.Context, emit func(U) bool) error) Stream[U] {
	return derived(run, a.hubs+b.hubs)
}

func derived[U any](run func(ctx context.Context, emit func(U) bool) error, hubs int) Stream[U] {
	if run == nil {
		return Stream[U]{}
	}
	return Stream[U]{run: run, hubs: hubs}
}

// Hubs returns the number of Hub registrations a run of s makes when it starts: 1 for Hub.Stream, 0 for New,
// Of, FromSlice, FromChan, Empty and Fail, and for operators what Derive, DeriveAll and Derive2 computed from
// their sources. Observe and Subscribe wait for that many registrations before they return. An operator that
// must emit before running its source can use it to decide whether to run the source concurrently.
func (s Stream[T]) Hubs() int { return s.hubs }
