package operators_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/rxrealtime/rxrealtime/operators"
)

func TestStepBackoff(t *testing.T) {
	tests := []struct {
		b       operators.StepBackoff
		attempt int
		want    time.Duration
	}{
		{operators.RealtimeReconnect, 1, time.Second},
		{operators.RealtimeReconnect, 2, 2 * time.Second},
		{operators.RealtimeReconnect, 3, 5 * time.Second},
		{operators.RealtimeReconnect, 4, 10 * time.Second},
		{operators.RealtimeReconnect, 50, 10 * time.Second},
		{operators.RealtimeReconnect, 0, time.Second},
		{operators.RealtimeReconnect, -3, time.Second},
		{nil, 1, 0},
		{operators.StepBackoff{time.Millisecond}, 9, time.Millisecond},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.b.Next(tc.attempt), "%v attempt %d", tc.b, tc.attempt)
	}
}

func TestExponentialBackoff(t *testing.T) {
	half := func() float64 { return 0.5 }
	tests := []struct {
		name    string
		b       operators.ExponentialBackoff
		attempt int
		want    time.Duration
	}{
		{"no jitter 1", operators.ExponentialBackoff{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: operators.NoJitter}, 1, 100 * time.Millisecond},
		{"no jitter 3", operators.ExponentialBackoff{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: operators.NoJitter}, 3, 400 * time.Millisecond},
		{"capped", operators.ExponentialBackoff{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: operators.NoJitter}, 10, time.Second},
		{"huge attempt", operators.ExponentialBackoff{Initial: time.Second, Max: time.Minute, Jitter: operators.NoJitter}, 1 << 30, time.Minute},
		{"multiplier 3", operators.ExponentialBackoff{Initial: time.Second, Max: time.Hour, Multiplier: 3, Jitter: operators.NoJitter}, 3, 9 * time.Second},
		{"multiplier below 1", operators.ExponentialBackoff{Initial: time.Second, Multiplier: 0.5, Jitter: operators.NoJitter}, 5, time.Second},
		{"defaults", operators.ExponentialBackoff{Jitter: operators.NoJitter}, 2, 2 * operators.DefaultBackoffInitial},
		{"default max", operators.ExponentialBackoff{Jitter: operators.NoJitter}, 100, operators.DefaultBackoffMax},
		{"full jitter default", operators.ExponentialBackoff{Initial: time.Second, Max: time.Minute, Rand: half}, 2, time.Second},
		{"equal jitter", operators.ExponentialBackoff{Initial: time.Second, Max: time.Minute, Jitter: operators.EqualJitter, Rand: half}, 2, 1500 * time.Millisecond},
		{"rand out of range", operators.ExponentialBackoff{Initial: time.Second, Rand: func() float64 { return 7 }}, 1, time.Second},
		{"rand negative", operators.ExponentialBackoff{Initial: time.Second, Rand: func() float64 { return -1 }}, 1, 0},
		{"attempt 0", operators.ExponentialBackoff{Initial: time.Second, Jitter: operators.NoJitter}, 0, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.b.Next(tc.attempt))
		})
	}
	// Default Rand: full jitter stays in [0, d).
	b := operators.ExponentialBackoff{Initial: time.Second, Max: time.Second}
	for range 100 {
		d := b.Next(1)
		assert.GreaterOrEqual(t, d, time.Duration(0))
		assert.Less(t, d, time.Second)
	}
}

func TestBackoffFunc(t *testing.T) {
	f := operators.BackoffFunc(func(a int) time.Duration { return time.Duration(a) * time.Second })
	assert.Equal(t, 3*time.Second, f.Next(3))
}
