package operators_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rxrealtime/rxrealtime/stream"
)

var errBoom = errors.New("boom")

func collect[T any](t *testing.T, s stream.Stream[T]) ([]T, error) {
	t.Helper()
	return collectCtx(t.Context(), s)
}

func collectCtx[T any](ctx context.Context, s stream.Stream[T]) ([]T, error) {
	var got []T
	err := s.Run(ctx, func(v T) bool { got = append(got, v); return true })
	return got, err
}

// then returns a stream emitting values and ending with err.
func then[T any](err error, values ...T) stream.Stream[T] {
	return stream.New(func(ctx context.Context, emit func(T) bool) error {
		for _, v := range values {
			if !emit(v) {
				return nil
			}
		}
		return err
	})
}

// ev is one step of a timed source: at offset `at` from the start of the run, emit v (or end with err when
// end is set).
type ev[T any] struct {
	at  time.Duration
	v   T
	end bool
	err error
}

func at[T any](d time.Duration, v T) ev[T]          { return ev[T]{at: d, v: v} }
func endAt[T any](d time.Duration, err error) ev[T] { return ev[T]{at: d, end: true, err: err} }

// timed returns a cold source that follows the script using real (synctest-virtualized) timers. Without an
// end step it completes after the last value.
func timed[T any](script ...ev[T]) stream.Stream[T] {
	return stream.New(func(ctx context.Context, emit func(T) bool) error {
		start := time.Now()
		t := time.NewTimer(0)
		defer t.Stop()
		<-t.C
		for _, e := range script {
			if wait := time.Until(start.Add(e.at)); wait > 0 {
				t.Reset(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if e.end {
				return e.err
			}
			if !emit(e.v) {
				return nil
			}
		}
		return nil
	})
}

// stamped is a value with the virtual time at which it was received.
type stamped[T any] struct {
	At time.Duration
	V  T
}

func collectTimed[T any](t *testing.T, s stream.Stream[T]) ([]stamped[T], error) {
	t.Helper()
	start := time.Now()
	var got []stamped[T]
	err := s.Run(t.Context(), func(v T) bool {
		got = append(got, stamped[T]{time.Since(start), v})
		return true
	})
	return got, err
}

const ms = time.Millisecond
