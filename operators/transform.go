package operators

import (
	"context"

	"github.com/rxrealtime/rxrealtime/stream"
)

// Filter emits the values of s for which keep returns true. No goroutine, one call per value.
func Filter[T any](s stream.Stream[T], keep func(T) bool) stream.Stream[T] {
	checkFunc("Filter", "keep", keep == nil)
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		return s.Run(ctx, func(v T) bool {
			if keep(v) {
				return emit(v)
			}
			return true
		})
	})
}

// Map emits f(v) for each value v of s. No goroutine, one call per value.
func Map[T, U any](s stream.Stream[T], f func(T) U) stream.Stream[U] {
	checkFunc("Map", "f", f == nil)
	return stream.Derive(s, func(ctx context.Context, emit func(U) bool) error {
		return s.Run(ctx, func(v T) bool { return emit(f(v)) })
	})
}

// Tap calls fn for each value of s, then passes the value on unchanged (for logging, metrics...).
func Tap[T any](s stream.Stream[T], fn func(T)) stream.Stream[T] {
	checkFunc("Tap", "fn", fn == nil)
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		return s.Run(ctx, func(v T) bool { fn(v); return emit(v) })
	})
}

// MapErrOption configures MapErr.
type MapErrOption func(*mapErrConfig)

type mapErrConfig struct {
	skip   bool
	report func(error)
}

// SkipErrors makes MapErr skip a value whose conversion failed instead of ending the stream, and pass the
// error to report (called in the consumer's goroutine; it must not be nil, so no error goes unseen).
func SkipErrors(report func(error)) MapErrOption {
	checkFunc("SkipErrors", "report", report == nil)
	return func(c *mapErrConfig) { c.skip, c.report = true, report }
}

// MapErr emits f(v) for each value v of s. By default the first error returned by f ends the stream with
// that error (as is, so errors.Is/As see it); with SkipErrors the value is skipped and the error reported.
func MapErr[T, U any](s stream.Stream[T], f func(T) (U, error), opts ...MapErrOption) stream.Stream[U] {
	checkFunc("MapErr", "f", f == nil)
	var cfg mapErrConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return stream.Derive(s, func(ctx context.Context, emit func(U) bool) error {
		var ferr error
		err := s.Run(ctx, func(v T) bool {
			u, err := f(v)
			if err != nil {
				if cfg.skip {
					cfg.report(err)
					return true
				}
				ferr = err
				return false
			}
			return emit(u)
		})
		if ferr != nil {
			return ferr
		}
		return err
	})
}

// Scan emits the running accumulation of s: acc = f(acc, v) for each value, starting from seed at each run.
func Scan[T, A any](s stream.Stream[T], seed A, f func(acc A, v T) A) stream.Stream[A] {
	checkFunc("Scan", "f", f == nil)
	return stream.Derive(s, func(ctx context.Context, emit func(A) bool) error {
		acc := seed
		return s.Run(ctx, func(v T) bool {
			acc = f(acc, v)
			return emit(acc)
		})
	})
}

// Reduce emits one value when s completes: the accumulation of all its values from seed (seed itself for an
// empty source). If s fails, nothing is emitted and the error ends the stream.
func Reduce[T, A any](s stream.Stream[T], seed A, f func(acc A, v T) A) stream.Stream[A] {
	checkFunc("Reduce", "f", f == nil)
	return stream.Derive(s, func(ctx context.Context, emit func(A) bool) error {
		acc := seed
		if err := s.Run(ctx, func(v T) bool { acc = f(acc, v); return true }); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		emit(acc)
		return nil
	})
}

// StartWith emits values, then the values of s. When s reaches Hubs (s.Hubs() > 0), s runs in its own
// goroutine from the start, so that it is registered before values are delivered: a consumer that Observes
// the result misses nothing emitted into those Hubs after Observe returns (its mailbox holds what arrives
// while values are delivered). Otherwise s runs after values, in the consumer's goroutine.
func StartWith[T any](s stream.Stream[T], values ...T) stream.Stream[T] {
	prefix := func(ctx context.Context, emit func(T) bool) (more bool, err error) {
		for _, v := range values {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if !emit(v) {
				return false, nil
			}
		}
		return true, nil
	}
	if s.Hubs() == 0 || len(values) == 0 {
		return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
			if more, err := prefix(ctx, emit); !more {
				return err
			}
			return s.Run(ctx, emit)
		})
	}
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		p := startPump(ctx, s)
		defer p.stop()
		if more, err := prefix(ctx, emit); !more {
			return err
		}
		for v := range p.ch {
			if !emit(v) {
				return nil
			}
		}
		return end(ctx, p.err, nil)
	})
}
