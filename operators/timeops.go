package operators

import (
	"context"
	"time"

	"github.com/rxrealtime/rxrealtime/stream"
)

// Debounce emits a value of s only after s has been quiet for d since that value (each new value restarts the
// wait and replaces the pending one). When s ends, the pending value is emitted before the end, whether s
// completed or failed (rxgo's Debounce drops it). Every run has its own state, so the result can be observed
// any number of times. The timer is armed only while a value is pending.
func Debounce[T any](s stream.Stream[T], d time.Duration) stream.Stream[T] {
	checkDuration("Debounce", d)
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		var pending T
		has := false
		return timerLoop(ctx, s, func(v T) time.Duration {
			pending, has = v, true
			return d
		}, func() bool {
			if !has {
				return true
			}
			has = false
			v := pending
			var zero T
			pending = zero
			return emit(v)
		})
	})
}

// Throttle emits a value of s, then ignores the values that follow for d (leading edge). It adds no goroutine
// and no timer: it compares time.Now with the time of the last emitted value.
func Throttle[T any](s stream.Stream[T], d time.Duration) stream.Stream[T] {
	checkDuration("Throttle", d)
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		var last time.Time
		first := true
		return s.Run(ctx, func(v T) bool {
			now := time.Now()
			if !first && now.Sub(last) < d {
				return true
			}
			first, last = false, now
			return emit(v)
		})
	})
}

// Sample emits, at the end of each period d (counted from the start of the run), the latest value of s if a
// new one arrived during that period. When s ends, a value not yet sampled is emitted before the end. The
// timer is armed only while a value is waiting, so an idle stream does not wake up.
func Sample[T any](s stream.Stream[T], d time.Duration) stream.Stream[T] {
	checkDuration("Sample", d)
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		start := time.Now()
		var latest T
		has := false
		return timerLoop(ctx, s, func(v T) time.Duration {
			var arm time.Duration
			if !has {
				arm = untilNextPeriod(start, d)
			}
			latest, has = v, true
			return arm
		}, func() bool {
			if !has {
				return true
			}
			has = false
			return emit(latest)
		})
	})
}

// timerLoop runs s through a pump and one timer, armed only on demand: each value goes to hold, which keeps
// it and returns how long until flush should run (0: leave the timer as it is); when the timer fires, flush
// emits what is held (false: the consumer stopped, and the run ends). When s ends, what is held is flushed
// before the end (see end). It serves Debounce, Sample and BufferTime.
func timerLoop[T any](ctx context.Context, s stream.Stream[T], hold func(T) time.Duration, flush func() bool) error {
	p := startPump(ctx, s)
	defer p.stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case v, ok := <-p.ch:
			if !ok {
				return end(ctx, p.err, flush)
			}
			if arm := hold(v); arm > 0 {
				timer.Reset(arm)
			}
		case <-timer.C:
			if !flush() {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// untilNextPeriod returns the time left until the end of the current period of length d started at start.
func untilNextPeriod(start time.Time, d time.Duration) time.Duration {
	elapsed := time.Since(start)
	return d - elapsed%d
}

// BufferCount emits the values of s in slices of n, in order. When s ends, a partial slice is emitted before
// the end. Each emitted slice is new and belongs to the consumer.
func BufferCount[T any](s stream.Stream[T], n int) stream.Stream[[]T] {
	if n < 1 {
		badArg("BufferCount", "n", "count %d below 1", n)
	}
	return stream.Derive(s, func(ctx context.Context, emit func([]T) bool) error {
		var buf []T
		stopped := false
		err := s.Run(ctx, func(v T) bool {
			if buf == nil {
				buf = make([]T, 0, n)
			}
			buf = append(buf, v)
			if len(buf) < n {
				return true
			}
			out := buf
			buf = nil
			if !emit(out) {
				stopped = true
				return false
			}
			return true
		})
		if stopped {
			return nil
		}
		return end(ctx, err, func() bool { return len(buf) == 0 || emit(buf) })
	})
}

// BufferTime emits the values of s gathered during each period d (counted from the start of the run), as one
// slice per period; periods without values emit nothing. When s ends, the partial buffer is emitted before
// the end. Each emitted slice is new and belongs to the consumer. The timer is armed only while the buffer
// holds values.
func BufferTime[T any](s stream.Stream[T], d time.Duration) stream.Stream[[]T] {
	checkDuration("BufferTime", d)
	return stream.Derive(s, func(ctx context.Context, emit func([]T) bool) error {
		start := time.Now()
		var buf []T
		return timerLoop(ctx, s, func(v T) time.Duration {
			var arm time.Duration
			if len(buf) == 0 {
				arm = untilNextPeriod(start, d)
			}
			buf = append(buf, v)
			return arm
		}, func() bool {
			if len(buf) == 0 {
				return true
			}
			out := buf
			buf = nil
			return emit(out)
		})
	})
}

// Timeout fails with *TimeoutError (matching ErrTimeout) when s emits no value within d of the start of the
// run or of the previous value; s is then stopped. Time spent by the consumer handling a value does not count.
// It adds no goroutine while waiting (time.AfterFunc).
func Timeout[T any](s stream.Stream[T], d time.Duration) stream.Stream[T] {
	checkDuration("Timeout", d)
	timeoutErr := &TimeoutError{After: d}
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		sctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		t := time.AfterFunc(d, func() { cancel(timeoutErr) })
		defer t.Stop()
		err := s.Run(sctx, func(v T) bool {
			if !t.Stop() {
				return false // fired
			}
			if !emit(v) {
				return false
			}
			t.Reset(d)
			return true
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if cause := context.Cause(sctx); cause == timeoutErr {
			return timeoutErr
		}
		return err
	})
}
