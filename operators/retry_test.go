package operators_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
)

// flaky returns a source whose run number i (from 0) is script[i]: it emits the run number then ends with the
// scripted error (errOK = complete). Past the script it completes.
var errOK = errors.New("complete cleanly")

func flaky(runs *atomic.Int64, script ...error) stream.Stream[int] {
	return stream.New(func(ctx context.Context, emit func(int) bool) error {
		i := int(runs.Add(1) - 1)
		if !emit(i) {
			return nil
		}
		if i < len(script) && script[i] != errOK {
			return script[i]
		}
		return nil
	})
}

type retryCall struct {
	attempt int
	cause   error
	delay   time.Duration
}

func TestRetryWithBackoff(t *testing.T) {
	errPerm := errors.New("permanent")
	tests := []struct {
		name      string
		script    []error
		opts      []operators.RetryOption
		want      []int
		wantErr   error
		wantCalls []retryCall
		wantTime  time.Duration
	}{
		{
			name:      "retries errors then completes",
			script:    []error{errBoom, errBoom, errOK},
			want:      []int{0, 1, 2},
			wantCalls: []retryCall{{1, errBoom, time.Second}, {2, errBoom, 2 * time.Second}},
			wantTime:  3 * time.Second,
		},
		{
			name:   "clean completion ends without RetryOnComplete",
			script: []error{errOK},
			want:   []int{0},
		},
		{
			name:      "clean completion retries with RetryOnComplete (rxgo flaw: no retry on clean close)",
			script:    []error{errOK, errOK, errBoom, errBoom},
			opts:      []operators.RetryOption{operators.RetryOnComplete(true), operators.MaxAttempts(3)},
			want:      []int{0, 1, 2, 3},
			wantErr:   errBoom,
			wantCalls: []retryCall{{1, operators.ErrSourceCompleted, time.Second}, {2, operators.ErrSourceCompleted, 2 * time.Second}, {3, errBoom, 5 * time.Second}},
			wantTime:  8 * time.Second,
		},
		{
			name:      "max attempts exhausted",
			script:    []error{errBoom, errBoom, errBoom, errBoom},
			opts:      []operators.RetryOption{operators.MaxAttempts(2)},
			want:      []int{0, 1, 2},
			wantErr:   operators.ErrRetryExhausted,
			wantCalls: []retryCall{{1, errBoom, time.Second}, {2, errBoom, 2 * time.Second}},
			wantTime:  3 * time.Second,
		},
		{
			name:      "permanent error stops",
			script:    []error{errBoom, errPerm, errBoom},
			opts:      []operators.RetryOption{operators.ShouldRetry(func(err error) bool { return !errors.Is(err, errPerm) })},
			want:      []int{0, 1},
			wantErr:   errPerm,
			wantCalls: []retryCall{{1, errBoom, time.Second}},
			wantTime:  time.Second,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var runs atomic.Int64
				var calls []retryCall
				opts := append([]operators.RetryOption{operators.OnRetry(func(a int, c error, d time.Duration) {
					calls = append(calls, retryCall{a, c, d})
				})}, tc.opts...)
				start := time.Now()
				got, err := collect(t, operators.RetryWithBackoff(flaky(&runs, tc.script...), operators.RealtimeReconnect, opts...))
				assert.Equal(t, tc.wantTime, time.Since(start))
				assert.Equal(t, tc.want, got)
				assert.Equal(t, tc.wantCalls, calls)
				if tc.wantErr == nil {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, tc.wantErr)
				}
			})
		})
	}
}

func TestRetryExhaustedError(t *testing.T) {
	var runs atomic.Int64
	_, err := collect(t, operators.RetryWithBackoff(flaky(&runs, errBoom, errBoom), operators.StepBackoff{}, operators.MaxAttempts(1)))
	var ex *operators.RetryExhaustedError
	require.ErrorAs(t, err, &ex)
	assert.Equal(t, 1, ex.Attempts)
	assert.ErrorIs(t, err, errBoom)
	assert.ErrorIs(t, err, operators.ErrRetryExhausted)
	assert.Contains(t, err.Error(), "boom")
	assert.Equal(t, int64(2), runs.Load())
}

// rxgo flaw 1: the backoff never resets after a healthy session. Here MarkHealthy (the socket calls it once
// the connection is open) restarts the schedule at attempt 1.
func TestRetryMarkHealthyResetsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run := 0
		src := stream.New(func(ctx context.Context, emit func(int) bool) error {
			run++
			if run == 3 || run == 5 { // "connection opened" in runs 3 and 5
				assert.True(t, operators.MarkHealthy(ctx))
			}
			if run == 6 {
				return nil
			}
			return errBoom
		})
		var attempts []int
		var delays []time.Duration
		_, err := collect(t, operators.RetryWithBackoff(src, operators.RealtimeReconnect, operators.OnRetry(func(a int, _ error, d time.Duration) {
			attempts = append(attempts, a)
			delays = append(delays, d)
		})))
		require.NoError(t, err)
		assert.Equal(t, []int{1, 2, 1, 2, 1}, attempts)
		assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, time.Second, 2 * time.Second, time.Second}, delays)
		assert.False(t, operators.MarkHealthy(t.Context()), "no retry in ctx")
	})
}

func TestRetryResetAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run := 0
		src := stream.New(func(ctx context.Context, emit func(int) bool) error {
			run++
			if run == 3 {
				time.Sleep(time.Minute) // a long healthy session (virtual time)
			}
			if run == 5 {
				return nil
			}
			return errBoom
		})
		var attempts []int
		_, err := collect(t, operators.RetryWithBackoff(src, operators.RealtimeReconnect,
			operators.ResetAfter(30*time.Second),
			operators.OnRetry(func(a int, _ error, _ time.Duration) { attempts = append(attempts, a) })))
		require.NoError(t, err)
		assert.Equal(t, []int{1, 2, 1, 2}, attempts)
	})
}

// rxgo flaws 3 and 4: context handled by the operator and no panic. Cancelling during the wait ends at once
// with ctx.Err(), no goroutine is left (goleak in TestMain), and no panic.
func TestRetryCancelDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var runs atomic.Int64
		done := make(chan error)
		go func() {
			_, err := collectCtx(ctx, operators.RetryWithBackoff(flaky(&runs, errBoom, errBoom, errBoom), operators.StepBackoff{time.Hour}))
			done <- err
		}()
		time.Sleep(time.Minute) // well inside the one-hour wait
		synctest.Wait()
		start := time.Now()
		cancel()
		err := <-done
		assert.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, time.Since(start), "cancel ends the wait at once")
		assert.Equal(t, int64(1), runs.Load())
		cancel() // a second cancel is harmless
	})
}

func TestRetryCancelDuringRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int]()
		ctx, cancel := context.WithCancel(t.Context())
		var retried atomic.Bool
		sub := operators.RetryWithBackoff(h.Stream(), operators.StepBackoff{0},
			operators.RetryOnComplete(true),
			operators.OnRetry(func(int, error, time.Duration) { retried.Store(true) })).Subscribe(ctx, nil)
		synctest.Wait()
		h.Emit(1)
		synctest.Wait()
		cancel()
		require.NoError(t, sub.Wait(), "cancellation is not a failure")
		assert.Equal(t, uint64(1), sub.Delivered())
		assert.False(t, retried.Load())
		assert.Equal(t, 0, h.Consumers())
	})
}

// rxgo stalls a hot source when it retries it; here each retry of a Hub stream is a new consumer, and the
// old one is gone.
func TestRetryOverHotHub(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int]()
		// fail the run on odd values, to force re-subscription
		src := stream.New(func(ctx context.Context, emit func(int) bool) error {
			return h.Stream().Run(ctx, func(v int) bool {
				if !emit(v) {
					return false
				}
				return v%2 == 0
			})
		})
		failing := stream.New(func(ctx context.Context, emit func(int) bool) error {
			err := src.Run(ctx, emit)
			if err == nil && ctx.Err() == nil {
				return errBoom
			}
			return err
		})
		var got []int
		sub := operators.RetryWithBackoff(failing, operators.StepBackoff{time.Second}).Subscribe(t.Context(), func(v int) { got = append(got, v) })
		for i := range 6 {
			synctest.Wait()
			require.Equal(t, 1, h.Consumers())
			h.Emit(i)
			synctest.Wait()
			if i%2 == 1 {
				assert.Equal(t, 0, h.Consumers(), "failed consumer left at once")
				time.Sleep(time.Second)
			}
		}
		sub.Stop()
		require.NoError(t, sub.Wait())
		assert.Equal(t, []int{0, 1, 2, 3, 4, 5}, got)
	})
}

func TestRetryConsumerStops(t *testing.T) {
	var runs atomic.Int64
	var got []int
	err := operators.RetryWithBackoff(flaky(&runs, errBoom, errBoom, errBoom), operators.StepBackoff{}).
		Run(t.Context(), func(v int) bool { got = append(got, v); return v < 1 })
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1}, got)
	assert.Equal(t, int64(2), runs.Load())
}

func TestRetryNegativeDelay(t *testing.T) {
	var runs atomic.Int64
	got, err := collect(t, operators.RetryWithBackoff(flaky(&runs, errBoom, errOK), operators.BackoffFunc(func(int) time.Duration { return -time.Hour })))
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1}, got)
}
