// Package stream provides typed, allocation-aware streams: the consumption API of rxrealtime.
//
// # Streams
//
// A [Stream] describes a sequence of values of one type that is produced when the stream is run. It is a
// small immutable value wrapping a run function:
//
//	run(ctx context.Context, emit func(T) bool) error
//
// Every Run, Observe, Subscribe, All or All2 call runs the stream anew. A stream built from a [Hub] is hot:
// each run registers a new consumer that sees the values emitted from then on (for Observe and Subscribe:
// from the moment they return, see Readiness below). A stream built with [New],
// [Of] or [FromSlice] is cold: each run produces its values again.
//
// # Readiness: when a hot stream starts seeing values
//
// [Stream.Observe] and [Stream.Subscribe] return only once their consumer is registered at every Hub their
// stream declares, so the values emitted after they return are received:
//
//	replies := hub.Stream().Observe(ctx) // registered when Observe returns
//	send(request)                        // may make the producer call hub.Emit at once
//	reply := <-replies                   // not lost
//
// A stream records how many Hub registrations its run makes when it starts ([Stream.Hubs]): 1 for
// [Hub.Stream]; for a stream built with [Derive], [DeriveAll] or [Derive2] (every operator of package
// operators), the count of the sources it reads at start; 0 for [New], [Of], [FromSlice], [FromChan], [Empty]
// and [Fail]. Each run of a Hub stream reports to the consumer as soon as it has registered (or found the hub
// completed, or its context ended), through the context, and Observe and Subscribe wait for as many reports
// as the stream declares, or for the stream to end, or for their context to end. A stream that declares none
// is not waited for: cold streams start exactly as before. [Stream.All] and [Stream.All2] run the stream in
// the loop itself, so the stream registers once the loop has started.
//
// Readiness propagates through any chain of operators built with Derive, including operators that run their
// source in another goroutine or Observe it themselves. A stream built with [New] declares nothing, and Hubs
// it runs do not report: to propagate readiness, build a stream that reads another one with Derive. A bridge
// that must run its source under a context of its own (a foreign library's callback) hands the consumer's
// readiness over with [Handoff].
//
// # The run contract
//
// Everything in this package and in package operators follows these rules, and a run function given to
// [New] must follow them too:
//
//   - Ordering: run calls emit sequentially, from the goroutine that called run, never concurrently and never
//     after run has returned. Values arrive in the order they were produced. Operators that use goroutines
//     internally (Merge, FlatMap, Debounce...) hand values back to the calling goroutine before emitting.
//   - Stop: emit returns false when the consumer wants no more values. run must then stop calling emit and
//     return promptly; its return value is ignored in that case.
//   - Completion and errors: the value returned by run ends the stream: nil means it completed, a non-nil
//     error means it failed with that error. Nothing is emitted after the end.
//   - Cancellation: ctx is the consumer's context. When it ends, run must return promptly (usually with
//     ctx.Err()). Consumers treat an error returned after their own context ended as a cancellation, not as a
//     failure: [Subscription.Err] is nil after Stop.
//   - Goroutines: a run that starts goroutines must end them before it returns. A stream with no consumer
//     uses no goroutine at all.
//   - Readiness (streams built with Derive): the run runs its sources with its ctx (or a context derived from
//     it) as soon as it starts, before emitting anything or concurrently with it.
//
// # Consuming
//
//   - [Stream.Run] runs the stream in the caller's goroutine and returns its terminal error.
//   - [Stream.All] and [Stream.All2] return Go iterators for range-over-func loops, run in the caller's
//     goroutine (breaking out of the loop stops the stream). All2 also yields the terminal error: it is the
//     way for loops that care why the stream ended.
//   - [Stream.Observe] returns a channel fed by one goroutine; the channel closes when the stream ends or ctx
//     ends. The terminal error goes to the [OnError] callback.
//   - [Stream.Subscribe] calls a callback for each value, in order, from one goroutine, and returns a
//     [Subscription] with the terminal error and delivery counters.
//
// # Errors nobody asked for
//
// A stream that fails says why, and the error is never dropped without a trace. The rule: a terminal error
// goes to whoever asked for it — Run's result, All2's last pair, Subscribe's [Subscription.Err] (and OnError),
// Observe's OnError. When the consumer has no way to see it — Observe without OnError, a loop over All — it
// goes to the unhandled-error handler, whose default logs it with [slog.Default] at Warn ("stream: unhandled
// terminal error", key "error"); [SetUnhandledErrorHandler] replaces it for the whole process (say, to send
// such errors to your error tracker, or to fail a test). It is called once per run, from the consumer's
// goroutine, before Observe's channel closes or when All's loop ends.
//
// Not errors, and never reported: a stream that completes; the end of a run because the consumer's own
// context ended (a context error after that context ended is a cancellation); a consumer that stopped (Stop,
// or breaking out of a loop). A context error that is not the consumer's (a deadline inside the stream) is a
// failure like any other.
//
// Range loops that care why a stream ended use All2:
//
//	for v, err := range updates.All2(ctx) {
//		if err != nil {
//			return fmt.Errorf("updates ended: %w", err) // a failure, or ctx.Err()
//		}
//		use(v)
//	}
//	// no error: the stream completed
//
// # Hubs and backpressure
//
// A [Hub] is a hot multicast source: a producer calls [Hub.Emit] and every current consumer receives the
// value in its own bounded mailbox. The consumer list is read without locks, so Emit with no consumer costs a
// few nanoseconds and allocates nothing, and a hub with no consumers owns no goroutine.
//
// Each consumer chooses what happens when its mailbox is full, with options given to Observe or Subscribe
// (they travel to every Hub the stream reaches, through any chain of operators, in the context); a hub built
// with [WithDefaults] gives the defaults of the consumers that choose nothing, and Block is the default of a
// hub that does not:
//
//   - [Block]: Emit waits until the consumer makes room. Backpressure reaches the producer.
//   - [DropNewest]: the new value is dropped for this consumer and counted.
//   - [DropOldest]: the oldest queued value is dropped for this consumer and counted.
//
// A slow consumer with a drop policy never stalls Emit nor the other consumers, and its drop counter is exact
// ([Subscription.Dropped], [OnDrop]). [WithBuffer] sets the mailbox size. A consumer that leaves (its context
// ends, it stops, or its loop breaks) is unregistered at once and never blocks Emit again.
//
// A producer that must not be held up by its consumers (a network reader that also handles control
// traffic) builds its hub with [NeverWait]: Emit then never blocks on a full mailbox, whatever the policy
// (Block grows the mailbox instead). With [WaitForRoom] as well, Emit waits for room for a bounded time —
// each time, and in all until the consumer has caught up — before the policy applies: a consumer that is
// only briefly behind loses nothing, and one that stops holds Emit up once, for the bound on each wait.
//
// Streams without a Hub have no mailbox: their producer runs at the pace of the consumer.
//
// # rxgo
//
// Package stream/rxinterop bridges to github.com/reactivex/rxgo/v2 (ToObservable, FromObservable) so any rxgo
// operator can be used on a typed stream without exposing interface{} in this API; it is a package of its own
// so that this one does not link rxgo. The round trip FromObservable(ToObservable(s)) keeps readiness: it
// declares s's Hubs, so a value emitted after Observe returns is not lost; an rxgo operator in between hides
// s, and the result is not waited for. rxgo costs a goroutine hand-off per operator per value, and boxes values
// in interface{}, so the native operators of package operators are the ones to use on hot paths. The measured
// costs (BenchmarkChain, BenchmarkHubEmit, BenchmarkHubIdleMemory) are in bench/README.md, "Stream and
// operator costs".
package stream
