// Package operators provides generic, typed operators on stream.Stream, and RetryWithBackoff, the operator
// behind the socket's reconnect loop.
//
// Each operator takes one or more streams and returns a new stream; nothing runs until the result is run
// (Run, Observe, Subscribe, All), and every run of the result runs its sources anew, so results can be reused
// and observed any number of times. All operators follow the run contract of package stream: values are
// emitted from the goroutine that runs the stream, in order, and goroutines started by an operator end before
// its run returns.
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
// cancels, held values are discarded, since nobody is left to receive them. Bad arguments (nil functions,
// negative counts, non-positive durations) give a stream that fails at once with an error matching
// ErrInvalidArgument; operators never panic on bad input.
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
package operators
