package realtimetest

import "time"

// rateWindow is the emulator's version of the real server's rate counters
// (Realtime.RateCounter: a 60 s window sampled every 5 s, avg = events/60).
// It keeps the event times of the last window and computes the average per
// second over it, without the 5 s sampling delay.
type rateWindow struct {
	window  time.Duration
	entries []rateEntry
	total   int64
}

type rateEntry struct {
	at time.Time
	n  int64
}

// rateWindowSize is the averaging window of the real rate counters.
const rateWindowSize = 60 * time.Second

func newRateWindow() *rateWindow { return &rateWindow{window: rateWindowSize} }

func (r *rateWindow) prune(now time.Time) {
	cut := now.Add(-r.window)
	i := 0
	for i < len(r.entries) && !r.entries[i].at.After(cut) {
		r.total -= r.entries[i].n
		i++
	}
	if i > 0 {
		r.entries = append(r.entries[:0], r.entries[i:]...)
	}
}

// add records n events at now.
func (r *rateWindow) add(now time.Time, n int64) {
	r.prune(now)
	if k := len(r.entries); k > 0 && r.entries[k-1].at.Equal(now) {
		r.entries[k-1].n += n
	} else {
		r.entries = append(r.entries, rateEntry{at: now, n: n})
	}
	r.total += n
}

// avg returns the average events per second over the window ending at now.
func (r *rateWindow) avg(now time.Time) float64 {
	r.prune(now)
	return float64(r.total) / r.window.Seconds()
}

// reset forgets every event.
func (r *rateWindow) reset() {
	r.entries = r.entries[:0]
	r.total = 0
}
