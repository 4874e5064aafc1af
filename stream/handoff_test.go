package stream_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/stream"
)

// bridged runs src in another goroutine under a context of its own (as a foreign library's producer
// would), handing the consumer's readiness over with Handoff when handoff is set.
func bridged[T any](own context.Context, src stream.Stream[T], handoff bool) stream.Stream[T] {
	return stream.Derive(src, func(ctx context.Context, emit func(T) bool) error {
		rctx := own
		if handoff {
			rctx = stream.Handoff(own, ctx)
		}
		rctx, cancel := context.WithCancel(rctx)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		vals, errc := make(chan T), make(chan error, 1)
		go func() { errc <- src.Run(rctx, func(v T) bool { vals <- v; return true }) }()
		for {
			select {
			case v := <-vals:
				if !emit(v) {
					cancel()
					<-errc
					return nil
				}
			case err := <-errc:
				return err
			}
		}
	})
}

func TestHandoffCarriesReadiness(t *testing.T) {
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := bridged(context.Background(), h.Stream(), true).Observe(ctx)
	require.Equal(t, 1, h.Consumers(), "registered when Observe returns")
	h.Emit(1)
	assert.Equal(t, 1, <-ch)
	cancel()
	for range ch {
	}
}

func TestHandoffWithoutReadiness(t *testing.T) {
	// from without readiness (nil, or a plain context): the consumer does not wait, and nothing hangs.
	assert.NotPanics(t, func() { _ = stream.Handoff(context.Background(), nil) })
	h := stream.NewHub[int]()
	got := make(chan int, 1)
	sub := stream.New(func(ctx context.Context, emit func(int) bool) error {
		return h.Stream().Run(stream.Handoff(ctx, context.Background()), emit)
	}).Subscribe(t.Context(), func(v int) { got <- v })
	waitConsumers(t, h, 1)
	h.Emit(3)
	assert.Equal(t, 3, <-got)
	sub.Stop()
	require.NoError(t, sub.Wait())
}
