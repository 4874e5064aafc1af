package operators_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
)

type timedCase struct {
	name    string
	s       stream.Stream[int]
	want    []stamped[int]
	wantErr error
}

func runTimedCases(t *testing.T, cases []timedCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				got, err := collectTimed(t, tc.s)
				assert.Equal(t, tc.want, got)
				if tc.wantErr == nil {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, tc.wantErr)
				}
			})
		})
	}
}

func st(at time.Duration, v int) stamped[int] { return stamped[int]{at, v} }

func TestDebounce(t *testing.T) {
	burst := timed(at(0, 1), at(10*ms, 2), at(20*ms, 3), at(200*ms, 4), at(350*ms, 5), endAt[int](360*ms, nil))
	runTimedCases(t, []timedCase{
		{"quiet period", operators.Debounce(burst, 100*ms), []stamped[int]{st(120*ms, 3), st(300*ms, 4), st(360*ms, 5)}, nil},
		// rxgo drops the pending value on completion; ours emits it.
		{"flush on completion", operators.Debounce(timed(at(0, 1), at(10*ms, 2), endAt[int](20*ms, nil)), 100*ms),
			[]stamped[int]{st(20*ms, 2)}, nil},
		{"flush before error", operators.Debounce(timed(at(0, 1), endAt[int](20*ms, errBoom)), 100*ms),
			[]stamped[int]{st(20*ms, 1)}, errBoom},
		{"zero value is emitted", operators.Debounce(timed(at(0, 0)), 50*ms), []stamped[int]{st(0, 0)}, nil},
		{"idle then value", operators.Debounce(timed(at(time.Hour, 7), endAt[int](2*time.Hour, nil)), time.Second),
			[]stamped[int]{st(time.Hour+time.Second, 7)}, nil},
	})
}

// rxgo panics on a second Observe of a Debounce result; ours re-runs, also concurrently.
func TestDebounceReobserve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := operators.Debounce(timed(at(0, 1), at(10*ms, 2), endAt[int](500*ms, nil)), 100*ms)
		var a, b []int
		s1 := d.Subscribe(t.Context(), func(v int) { a = append(a, v) })
		s2 := d.Subscribe(t.Context(), func(v int) { b = append(b, v) })
		require.NoError(t, s1.Wait())
		require.NoError(t, s2.Wait())
		got, err := collect(t, d)
		require.NoError(t, err)
		assert.Equal(t, []int{2}, a)
		assert.Equal(t, []int{2}, b)
		assert.Equal(t, []int{2}, got)
	})
}

func TestThrottle(t *testing.T) {
	runTimedCases(t, []timedCase{
		{"leading edge", operators.Throttle(timed(at(0, 1), at(50*ms, 2), at(99*ms, 3), at(100*ms, 4), at(150*ms, 5), at(250*ms, 6)), 100*ms),
			[]stamped[int]{st(0, 1), st(100*ms, 4), st(250*ms, 6)}, nil},
		{"error", operators.Throttle(timed(at(0, 1), endAt[int](5*ms, errBoom)), 100*ms), []stamped[int]{st(0, 1)}, errBoom},
	})
}

func TestSample(t *testing.T) {
	runTimedCases(t, []timedCase{
		{"periods", operators.Sample(timed(at(10*ms, 1), at(20*ms, 2), at(150*ms, 3), at(450*ms, 4), endAt[int](1000*ms, nil)), 100*ms),
			[]stamped[int]{st(100*ms, 2), st(200*ms, 3), st(500*ms, 4)}, nil},
		{"flush on completion", operators.Sample(timed(at(10*ms, 1), at(120*ms, 2), endAt[int](130*ms, nil)), 100*ms),
			[]stamped[int]{st(100*ms, 1), st(130*ms, 2)}, nil},
		{"flush before error", operators.Sample(timed(at(10*ms, 1), endAt[int](30*ms, errBoom)), 100*ms),
			[]stamped[int]{st(30*ms, 1)}, errBoom},
	})
}

func TestBufferTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := timed(at(10*ms, 1), at(20*ms, 2), at(150*ms, 3), at(450*ms, 4), at(460*ms, 5), endAt[int](480*ms, nil))
		got, err := collectTimed(t, operators.BufferTime(src, 100*ms))
		require.NoError(t, err)
		assert.Equal(t, []stamped[[]int]{{100 * ms, []int{1, 2}}, {200 * ms, []int{3}}, {480 * ms, []int{4, 5}}}, got)

		got, err = collectTimed(t, operators.BufferTime(timed(at(10*ms, 1), endAt[int](20*ms, errBoom)), 100*ms))
		assert.ErrorIs(t, err, errBoom)
		assert.Equal(t, []stamped[[]int]{{20 * ms, []int{1}}}, got)
	})
}

func TestBufferCount(t *testing.T) {
	tests := []struct {
		name    string
		s       stream.Stream[[]int]
		want    [][]int
		wantErr error
	}{
		{"exact", operators.BufferCount(stream.Of(1, 2, 3, 4), 2), [][]int{{1, 2}, {3, 4}}, nil},
		{"partial on completion", operators.BufferCount(stream.Of(1, 2, 3), 2), [][]int{{1, 2}, {3}}, nil},
		{"partial before error", operators.BufferCount(then(errBoom, 1, 2, 3), 2), [][]int{{1, 2}, {3}}, errBoom},
		{"empty", operators.BufferCount(stream.Empty[int](), 2), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, tc.s)
			assert.Equal(t, tc.want, got)
			if tc.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantErr)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	runTimedCases(t, []timedCase{
		{"in time", operators.Timeout(timed(at(50*ms, 1), at(140*ms, 2)), 100*ms), []stamped[int]{st(50*ms, 1), st(140*ms, 2)}, nil},
		{"first value late", operators.Timeout(timed(at(150*ms, 1)), 100*ms), nil, operators.ErrTimeout},
		{"gap too long", operators.Timeout(timed(at(50*ms, 1), at(151*ms, 2)), 100*ms), []stamped[int]{st(50*ms, 1)}, operators.ErrTimeout},
		{"source error", operators.Timeout(timed(at(50*ms, 1), endAt[int](60*ms, errBoom)), 100*ms), []stamped[int]{st(50*ms, 1)}, errBoom},
	})
	synctest.Test(t, func(t *testing.T) {
		_, err := collect(t, operators.Timeout(timed(at(time.Second, 1)), 100*ms))
		var te *operators.TimeoutError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 100*ms, te.After)
		assert.Contains(t, te.Error(), "100ms")
		// Time spent by a slow consumer does not count.
		var got []int
		err = operators.Timeout(timed(at(10*ms, 1), at(20*ms, 2)), 50*ms).Run(t.Context(), func(v int) bool {
			time.Sleep(time.Second)
			got = append(got, v)
			return true
		})
		require.NoError(t, err)
		assert.Equal(t, []int{1, 2}, got)
	})
}

func TestTakeUntil(t *testing.T) {
	src := timed(at(10*ms, 1), at(20*ms, 2), at(30*ms, 3), at(40*ms, 4))
	runTimedCases(t, []timedCase{
		{"notifier fires", operators.TakeUntil(src, timed(at(25*ms, "stop"))), []stamped[int]{st(10*ms, 1), st(20*ms, 2)}, nil},
		{"notifier completes silently", operators.TakeUntil(src, timed(endAt[string](5*ms, nil))),
			[]stamped[int]{st(10*ms, 1), st(20*ms, 2), st(30*ms, 3), st(40*ms, 4)}, nil},
		{"notifier fails", operators.TakeUntil(src, timed(endAt[string](15*ms, errBoom))), []stamped[int]{st(10*ms, 1)}, errBoom},
		{"source fails", operators.TakeUntil(timed(at(10*ms, 1), endAt[int](12*ms, errBoom)), timed(at(time.Hour, 0))), []stamped[int]{st(10*ms, 1)}, errBoom},
	})
	synctest.Test(t, func(t *testing.T) {
		until, cancel := context.WithTimeout(t.Context(), 25*ms)
		defer cancel()
		got, err := collectTimed(t, operators.TakeUntilContext(src, until))
		require.NoError(t, err)
		assert.Equal(t, []stamped[int]{st(10*ms, 1), st(20*ms, 2)}, got)
	})
}

// Cancelling the consumer's context ends every time-based operator at once, with no goroutine left (goleak in
// TestMain) and no flush.
func TestTimeOperatorsCancel(t *testing.T) {
	ops := map[string]func(stream.Stream[int]) stream.Stream[int]{
		"Debounce": func(s stream.Stream[int]) stream.Stream[int] { return operators.Debounce(s, time.Hour) },
		"Sample":   func(s stream.Stream[int]) stream.Stream[int] { return operators.Sample(s, time.Hour) },
		"Throttle": func(s stream.Stream[int]) stream.Stream[int] { return operators.Throttle(s, time.Hour) },
		"Timeout":  func(s stream.Stream[int]) stream.Stream[int] { return operators.Timeout(s, time.Hour) },
		"TakeUntil": func(s stream.Stream[int]) stream.Stream[int] {
			return operators.TakeUntil(s, timed(at(2*time.Hour, 0)))
		},
		"BufferTime": func(s stream.Stream[int]) stream.Stream[int] {
			return operators.Map(operators.BufferTime(s, time.Hour), func(b []int) int { return len(b) })
		},
		"Retry": func(s stream.Stream[int]) stream.Stream[int] {
			return operators.RetryWithBackoff(s, operators.RealtimeReconnect)
		},
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := stream.NewHub[int]()
				ctx, cancel := context.WithCancel(t.Context())
				var got []int
				sub := op(h.Stream()).Subscribe(ctx, func(v int) { got = append(got, v) })
				synctest.Wait()
				h.Emit(1)
				h.Emit(2)
				time.Sleep(time.Minute)
				cancel()
				require.NoError(t, sub.Wait())
				if name == "Throttle" || name == "Timeout" || name == "TakeUntil" || name == "Retry" {
					assert.NotEmpty(t, got)
				} else {
					assert.Empty(t, got, "held values are discarded on cancel")
				}
				assert.Equal(t, 0, h.Consumers())
			})
		})
	}
}
