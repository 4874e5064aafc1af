package operators

import (
	"context"
	"errors"

	"github.com/rxrealtime/rxrealtime/stream"
)

// Take emits the first n values of s, then completes and stops s. Take(s, 0) completes without running s.
func Take[T any](s stream.Stream[T], n int) stream.Stream[T] {
	if n < 0 {
		badArg("Take", "n", "negative count %d", n)
	}
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		if n == 0 {
			return nil
		}
		count, full := 0, false
		err := s.Run(ctx, func(v T) bool {
			if !emit(v) {
				return false
			}
			count++
			full = count >= n
			return !full
		})
		if full {
			return nil
		}
		return err
	})
}

// Skip drops the first n values of s and emits the rest.
func Skip[T any](s stream.Stream[T], n int) stream.Stream[T] {
	if n < 0 {
		badArg("Skip", "n", "negative count %d", n)
	}
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		skipped := 0
		return s.Run(ctx, func(v T) bool {
			if skipped < n {
				skipped++
				return true
			}
			return emit(v)
		})
	})
}

var errUntil = errors.New("operators: take until")

// TakeUntil emits the values of s until notifier emits its first value, then completes and stops both. If
// notifier fails first, the stream fails with its error; if notifier completes without a value, s goes on.
// notifier runs in its own goroutine, with the consumer's context (and options). Both start with the run, so
// the result declares the Hub registrations of both (see stream.Stream.Hubs).
func TakeUntil[T, U any](s stream.Stream[T], notifier stream.Stream[U]) stream.Stream[T] {
	return stream.Derive2(s, notifier, func(ctx context.Context, emit func(T) bool) error {
		sctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		ndone := make(chan struct{})
		go func() {
			defer close(ndone)
			err := notifier.Run(sctx, func(U) bool {
				cancel(errUntil)
				return false
			})
			if err != nil && sctx.Err() == nil {
				cancel(err)
			}
		}()
		err := runUntil(ctx, sctx, s, emit)
		cause := context.Cause(sctx)
		cancel(errUntil)
		<-ndone
		return untilResult(ctx, sctx, cause, err)
	})
}

// TakeUntilContext emits the values of s until until ends, then completes and stops s. It uses no goroutine
// while waiting (context.AfterFunc).
func TakeUntilContext[T any](s stream.Stream[T], until context.Context) stream.Stream[T] {
	if until == nil {
		badArg("TakeUntilContext", "until", "nil context")
	}
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		sctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(until, func() { cancel(errUntil) })
		defer stop()
		err := runUntil(ctx, sctx, s, emit)
		return untilResult(ctx, sctx, context.Cause(sctx), err)
	})
}

// runUntil runs s with sctx and emits nothing once sctx has ended.
func runUntil[T any](ctx, sctx context.Context, s stream.Stream[T], emit func(T) bool) error {
	done := sctx.Done()
	return s.Run(sctx, func(v T) bool {
		select {
		case <-done:
			return false
		default:
			return emit(v)
		}
	})
}

func untilResult(ctx, sctx context.Context, cause, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case cause == errUntil:
		return nil
	case cause != nil:
		return cause
	default:
		return err
	}
}
