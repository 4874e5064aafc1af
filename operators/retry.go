package operators

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rxrealtime/rxrealtime/stream"
)

// RetryOption configures RetryWithBackoff.
type RetryOption func(*retryConfig)

type retryConfig struct {
	maxAttempts int
	onComplete  bool
	resetAfter  time.Duration
	shouldRetry func(error) bool
	onRetry     func(attempt int, cause error, delay time.Duration)
}

// MaxAttempts limits the consecutive retries: after a failure, the source is re-run at most n times (attempts
// 1..n, as given to Backoff.Next and OnRetry) before the stream fails with *RetryExhaustedError. The count
// restarts after a healthy run. 0 (the default) retries forever; negative values are treated as 0.
func MaxAttempts(n int) RetryOption {
	return func(c *retryConfig) { c.maxAttempts = max(n, 0) }
}

// RetryOnComplete makes a clean end of the source (run returned nil) retry too, with cause
// ErrSourceCompleted: a WebSocket closed cleanly by the server must be re-dialled. By default a clean end
// completes the stream.
func RetryOnComplete(on bool) RetryOption {
	return func(c *retryConfig) { c.onComplete = on }
}

// ResetAfter treats a run that lasted at least d as healthy: the next failure starts again at attempt 1.
// MarkHealthy is the precise alternative. d <= 0 disables it (the default).
func ResetAfter(d time.Duration) RetryOption {
	return func(c *retryConfig) { c.resetAfter = d }
}

// ShouldRetry sets a predicate on source errors: when it returns false the error is permanent and ends the
// stream as is (not wrapped). It is not consulted for a clean end under RetryOnComplete.
func ShouldRetry(fn func(error) bool) RetryOption {
	return func(c *retryConfig) { c.shouldRetry = fn }
}

// OnRetry sets a callback called, from the consumer's goroutine, before each wait: attempt (from 1), the
// cause of the failure, and the delay about to be waited. A socket uses it to publish "reconnecting" states.
func OnRetry(fn func(attempt int, cause error, delay time.Duration)) RetryOption {
	return func(c *retryConfig) { c.onRetry = fn }
}

type healthKey struct{}

type health struct{ ok atomic.Bool }

// MarkHealthy tells the innermost RetryWithBackoff running the source that received ctx that the current run
// is healthy (for a socket: the connection is open), so its next failure retries from attempt 1 (the shortest
// delay) instead of continuing the backoff. It may be called from any goroutine while the run is active and
// reports whether a RetryWithBackoff was found in ctx.
func MarkHealthy(ctx context.Context) bool {
	h, ok := ctx.Value(healthKey{}).(*health)
	if ok {
		h.ok.Store(true)
	}
	return ok
}

// RetryWithBackoff re-runs s after it fails, waiting b.Next(attempt) between runs. Every run is a fresh run of
// s (for a socket source: a fresh dial; for a Hub stream: a new consumer), and the values of all runs are
// forwarded in order.
//
// Unlike rxgo's BackOffRetry: the backoff restarts after a healthy run (MarkHealthy, ResetAfter); a clean
// end can retry (RetryOnComplete); the consumer's context is honoured everywhere — cancelling it ends the
// source run or the wait at once, returns ctx.Err() and leaves no goroutine (the wait is a timer, not a
// goroutine); and nothing panics once the pipeline is built. The stream ends:
//   - with nil when the source completes (without RetryOnComplete) or the consumer stops;
//   - with the source's error when ShouldRetry rejects it;
//   - with *RetryExhaustedError when MaxAttempts consecutive retries have failed;
//   - with ctx.Err() when ctx ends.
//
// A nil b (or a nil BackoffFunc) panics, naming the operator (see "Invalid arguments" in the package
// documentation). Negative delays count as 0. The result declares the
// Hub registrations of s (see stream.Stream.Hubs): Observe waits until a run of s has registered.
func RetryWithBackoff[T any](s stream.Stream[T], b Backoff, opts ...RetryOption) stream.Stream[T] {
	if f, isFunc := b.(BackoffFunc); b == nil || isFunc && f == nil {
		badArg("RetryWithBackoff", "b", "nil Backoff")
	}
	var cfg retryConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		h := &health{}
		rctx := context.WithValue(ctx, healthKey{}, h)
		stopped := false
		forward := func(v T) bool {
			if stopped || !emit(v) {
				stopped = true
				return false
			}
			return true
		}
		var timer *time.Timer
		defer func() {
			if timer != nil {
				timer.Stop()
			}
		}()
		attempt := 0
		for {
			h.ok.Store(false)
			start := time.Now()
			err := s.Run(rctx, forward)
			if stopped {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err == nil {
				if !cfg.onComplete {
					return nil
				}
				err = ErrSourceCompleted
			} else if cfg.shouldRetry != nil && !cfg.shouldRetry(err) {
				return err
			}
			if h.ok.Load() || (cfg.resetAfter > 0 && time.Since(start) >= cfg.resetAfter) {
				attempt = 0
			}
			attempt++
			if cfg.maxAttempts > 0 && attempt > cfg.maxAttempts {
				return &RetryExhaustedError{Attempts: attempt - 1, Last: err}
			}
			delay := max(b.Next(attempt), 0)
			if cfg.onRetry != nil {
				cfg.onRetry(attempt, err, delay)
			}
			if delay > 0 {
				if timer == nil {
					timer = time.NewTimer(delay)
				} else {
					timer.Reset(delay)
				}
				select {
				case <-timer.C:
				case <-ctx.Done():
					return ctx.Err()
				}
			} else if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	})
}
