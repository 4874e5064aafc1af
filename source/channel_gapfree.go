package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Gap-free broadcasts (WithGapFreeBroadcasts): on every rejoin the channel
// asks the server to replay the stored broadcasts since the last one it
// delivered, drops what it already delivered, and reports when the replay
// may not have covered the whole outage.

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

// ErrBroadcastGap is matched (errors.Is) by every [*GapError].
var ErrBroadcastGap = errors.New("rxrealtime: broadcasts may have been lost across a rejoin")

// GapError reports that a gap-free channel's rejoin replay came back full
// (Limit messages, none of them already delivered), so broadcasts stored
// between Since and the oldest replayed one (OldestID) may be lost: the
// outage outlasted what one replay can fill. It is published on
// [Client.Errors], given to the error handler and logged at Warn. The
// channel carries on; a consumer that must not miss anything should
// resynchronise from its source of truth.
type GapError struct {
	Topic    string
	Since    time.Time // where the replay was asked to start
	Limit    int       // messages replayed, all new
	OldestID string    // id of the oldest message replayed
}

// Error implements error.
func (e *GapError) Error() string {
	return fmt.Sprintf("rxrealtime: channel %q: broadcasts may have been lost across a rejoin: the replay since %s returned %d new messages, the most the server replays",
		e.Topic, e.Since.UTC().Format(time.RFC3339Nano), e.Limit)
}

// Is makes errors.Is(err, ErrBroadcastGap) true.
func (e *GapError) Is(target error) bool { return target == ErrBroadcastGap }

// WithGapFreeBroadcasts makes the channel's broadcasts survive reconnects
// and rejoins, as far as the server stores them: on every rejoin it asks
// for a replay (broadcast.replay, up to 25 messages) since the last
// broadcast it delivered, minus a safety margin ([WithGapFreeMargin]) for
// clock skew between this host and the database; every broadcast it has
// already delivered is dropped, by message id (meta.id) or, for a
// persisted client broadcast that was delivered live without an id, by
// event and payload. So each stored broadcast is delivered once, in
// order. When a replay comes back full with nothing already delivered in
// it, the outage may have outlasted it: a [*GapError] is reported on
// [Client.Errors].
//
// It needs a private channel ([WithPrivate]): the server replays only
// those. Only stored broadcasts can be replayed: database broadcasts
// (realtime.send) and client or REST broadcasts sent with persist
// ([Persist]). The first join keeps [WithBroadcastReplay]'s since and
// limit if given, and replays nothing otherwise. Duplicates are dropped
// before any stream sees them, [Channel.Messages] included; replayed
// messages are marked [Broadcast.Replayed].
//
// A stored broadcast older than one already delivered but never delivered
// itself (left out by the first join's replay limit, say) is delivered
// when a rejoin's replay window reaches it, after newer ones.
//
// Two messages with the same event and payload, one delivered live
// without an id and the other stored while the channel was away, within
// the margin, are taken for one: give such messages distinct payloads
// (or send them as database broadcasts, which carry ids).
func WithGapFreeBroadcasts() ChannelOption { return func(c *channelConfig) { c.gapFree = true } }

// WithGapFreeMargin sets how far before the last delivered broadcast a
// gap-free rejoin's replay starts (default [DefaultGapFreeMargin]). The
// server compares it with the messages' inserted_at, the database's clock:
// the margin must exceed the skew between the clocks and the delivery
// latency. A larger one only replays more duplicates, which are dropped.
func WithGapFreeMargin(d time.Duration) ChannelOption {
	return func(c *channelConfig) { c.gapMargin = d }
}

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

// gapReplay is the replay the join that is going out asks for: the gap
// replay on a rejoin, the user's otherwise (nil: none). ref is that
// join's join_ref.
func (ch *Channel) gapReplay(ref string) *joinReplay {
	cfg := &ch.cfg
	var user *joinReplay
	if cfg.replay != nil {
		user = &joinReplay{Since: cfg.replay.sinceMillis(), Limit: cfg.replay.limit}
	}
	if !cfg.gapFree {
		return user
	}
	g := ch.gap
	g.mu.Lock()
	defer g.mu.Unlock()
	g.joinRef, g.replayed, g.firstKnown, g.firstID = "", 0, false, ""
	if !g.joined {
		return user
	}
	g.joinRef = ref
	g.since = g.mark.Add(-cfg.gapMargin)
	return &joinReplay{Since: g.since.UnixMilli(), Limit: gapReplayLimit}
}

// gapJoined records a successful join of a gap-free channel.
func (ch *Channel) gapJoined() {
	if !ch.cfg.gapFree {
		return
	}
	g := ch.gap
	g.mu.Lock()
	if !g.joined {
		g.joined = true
		if g.mark.IsZero() {
			g.mark = time.Now()
		}
	}
	g.mu.Unlock()
}

// gapFilter runs on the reader goroutine for every broadcast of a
// gap-free channel; it returns false for one already delivered.
func (ch *Channel) gapFilter(m *phoenix.Message) bool {
	event, payload, meta, binary, err := splitBroadcast(m)
	if err != nil {
		return true // the typed streams report it
	}
	var bm broadcastMeta
	if len(meta) > 0 {
		_ = json.Unmarshal(meta, &bm)
	}
	now := time.Now()
	deliver, gapErr := ch.gap.filter(ch, event, payload, binary, bm, now)
	if gapErr != nil {
		ch.ev.report(gapErr)
	}
	return deliver
}

// filter decides whether a broadcast is new, remembers it, and counts the
// gap replay; it returns the gap to report, if this message completed a
// full replay of new messages.
func (g *gapState) filter(ch *Channel, event string, payload []byte, binary bool, bm broadcastMeta, now time.Time) (bool, *GapError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	deliver := true
	switch {
	case bm.ID != "" && g.hasID(bm.ID):
		deliver = false
	case bm.ID != "" && bm.Replayed && g.takeFingerprint(event, payload, binary, g.since.Add(-ch.cfg.gapMargin)):
		// Delivered live without an id: remember the id from now on.
		g.addID(bm.ID)
		deliver = false
	case bm.ID != "":
		g.addID(bm.ID)
	default:
		g.fps.push(fingerprint{sum: fingerprintOf(event, payload, binary), at: now})
	}
	var gapErr *GapError
	if bm.Replayed && g.joinRef != "" { // a message of this join's gap replay (stale joins are filtered before)
		g.replayed++
		if g.replayed == 1 {
			g.firstKnown, g.firstID = !deliver, bm.ID
		}
		if g.replayed == gapReplayLimit && !g.firstKnown {
			gapErr = &GapError{Topic: ch.topic, Since: g.since, Limit: gapReplayLimit, OldestID: g.firstID}
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
