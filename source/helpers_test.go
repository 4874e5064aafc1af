package source_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
)

// fast are client options that keep fault tests short: quick heartbeats
// and a fixed, tiny reconnect backoff.
func fast(extra ...source.Option) []source.Option {
	return append([]source.Option{
		source.WithAPIKey("anon-key"),
		source.WithHeartbeat(100*time.Millisecond, 100*time.Millisecond),
		source.WithReconnectBackoff(operators.StepBackoff{20 * time.Millisecond}),
		source.WithPushTimeout(2 * time.Second),
	}, extra...)
}

// newServer starts an embedded server that is closed with the test.
func newServer(t *testing.T, opts ...realtimetest.Option) *realtimetest.Server {
	t.Helper()
	s := realtimetest.NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// connect connects a client to s and closes it with the test.
func connect(t *testing.T, s *realtimetest.Server, opts ...source.Option) *source.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := source.Connect(ctx, s.URL(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, c.Close(ctx))
	})
	return c
}

// collector gathers a stream's values in the background.
type collector[T any] struct {
	ch   <-chan T
	stop context.CancelFunc
}

func collect[T any](t *testing.T, s stream.Stream[T], opts ...stream.ObserveOption) *collector[T] {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts = append([]stream.ObserveOption{stream.WithBuffer(1024), stream.DropNewest()}, opts...)
	return &collector[T]{ch: s.Observe(ctx, opts...), stop: cancel}
}

// next waits for the next value matching ok, failing the test after d.
func (c *collector[T]) next(t *testing.T, d time.Duration, ok func(T) bool) T {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case v, open := <-c.ch:
			if !open {
				t.Fatalf("stream ended before the expected value")
			}
			if ok(v) {
				return v
			}
		case <-timer.C:
			t.Fatalf("no expected value within %v", d)
		}
	}
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}
