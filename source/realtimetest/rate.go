package realtimetest

import "time"

// rateWindow is the emulator's version of the real server's rate counters
// (Realtime.RateCounter: a 60 s window sampled every 5 s, avg = events/60).
// It computes the average per second over the last window without the 5 s
// sampling delay, from counts per step of rateStep: events of the same step
// share one entry, stamped with the time of the last of them, so they leave
// the window together, at most one step late. A window thus holds at most
// window/rateStep+1 entries (601 of 32 bytes) whatever the event rate.
type rateWindow struct {
	window  time.Duration
	entries []rateEntry // oldest first
	total   int64
}

type rateEntry struct {
	at time.Time // the last event counted in this entry
	n  int64
}

// rateWindowSize is the averaging window of the real rate counters.
const rateWindowSize = 60 * time.Second

// rateStep is the resolution of a rateWindow: events in the same step of
// wall time are counted together.
const rateStep = 100 * time.Millisecond

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
	if k := len(r.entries); k > 0 && r.entries[k-1].at.Truncate(rateStep).Equal(now.Truncate(rateStep)) {
		last := &r.entries[k-1]
		last.n += n
		if now.After(last.at) {
			last.at = now
		}
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
