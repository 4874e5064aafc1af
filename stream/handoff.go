package stream

import "context"

// Handoff returns ctx carrying the readiness of the consumer whose run context is from (see "Readiness" in
// the package documentation): a Hub stream run with the result, or with a context derived from it, reports
// its registration to that consumer, as if it had been run with from. Nothing else of from is carried: not
// its cancellation, deadline or other values. When from carries no readiness (the consumer does not wait,
// or from is nil), the result carries none either, so that Hubs run with it report to nobody.
//
// It is the hook for bridges that run a stream under a context of their own on behalf of a consumer whose
// context reaches them separately, such as the producer of an rxgo Observable in package stream/rxinterop,
// which receives the consumer's context from rxgo but must run the stream with the context the Observable
// was built with. For the consumer to wait, the stream that the bridge hands back must also declare the Hubs
// it runs: build it with [Derive] over the bridged stream.
func Handoff(ctx, from context.Context) context.Context {
	var r *readiness
	if from != nil {
		r = readinessFrom(from)
	}
	if r == nil {
		return unready(ctx)
	}
	return context.WithValue(ctx, readyKey{}, r)
}
