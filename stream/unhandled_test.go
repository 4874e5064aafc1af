package stream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/stream"
)

var errUnhandled = errors.New("connection lost")

// recordUnhandled installs a handler recording the unhandled errors for the duration of the test.
func recordUnhandled(t *testing.T) func() []error {
	t.Helper()
	var mu sync.Mutex
	var got []error
	prev := stream.SetUnhandledErrorHandler(func(err error) {
		mu.Lock()
		got = append(got, err)
		mu.Unlock()
	})
	t.Cleanup(func() { stream.SetUnhandledErrorHandler(prev) })
	return func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), got...)
	}
}

func drain[T any](ch <-chan T) (n int) {
	for range ch {
		n++
	}
	return n
}

// A terminal error that nobody asked for reaches the unhandled-error handler, once, before Observe's channel
// closes; an error someone asked for, a completion, or the consumer's own cancellation never does.
func TestUnhandledTerminalError(t *testing.T) {
	failing := stream.New(func(ctx context.Context, emit func(int) bool) error {
		emit(1)
		return errUnhandled
	})

	t.Run("Observe without OnError", func(t *testing.T) {
		got := recordUnhandled(t)
		assert.Equal(t, 1, drain(failing.Observe(t.Context())))
		assert.Equal(t, []error{errUnhandled}, got(), "reported before the channel closed")
	})
	t.Run("Observe with OnError", func(t *testing.T) {
		got := recordUnhandled(t)
		var seen error
		drain(failing.Observe(t.Context(), stream.OnError(func(err error) { seen = err })))
		assert.Equal(t, errUnhandled, seen)
		assert.Empty(t, got())
	})
	t.Run("Observe completes", func(t *testing.T) {
		got := recordUnhandled(t)
		drain(stream.Of(1, 2).Observe(t.Context()))
		assert.Empty(t, got())
	})
	t.Run("Observe cancelled by its ctx", func(t *testing.T) {
		got := recordUnhandled(t)
		h := stream.NewHub[int]()
		ctx, cancel := context.WithCancel(t.Context())
		ch := h.Stream().Observe(ctx)
		cancel()
		drain(ch)
		assert.Empty(t, got())
	})
	t.Run("Observe of a deadline that is the stream's own", func(t *testing.T) {
		// A context error that is not the consumer's cancellation is a failure like any other.
		got := recordUnhandled(t)
		drain(stream.Fail[int](context.DeadlineExceeded).Observe(t.Context()))
		assert.Equal(t, []error{context.DeadlineExceeded}, got())
	})
	t.Run("Observe of a failing hub", func(t *testing.T) {
		got := recordUnhandled(t)
		h := stream.NewHub[int]()
		ch := h.Stream().Observe(t.Context())
		h.Emit(7)
		h.Complete(errUnhandled)
		assert.Equal(t, 1, drain(ch))
		assert.Equal(t, []error{errUnhandled}, got())
	})
	t.Run("Subscribe keeps it", func(t *testing.T) {
		got := recordUnhandled(t)
		assert.ErrorIs(t, failing.Subscribe(t.Context(), nil).Wait(), errUnhandled)
		assert.Empty(t, got())
	})
	t.Run("Run returns it", func(t *testing.T) {
		got := recordUnhandled(t)
		assert.ErrorIs(t, failing.Run(t.Context(), nil), errUnhandled)
		assert.Empty(t, got())
	})
	t.Run("All reports it", func(t *testing.T) {
		got := recordUnhandled(t)
		n := 0
		for range failing.All(t.Context()) {
			n++
		}
		assert.Equal(t, 1, n)
		assert.Equal(t, []error{errUnhandled}, got())
	})
	t.Run("All broken out of", func(t *testing.T) {
		got := recordUnhandled(t)
		for range failing.All(t.Context()) {
			break
		}
		assert.Empty(t, got())
	})
	t.Run("All cancelled by its ctx", func(t *testing.T) {
		got := recordUnhandled(t)
		h := stream.NewHub[int]()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for range h.Stream().All(ctx) {
		}
		assert.Empty(t, got())
	})
	t.Run("All2 yields it", func(t *testing.T) {
		got := recordUnhandled(t)
		var last error
		for _, err := range failing.All2(t.Context()) {
			last = err
		}
		assert.Equal(t, errUnhandled, last)
		assert.Empty(t, got())
	})
}

// The default handler logs at Warn with slog.Default.
func TestUnhandledDefaultLogs(t *testing.T) {
	prevHandler := stream.SetUnhandledErrorHandler(nil) // the default
	defer stream.SetUnhandledErrorHandler(prevHandler)
	var buf bytes.Buffer
	prevLogger := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prevLogger)

	drain(stream.Fail[int](errUnhandled).Observe(t.Context()))
	out := buf.String()
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, `msg="stream: unhandled terminal error"`)
	assert.Contains(t, out, `error="connection lost"`)
}

// SetUnhandledErrorHandler returns the previous handler (the default when none was set), nil restores the
// default, and it is safe to use concurrently with streams that report (go test -race).
func TestSetUnhandledErrorHandler(t *testing.T) {
	var a []error
	prev := stream.SetUnhandledErrorHandler(func(err error) { a = append(a, err) })
	require.NotNil(t, prev, "the default is returned, never nil")
	back := stream.SetUnhandledErrorHandler(prev)
	back(errUnhandled)
	assert.Equal(t, []error{errUnhandled}, a, "the handler set is the one returned")

	def := stream.SetUnhandledErrorHandler(nil)
	require.NotNil(t, def)
	defer stream.SetUnhandledErrorHandler(def)

	var wg sync.WaitGroup
	var mu sync.Mutex
	count := 0
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				stream.SetUnhandledErrorHandler(func(error) { mu.Lock(); count++; mu.Unlock() })
				drain(stream.Fail[int](fmt.Errorf("run %d", i)).Observe(context.Background()))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 400, count, "every unhandled error reached a handler")
}

// SetUnhandledErrorHandler routes the errors of Observe consumers without OnError to your own reporting.
func ExampleSetUnhandledErrorHandler() {
	var unhandled []error
	prev := stream.SetUnhandledErrorHandler(func(err error) { unhandled = append(unhandled, err) })
	defer stream.SetUnhandledErrorHandler(prev)

	hub := stream.NewHub[string]()
	ch := hub.Stream().Observe(context.Background()) // no OnError
	hub.Emit("hello")
	hub.Complete(errors.New("channel closed by the server"))
	for v := range ch {
		fmt.Println(v)
	}
	// The handler ran before the channel closed.
	fmt.Println("unhandled:", unhandled)
	// Output:
	// hello
	// unhandled: [channel closed by the server]
}

// A range loop that cares why a stream ended uses All2: a failure comes as a last pair with a non-nil error,
// the end of the loop's own ctx as ctx.Err(), and a loop that ends without an error saw the stream complete.
func ExampleStream_All2_whyItEnded() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failing := stream.New(func(ctx context.Context, emit func(int) bool) error {
		emit(1)
		return errors.New("server closed the channel")
	})
	hub := stream.NewHub[int]()
	cancelled := stream.New(func(ctx context.Context, emit func(int) bool) error {
		emit(1)
		cancel()
		return hub.Stream().Run(ctx, emit) // no value comes: ends with ctx.Err()
	})
	for _, s := range []stream.Stream[int]{stream.Of(1), failing, cancelled} {
		ended := "completed"
		for v, err := range s.All2(ctx) {
			if err != nil {
				ended = "ended: " + err.Error()
				break
			}
			fmt.Print("value ", v, ", ")
		}
		fmt.Println(ended)
	}
	// Output:
	// value 1, completed
	// value 1, ended: server closed the channel
	// value 1, ended: context canceled
}
