package stream

import (
	"context"
	"sync/atomic"
)

// readiness lets Observe and Subscribe wait until the stream they run has registered its consumer at every
// Hub it declares (Stream.hubs). It travels in the run's context; each run of Hub.run reports to it once, as
// soon as its registration is settled. A readiness found in the context when it is created (an Observe
// nested inside an operator's run) is its parent: every report is passed on to it, so the outer consumer
// counts the registrations made through the inner one.
type readiness struct {
	left     atomic.Int64 // reports still awaited
	released atomic.Bool
	ready    chan struct{} // closed when left reaches 0 or the run has returned
	parent   *readiness
}

type readyKey struct{}

func readinessFrom(ctx context.Context) *readiness {
	r, _ := ctx.Value(readyKey{}).(*readiness)
	return r
}

// withReadiness returns ctx carrying a new readiness awaiting hubs reports, and that readiness. With hubs
// == 0 nothing is awaited: it returns ctx without readiness (nil), so that registrations of uncounted Hubs
// inside the stream do not reach an outer consumer either.
func withReadiness(ctx context.Context, hubs int) (context.Context, *readiness) {
	if hubs <= 0 {
		return unready(ctx), nil
	}
	r := &readiness{ready: make(chan struct{}), parent: readinessFrom(ctx)}
	r.left.Store(int64(hubs))
	return context.WithValue(ctx, readyKey{}, r), r
}

// unready returns ctx without readiness: Hubs run with it report to nobody.
func unready(ctx context.Context) context.Context {
	if readinessFrom(ctx) == nil {
		return ctx
	}
	return context.WithValue(ctx, readyKey{}, (*readiness)(nil))
}

// reportReady is called by Hub.run once per run, when its registration is settled (registered, hub already
// completed, or ctx already ended). It never blocks.
func reportReady(ctx context.Context) {
	for r := readinessFrom(ctx); r != nil; r = r.parent {
		if r.left.Add(-1) == 0 {
			r.release()
		}
	}
}

// release ends the wait (all reports arrived, or the run returned). Idempotent; nil-safe.
func (r *readiness) release() {
	if r != nil && r.released.CompareAndSwap(false, true) {
		close(r.ready)
	}
}

// wait blocks until release or until ctx ends. Nil-safe: a nil readiness does not wait.
func (r *readiness) wait(ctx context.Context) {
	if r == nil {
		return
	}
	select {
	case <-r.ready:
	case <-ctx.Done():
	}
}
