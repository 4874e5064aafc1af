package source

import (
	"bytes"
	"encoding/json"
	"hash/maphash"
	"sync"
	"time"
)

// The memory of a gap-free channel (WithGapFreeBroadcasts, channel_gapfree.go): what it delivered, and
// what its current rejoin's replay brought.

const (
	// DefaultGapFreeMargin is how far before the last delivered broadcast
	// a gap-free rejoin asks the replay to start (see WithGapFreeMargin).
	DefaultGapFreeMargin = 10 * time.Second
	// gapReplayLimit is the most the server replays per join
	// (Realtime.Messages @hard_limit).
	gapReplayLimit = 25
	// gapMemory bounds the ids (and id-less fingerprints) a channel keeps.
	// A replay returns the latest ≤ 25 stored messages, so the duplicates
	// it may carry are among the most recently delivered ones.
	gapMemory = 256
)

// gapState is a gap-free channel's memory. It has its own lock: the
// reader goroutine filters broadcasts under it, joins read it.
type gapState struct {
	mu sync.Mutex
	// joined: a join succeeded, so rejoins ask for a gap replay.
	joined bool
	// mark is the local time of the last delivered broadcast (or of the
	// first successful join): everything stored before mark - margin was
	// delivered or reported lost.
	mark  time.Time
	ids   ring[string]
	idSet map[string]struct{}
	fps   ring[fingerprint]

	// The current join's gap replay: which join asked, since when, and
	// what came back.
	joinRef    string
	since      time.Time
	replayed   int
	firstKnown bool
	firstID    string
}

type fingerprint struct {
	sum  uint64
	at   time.Time
	used bool
}

// ring is a fixed-size ring buffer.
type ring[T any] struct {
	buf  []T
	next int
}

// push adds v and returns the value it evicted, if any.
func (r *ring[T]) push(v T) (old T, evicted bool) {
	if len(r.buf) < gapMemory {
		r.buf = append(r.buf, v)
		return old, false
	}
	old, r.buf[r.next] = r.buf[r.next], v
	r.next = (r.next + 1) % gapMemory
	return old, true
}

var gapSeed = maphash.MakeSeed()

// filter decides whether a broadcast is new, remembers it, and counts the
// gap replay; it returns the gap to report, if this message completed a
// full replay of new messages. topic and margin are the channel's; id and
// replayed come from the broadcast's meta.
func (g *gapState) filter(topic string, margin time.Duration, event string, payload []byte, binary bool, id string, replayed bool, now time.Time) (bool, *GapError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	deliver := true
	switch {
	case id != "" && g.hasID(id):
		deliver = false
	case id != "" && replayed && g.takeFingerprint(event, payload, binary, g.since.Add(-margin)):
		// Delivered live without an id: remember the id from now on.
		g.addID(id)
		deliver = false
	case id != "":
		g.addID(id)
	default:
		g.fps.push(fingerprint{sum: fingerprintOf(event, payload, binary), at: now})
	}
	var gapErr *GapError
	if replayed && g.joinRef != "" { // a message of this join's gap replay (stale joins are filtered before)
		g.replayed++
		if g.replayed == 1 {
			g.firstKnown, g.firstID = !deliver, id
		}
		if g.replayed == gapReplayLimit && !g.firstKnown {
			gapErr = &GapError{Topic: topic, Since: g.since, Limit: gapReplayLimit, OldestID: g.firstID}
		}
	}
	if deliver {
		g.mark = now
	}
	return deliver, gapErr
}

func (g *gapState) hasID(id string) bool {
	_, ok := g.idSet[id]
	return ok
}

func (g *gapState) addID(id string) {
	if g.idSet == nil {
		g.idSet = make(map[string]struct{}, gapMemory)
	}
	if old, evicted := g.ids.push(id); evicted {
		delete(g.idSet, old)
	}
	g.idSet[id] = struct{}{}
}

// takeFingerprint consumes the oldest unused fingerprint of an id-less
// live delivery equal to this message's, received recently enough to be
// in the replay's window (at or after from).
func (g *gapState) takeFingerprint(event string, payload []byte, binary bool, from time.Time) bool {
	if len(g.fps.buf) == 0 {
		return false
	}
	sum := fingerprintOf(event, payload, binary)
	n := len(g.fps.buf)
	for i := range n {
		f := &g.fps.buf[(g.fps.next+i)%n] // oldest first
		if !f.used && f.sum == sum && !f.at.Before(from) {
			f.used = true
			return true
		}
	}
	return false
}

// fingerprintOf hashes a broadcast's event and payload; a JSON payload is
// canonicalised first (the database stores it as jsonb, which reorders
// keys and drops whitespace).
func fingerprintOf(event string, payload []byte, binary bool) uint64 {
	var h maphash.Hash
	h.SetSeed(gapSeed)
	h.WriteString(event)
	h.WriteByte(0)
	if binary {
		h.WriteByte(1)
		h.Write(payload)
		return h.Sum64()
	}
	h.WriteByte(2)
	h.Write(canonicalJSON(payload))
	return h.Sum64()
}

// canonicalJSON re-encodes JSON with sorted keys and no whitespace,
// numbers kept as written; invalid JSON is returned as is. b is a payload
// from splitBroadcast, whose walk bounded its nesting.
func canonicalJSON(b []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return b
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b
	}
	return out
}
