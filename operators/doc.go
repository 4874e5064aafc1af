// Package operators provides generic, typed operators on stream.Stream, and RetryWithBackoff, the operator
// behind the socket's reconnect loop.
//
// Each operator takes one or more streams and returns a new stream; nothing runs until the result is run
// (Run, Observe, Subscribe, All), and every run of the result runs its sources anew, so results can be reused
// and observed any number of times. All operators follow the run contract of package stream: values are
// emitted from the goroutine that runs the stream, in order, and goroutines started by an operator end before
// its run returns.
//
// # Readiness
//
// Every operator is built with stream.Derive (DeriveAll, Derive2) and declares the Hub registrations of the
// sources it runs when it starts (see stream.Stream.Hubs): Merge the sum of its streams, TakeUntil both of
// its streams, FlatMap and ConcatMap their outer stream only, the others their single source. So Observe or
// Subscribe on a chain of operators over Hub streams returns only once the consumer is registered at each of
// those Hubs, and a value emitted into them afterwards is not lost. Write your own operators with
// stream.Derive too; a stream built with stream.New declares no Hub and is not waited for.
//
// # Ordering
//
// Order is preserved everywhere, with these documented exceptions: Merge and FlatMap interleave their inputs
// by arrival time (the order of each input is kept); Distinct and the drop operators (Filter, Skip, Throttle,
// Sample, Debounce...) remove values but never reorder them.
//
// # Completion, errors and flushing
//
// The first error of a source ends the result with that error, unless the operator says otherwise
// (MapErr with SkipErrors, RetryWithBackoff). Operators that hold values (Debounce, Sample, BufferCount,
// BufferTime) emit what they hold before ending, whether the source completed or failed; when the consumer
// cancels, held values are discarded, since nobody is left to receive them.
//
// # Invalid arguments
//
// A pipeline built with an invalid argument is a programmer error, and fails where it is built: the operator
// panics at once (Go's convention, as time.NewTicker(0) does), with a message naming the operator and the
// argument, such as "operators.Throttle: invalid argument d: non-positive duration 0s". A wrong pipeline is
// never a stream that ends quietly or fails later in a goroutine nobody watches. The rules, per operator:
//
//   - Debounce, Throttle, Sample, BufferTime, Timeout: d <= 0 panics.
//   - BufferCount: n < 1 panics. Take, Skip: n < 0 panics (n == 0 is valid: Take completes at once, Skip
//     skips nothing).
//   - Filter, Map, MapErr, Tap, Scan, Reduce, Distinct, DistinctUntilChanged, FlatMap, ConcatMap: a nil
//     function panics; so does SkipErrors(nil), when the option is built.
//   - TakeUntilContext: a nil context panics.
//   - RetryWithBackoff: a nil Backoff (or a nil BackoffFunc) panics. Its options are lenient by design and
//     documented as such: MaxAttempts(n < 0) means no limit, like 0; ResetAfter(d <= 0) disables the reset;
//     nil ShouldRetry and OnRetry are the defaults.
//   - Merge, TakeUntil, StartWith have no invalid argument (the zero Stream is an empty stream).
//
// Once a pipeline is built, running it never panics on account of its arguments: errors of the sources (and
// of MapErr's function) end the stream, as described above.
//
// # Time
//
// Time-based operators (Debounce, Throttle, Sample, BufferTime, Timeout, RetryWithBackoff) use the standard
// time package (time.Timer, time.Now), so testing/synctest virtualizes them. They arm a timer only while they
// hold a value or wait for one: an idle stream does not wake up.
//
// # Goroutines
//
// Operators that must react to time or to several sources while a source is blocked (Debounce, Sample,
// BufferTime, Merge, FlatMap, TakeUntil) run their source in one extra goroutine per run and hand values
// back over a channel; the others (Filter, Map, Scan, Take, Throttle, Timeout...) add no goroutine and cost
// one function call per value.
//
// # Cost
//
// The simple operators (Filter, Map, Scan...) cost about a nanosecond per value and allocate nothing; the
// goroutine-based ones (Debounce, Sample, BufferTime, Merge, FlatMap) cost a channel hand-off. The measured
// figures (go test -run '^$' -bench . -benchmem ./operators) are in bench/README.md, "Stream and operator
// costs".
package operators
