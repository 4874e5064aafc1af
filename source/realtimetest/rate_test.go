package realtimetest

import (
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxRateEntries is what a rate window may hold whatever the event rate:
// one entry per 100 ms of the minute, plus the current one.
const maxRateEntries = 601

// TestRateWindowStaysBoundedUnderASoak feeds a window 1,000 events a second
// for four minutes of fake time. It must keep what the average needs (a
// few hundred counts), not every event of the last minute.
func TestRateWindowStaysBoundedUnderASoak(t *testing.T) {
	r := newRateWindow()
	t0 := time.Unix(1000, 0)
	now := t0
	for i := range 4 * 60 * 1000 {
		now = t0.Add(time.Duration(i) * time.Millisecond)
		r.add(now, 1)
		if len(r.entries) > maxRateEntries {
			require.LessOrEqual(t, len(r.entries), maxRateEntries, "entries held after %v of events", now.Sub(t0))
		}
	}
	held := uintptr(cap(r.entries)) * unsafe.Sizeof(rateEntry{})
	assert.LessOrEqual(t, held, uintptr(2*maxRateEntries)*unsafe.Sizeof(rateEntry{}), "bytes held")
	// Still the average of the last minute: 60,000 events, to within the
	// 100 ms step.
	assert.InDelta(t, 1000.0, r.avg(now), 100.0/60)
	assert.InDelta(t, 0.0, r.avg(now.Add(rateWindowSize+100*time.Millisecond)), 1e-9)
}

// TestServerRateWindowsStayBounded counts events through the server (each
// database broadcast is one) as fast as it can take them: the window it
// keeps them in stays within its bound.
func TestServerRateWindowsStayBounded(t *testing.T) {
	s := newServer(t, WithMaxEventsPerSecond(1<<30))
	for range 20_000 {
		_, err := s.EmitBroadcast(DBBroadcast{Topic: "room", Event: "e", Payload: []byte(`{}`)})
		require.NoError(t, err)
	}
	s.mu.Lock()
	n, total := len(s.events.entries), s.events.total
	s.mu.Unlock()
	assert.Equal(t, int64(20_000), total, "every event counted")
	assert.LessOrEqual(t, n, maxRateEntries, "entries held")
}
