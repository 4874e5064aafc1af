package stream

import "context"

// MapHub returns the hot stream of f(v) for the values v of h for which keep returns true (a nil keep keeps
// every value), skipping those for which f returns false. keep runs on the producer's goroutine, as in
// [Hub.Where]. Each run calls newMap once, before its first f call, for an f of its own (which may keep
// state between values, such as a variable to decode into); f runs on the consumer's side, never
// concurrently with itself, and must not block.
//
// Run, Subscribe and operators see the stream as Derive over h.Where(keep). Observe of the stream itself,
// given a pool w (not nil), at a hub built with [NeverWait] and without OnDrop, runs it without a goroutine
// of its own: w's workers take the consumers that have values queued, call f and hand its results to their
// channels without waiting. A consumer whose channel is full gets a goroutine of its own until it has
// taken them, so a consumer that stops reading holds up no other. An idle consumer thus costs no goroutine,
// and a value costs one wake-up (of the goroutine reading the channel) instead of two. Every contract of
// Observe holds; OnError and the unhandled-error handler are called on a goroutine of their own.
func MapHub[T, U any](h *Hub[T], w *Workers, keep func(T) bool, newMap func() func(T) (U, bool)) Stream[U] {
	src := h.Where(keep)
	s := Derive(src, func(ctx context.Context, emit func(U) bool) error {
		f := newMap()
		return src.Run(ctx, func(v T) bool {
			u, ok := f(v)
			return !ok || emit(u)
		})
	})
	if w != nil {
		s.pooled = &hubMap[T, U]{h: h, w: w, keep: keep, newMap: newMap}
	}
	return s
}

// pooled is a stream that Observe can run on the shared workers.
type pooled[T any] interface {
	// observe is Observe on the shared workers; nil when the stream cannot run there.
	observe(ctx context.Context, cfg *observeConfig) <-chan T
}

// hubMap is the stream of MapHub, for Observe.
type hubMap[T, U any] struct {
	h      *Hub[T]
	w      *Workers
	keep   func(T) bool
	newMap func() func(T) (U, bool)
}

func (m *hubMap[T, U]) observe(ctx context.Context, cfg *observeConfig) <-chan U {
	h := m.h
	if h.cfg == nil || !h.cfg.neverWait {
		return nil
	}
	buffer, pol, onDrop, ctr := merge(cfg, h.cfg.defaults)
	if onDrop != nil {
		return nil // OnDrop runs the consumer's code before values: on a goroutine of the consumer's own
	}
	out := make(chan U, min(cfg.buffer, maxObserveBuffer))
	p := &pump[T, U]{w: m.w, ctx: ctx, out: out, h: h, newMap: m.newMap, onError: cfg.onError}
	if ctx.Err() != nil {
		reportReady(ctx) // settled: this consumer will never register
		close(out)
		return out
	}
	c := &consumer[T]{gone: make(chan struct{}), policy: pol, counters: ctr, limit: buffer, keep: m.keep,
		total: h.cfg.dropped, q: &queue[T]{notify: p.wake}}
	p.c = c
	// The pump is held (state 1) until it is set up: a value or the end that arrives meanwhile only
	// counts, and the release below schedules it.
	p.state.Store(1)
	done, err, ok := h.register(c)
	if !ok {
		reportReady(ctx) // the hub has completed: nothing to miss
		if h.cfg.replay {
			if v, has := h.Latest(); has && (m.keep == nil || m.keep(v)) {
				if u, ok := m.newMap()(v); ok {
					out <- u // the final value, to a consumer that came after the end; out has room for one
				}
			}
		}
		p.end(err)
		return out
	}
	p.done = done
	h.notifyActive()
	reportReady(ctx) // registered, and OnActive has been told
	p.stop = context.AfterFunc(ctx, p.wake)
	p.release()
	return out
}
