package operators

import (
	"math"
	"math/rand/v2"
	"time"
)

// Backoff gives the delay before retry number attempt (attempt starts at 1 after the first failure and grows
// by one for each consecutive failure; it goes back to 1 after a healthy run, see MarkHealthy and ResetAfter).
type Backoff interface {
	Next(attempt int) time.Duration
}

// BackoffFunc adapts a function to Backoff.
type BackoffFunc func(attempt int) time.Duration

// Next returns f(attempt).
func (f BackoffFunc) Next(attempt int) time.Duration { return f(attempt) }

// StepBackoff is a fixed schedule: attempt n waits s[n-1], and every attempt past the end waits the last
// step. An empty StepBackoff waits nothing.
type StepBackoff []time.Duration

// Next returns the step for attempt.
func (s StepBackoff) Next(attempt int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := min(max(attempt, 1)-1, len(s)-1)
	return s[i]
}

// The default backoffs, in one place. There are two, both spanning realtime-js's 1 s to 10 s:
//
//   - RealtimeReconnect, the fixed schedule of realtime-js (its reconnect and phoenix.js's rejoin timers):
//     1 s, 2 s, 5 s, then 10 s. source uses it for channel rejoins (source.DefaultRejoinBackoff), where one
//     client retries alone.
//   - the zero ExponentialBackoff: 1 s doubling up to 10 s (DefaultBackoffInitial, DefaultBackoffMultiplier,
//     DefaultBackoffMax) with FullJitter. source uses it for socket reconnects (source.DefaultReconnectBackoff),
//     where the jitter keeps clients dropped together by a server restart from coming back together.

// RealtimeReconnect is the reconnect schedule of the official realtime-js client: 1 s, 2 s, 5 s, then 10 s
// for every later attempt.
var RealtimeReconnect = StepBackoff{1 * time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second}

// JitterMode selects how ExponentialBackoff randomizes its delays.
type JitterMode uint8

const (
	// FullJitter waits a uniform random time in [0, d) (the zero value and default): it spreads the reconnects
	// of many clients best.
	FullJitter JitterMode = iota
	// EqualJitter waits d/2 plus a uniform random time in [0, d/2).
	EqualJitter
	// NoJitter waits exactly d.
	NoJitter
)

// Defaults of ExponentialBackoff fields left at zero: the range of RealtimeReconnect, so that the zero
// ExponentialBackoff is its jittered counterpart.
const (
	DefaultBackoffInitial    = 1 * time.Second
	DefaultBackoffMax        = 10 * time.Second
	DefaultBackoffMultiplier = 2.0
)

// ExponentialBackoff waits d = min(Max, Initial × Multiplier^(attempt-1)), randomized by Jitter.
// Zero fields take DefaultBackoffInitial, DefaultBackoffMax, DefaultBackoffMultiplier, FullJitter; a
// Multiplier below 1 is treated as 1. Rand returns a float in [0, 1) and is injectable for tests (default
// math/rand/v2.Float64). ExponentialBackoff has no state: the same value may be shared by many retries.
type ExponentialBackoff struct {
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	Jitter     JitterMode
	Rand       func() float64
}

// Next returns the delay for attempt.
func (e ExponentialBackoff) Next(attempt int) time.Duration {
	initial, maxD, mult := e.Initial, e.Max, e.Multiplier
	if initial <= 0 {
		initial = DefaultBackoffInitial
	}
	if maxD <= 0 {
		maxD = DefaultBackoffMax
	}
	if mult == 0 {
		mult = DefaultBackoffMultiplier
	}
	if mult < 1 || math.IsNaN(mult) {
		mult = 1
	}
	attempt = max(attempt, 1)
	d := float64(initial) * math.Pow(mult, float64(attempt-1))
	if d > float64(maxD) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(maxD)
	}
	r := rand.Float64
	if e.Rand != nil {
		r = e.Rand
	}
	switch e.Jitter {
	case NoJitter:
	case EqualJitter:
		d = d/2 + clamp01(r())*d/2
	default:
		d *= clamp01(r())
	}
	return time.Duration(d)
}

func clamp01(f float64) float64 {
	if f < 0 || math.IsNaN(f) {
		return 0
	}
	if f > 1 {
		return 1
	}
	return f
}
