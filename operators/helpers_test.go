package operators_test

import (
	"context"
	"errors"
	"testing"

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
