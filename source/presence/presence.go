package presence

import (
	"maps"
	"slices"
	"strings"
)

// Meta is one presence of a key: one client that tracked the key. Several
// clients (sockets) tracking the same key give several metas.
type Meta[M any] struct {
	// Ref is the server's phx_ref, unique per track.
	Ref string
	// RefPrev is phx_ref_prev: on an update, the Ref of the meta this one
	// replaces (the server sends that one as a leave in the same diff).
	RefPrev string
	// Value holds the user's fields, decoded from the same meta object.
	Value M
}

// RawMeta is a meta's JSON text, exactly as the server sent it: the M of a
// [Tracker] that keeps metas undecoded, for its users to decode later. It
// costs its text and little more: the Ref and RefPrev of such a meta are
// substrings of it when they have no escapes.
type RawMeta string

// State is the presence state of a channel: the metas of each key.
type State[M any] map[string][]Meta[M]

// Diff is a presence_diff: metas that joined and metas that left, by key.
type Diff[M any] struct {
	Joins  State[M]
	Leaves State[M]
}

// Kind says what an [Event] reports.
type Kind uint8

// The event kinds: realtime-js's names, and Update.
const (
	// Join: metas joined a key.
	Join Kind = iota + 1
	// Leave: metas left a key.
	Leave
	// Sync: the state changed, after the events of one message.
	Sync
	// Update: metas of a key were replaced by new ones, a client tracking
	// again with another meta (the server sends a join of the new meta,
	// whose phx_ref_prev names the old one, and a leave of the old one).
	Update
)

// String returns the name.
func (k Kind) String() string {
	switch k {
	case Join:
		return "join"
	case Leave:
		return "leave"
	case Sync:
		return "sync"
	case Update:
		return "update"
	}
	return "unknown"
}

// Event is a presence join, update, leave or sync, with phoenix.js's
// onJoin and onLeave arguments.
type Event[M any] struct {
	Kind Kind
	// Key is the presence key of a Join, Update or Leave; empty for Sync.
	Key string
	// Current is, for a Join or an Update, the key's metas before the
	// message (nil if the key is new); for a Leave, the metas that remain
	// (empty if the key is gone).
	Current []Meta[M]
	// Presences are the metas that joined (Join), left (Leave) or
	// replaced others (Update). A Leave lists the metas as the server sent
	// them, including refs that were not present.
	Presences []Meta[M]
	// Replaced is, for an Update, the metas its Presences replace, in the
	// same order: Presences[i].RefPrev is Replaced[i].Ref. Nil for other
	// kinds.
	Replaced []Meta[M]
}

// SyncState merges a full presence_state into state and returns the new
// state and the events, as phoenix.js's Presence.syncState: keys missing
// from newState leave; for keys in both, metas whose Ref is new join and
// metas whose Ref is gone leave; keys only in newState join. A key's new
// metas whose RefPrev names one of its metas that is gone are an Update
// (an update the client missed, say during a rejoin), not a join and a
// leave. state is not modified.
func SyncState[M any](state, newState State[M]) (State[M], []Event[M]) {
	var events []Event[M]
	next := syncState(maps.Clone(state), maps.Clone(newState), collect(&events))
	return next, events
}

// SyncDiff applies a presence_diff to state and returns the new state and
// the events, as phoenix.js's Presence.syncDiff: each joined key gets the
// diff's metas, after the current metas whose Ref is not among them; each
// left key loses the metas whose Ref left, and disappears when none remain.
// A joined meta whose RefPrev is the Ref of a meta of the same key leaving
// in the same diff (the server's update of a meta) is reported with it as
// an Update, not as a join and a leave: a key gets an Update, then a Join
// of its other joined metas, if any, and later a Leave of its other left
// metas, if any. All joins and updates come before all leaves. state is
// not modified.
func SyncDiff[M any](state State[M], diff Diff[M]) (State[M], []Event[M]) {
	var events []Event[M]
	next := make(State[M], len(state)+len(diff.Joins))
	maps.Copy(next, state) // slices are never modified in place, so sharing is safe
	syncDiff(next, diff, collect(&events))
	return next, events
}

// collect returns an emit function that appends copies of the events to
// *events.
func collect[M any](events *[]Event[M]) func(Event[M]) {
	return func(ev Event[M]) {
		ev.Current = slices.Clone(ev.Current)
		ev.Presences = slices.Clone(ev.Presences)
		ev.Replaced = slices.Clone(ev.Replaced)
		*events = append(*events, ev)
	}
}

// The sync functions below work in place: they change the map they are
// given (nil counts as empty for syncState, must not be nil for syncDiff)
// but never a slice of it, which they replace. The events they pass to emit
// share their slices with the state and with the input; so do the slices
// the state takes from newState and diff, which the caller must not change
// afterwards. They report the events SyncState and SyncDiff return, in the
// same order.

// leaving is a key's leave in syncState: the metas that leave and those
// that remain.
type leaving[M any] struct {
	key             string
	left, remaining []Meta[M]
}

// syncState merges newState into state and returns the result, which is
// newState itself when state is empty.
func syncState[M any](state, newState State[M], emit func(Event[M])) State[M] {
	if len(state) == 0 {
		// Every key joins (the first state of a channel).
		for _, key := range sortedKeys(newState) {
			metas := newState[key]
			newState[key] = nonNil(metas)
			emit(Event[M]{Kind: Join, Key: key, Presences: metas})
		}
		if newState == nil {
			newState = State[M]{}
		}
		return newState
	}
	var leaves []leaving[M]
	for key, cur := range state {
		if _, ok := newState[key]; !ok {
			leaves = append(leaves, leaving[M]{key, cur, []Meta[M]{}})
		}
	}
	// A key in both gets its final metas at once; SyncDiff's steps (the
	// joins, then the leaves) come to the same, and nobody sees the state
	// in between.
	for _, key := range sortedKeys(newState) {
		metas := newState[key]
		cur, existed := state[key]
		if !existed {
			state[key] = nonNil(metas)
			emit(Event[M]{Kind: Join, Key: key, Presences: metas})
			continue
		}
		joined, left, next := reconcile(cur, metas)
		state[key] = next
		upd, replaced, joined, left := updates(joined, left)
		if len(upd) > 0 {
			emit(Event[M]{Kind: Update, Key: key, Current: nonNil(cur), Presences: upd, Replaced: replaced})
		}
		if len(joined) > 0 {
			emit(Event[M]{Kind: Join, Key: key, Current: nonNil(cur), Presences: joined})
		}
		if len(left) > 0 {
			leaves = append(leaves, leaving[M]{key, left, nonNil(next)})
		}
	}
	slices.SortFunc(leaves, func(a, b leaving[M]) int { return strings.Compare(a.key, b.key) })
	for _, l := range leaves {
		emit(Event[M]{Kind: Leave, Key: l.key, Current: l.remaining, Presences: l.left})
		if len(l.remaining) == 0 {
			delete(state, l.key)
		} else {
			state[l.key] = l.remaining
		}
	}
	return state
}

// reconcile compares a key's metas cur with its metas in a new state:
// joined are the new metas whose Ref is not current, left the current ones
// whose Ref is not new, and next the key's metas afterwards, the current
// metas that stay and then joined. (SyncDiff would append joined to cur,
// then drop left: since no joined Ref is current and every left Ref is,
// that is the same list.) Each list of refs is put in a set at most once.
func reconcile[M any](cur, metas []Meta[M]) (joined, left, next []Meta[M]) {
	inCur, inNew := refTest(cur, len(metas)), refTest(metas, len(cur))
	joined = filter(metas, inCur, false)
	left = filter(cur, inNew, false)
	next = cur
	if len(left) > 0 {
		next = filter(cur, inNew, true)
	}
	switch {
	case len(joined) == 0:
	case len(next) == 0:
		next = joined
	default:
		merged := make([]Meta[M], 0, len(next)+len(joined))
		next = append(append(merged, next...), joined...)
	}
	return joined, left, next
}

// syncDiff applies diff to state. A key's joined metas that replace metas
// leaving in the same diff are reported as an Update, in the key's join
// step; the key's leave step reports only the other metas that left.
func syncDiff[M any](state State[M], diff Diff[M], emit func(Event[M])) {
	var replacedOf map[string][]Meta[M] // keys with updates: the metas replaced
	for _, key := range sortedKeys(diff.Joins) {
		cur, existed := state[key]
		joined := diff.Joins[key]
		upd, replaced, rest, _ := updates(joined, diff.Leaves[key])
		var current []Meta[M]
		if existed {
			current = nonNil(cur)
		}
		if len(upd) > 0 {
			emit(Event[M]{Kind: Update, Key: key, Current: current, Presences: upd, Replaced: replaced})
			if replacedOf == nil {
				replacedOf = map[string][]Meta[M]{}
			}
			replacedOf[key] = replaced
		}
		join(state, key, cur, joined)
		if len(upd) == 0 || len(rest) > 0 {
			emit(Event[M]{Kind: Join, Key: key, Current: current, Presences: rest})
		}
	}
	for _, key := range sortedKeys(diff.Leaves) {
		left := diff.Leaves[key]
		replaced, updated := replacedOf[key]
		reported := left
		if updated {
			reported = without(left, replaced)
		}
		leave(state, key, left, reported, !updated || len(reported) > 0, emit)
	}
}

// join gives key the metas joined, after its current metas cur whose Ref is
// not among them.
func join[M any](state State[M], key string, cur, joined []Meta[M]) {
	if kept := without(cur, joined); len(kept) == 0 {
		state[key] = nonNil(joined)
	} else {
		merged := make([]Meta[M], 0, len(kept)+len(joined))
		state[key] = append(append(merged, kept...), joined...)
	}
}

// leave takes the metas whose Ref is in left from key, and the key away
// when none remain, and reports the metas of reported as a Leave if report
// is set.
func leave[M any](state State[M], key string, left, reported []Meta[M], report bool, emit func(Event[M])) {
	cur, ok := state[key]
	if !ok {
		return
	}
	remaining := nonNil(without(cur, left))
	if report {
		emit(Event[M]{Kind: Leave, Key: key, Current: remaining, Presences: reported})
	}
	if len(remaining) == 0 {
		delete(state, key)
	} else {
		state[key] = remaining
	}
}

// updates splits a key's joined and left metas of one message: upd are the
// joined metas whose RefPrev is the Ref of a left meta (each left Ref taken
// once, by the first joined meta that names it) and whose own Ref does not
// leave; replaced are the left metas they name, in the same order; joined
// and left come back without them (new slices, nil when none remain), or
// as they were when there is no update.
func updates[M any](joined, left []Meta[M]) (upd, replaced, joinedRest, leftRest []Meta[M]) {
	if len(left) == 0 || !anyRefPrev(joined) {
		return nil, nil, joined, left
	}
	find := refIndex(left, len(joined))
	var taken map[string]struct{}
	var paired []bool
	for i, m := range joined {
		if m.RefPrev == "" {
			continue
		}
		at, ok := find(m.RefPrev)
		if !ok {
			continue
		}
		if _, own := find(m.Ref); own {
			continue
		}
		if _, done := taken[m.RefPrev]; done {
			continue
		}
		if taken == nil {
			taken = map[string]struct{}{}
			paired = make([]bool, len(joined))
		}
		taken[m.RefPrev] = struct{}{}
		paired[i] = true
		upd = append(upd, m)
		replaced = append(replaced, left[at])
	}
	if upd == nil {
		return nil, nil, joined, left
	}
	for i, m := range joined {
		if !paired[i] {
			joinedRest = append(joinedRest, m)
		}
	}
	return upd, replaced, joinedRest, filter(left, refTest(replaced, len(left)), false)
}

// refIndex returns a lookup of the first meta of metas with a ref, to be
// asked about n refs: a scan while n*len(metas) is at most smallRefs, a map
// past it.
func refIndex[M any](metas []Meta[M], n int) func(ref string) (int, bool) {
	if n*len(metas) <= smallRefs {
		return func(ref string) (int, bool) {
			i := slices.IndexFunc(metas, func(m Meta[M]) bool { return m.Ref == ref })
			return i, i >= 0
		}
	}
	index := make(map[string]int, len(metas))
	for i := len(metas) - 1; i >= 0; i-- {
		index[metas[i].Ref] = i
	}
	return func(ref string) (int, bool) { i, ok := index[ref]; return i, ok }
}

// anyRefPrev reports whether a meta of metas carries a RefPrev.
func anyRefPrev[M any](metas []Meta[M]) bool {
	for _, m := range metas {
		if m.RefPrev != "" {
			return true
		}
	}
	return false
}

// nonNil returns metas, or an empty slice for nil (which costs nothing).
func nonNil[M any](metas []Meta[M]) []Meta[M] {
	if metas == nil {
		return []Meta[M]{}
	}
	return metas
}

// smallRefs bounds len(a)*len(b) for which without compares refs pairwise;
// past it the refs of b go into a set, so that a key with many metas costs
// linear time, not quadratic.
const smallRefs = 64

// without returns the metas of a whose Ref is not in b: a itself when that
// is all of them (a is never modified, so sharing it is safe), otherwise a
// new slice (nil when none remain).
func without[M any](a, b []Meta[M]) []Meta[M] {
	if len(a) == 0 || len(b) == 0 {
		return a
	}
	return filter(a, refTest(b, len(a)), false)
}

// refTest returns a test of whether a ref is among the refs of metas, to
// be asked about n refs: a scan of metas while n*len(metas) is at most
// smallRefs, a set of the refs past it, so that a key with many metas
// costs linear time, not quadratic.
func refTest[M any](metas []Meta[M], n int) func(ref string) bool {
	if n*len(metas) <= smallRefs {
		return func(ref string) bool { return hasRef(metas, ref) }
	}
	set := make(map[string]struct{}, len(metas))
	for _, m := range metas {
		set[m.Ref] = struct{}{}
	}
	return func(ref string) bool { _, ok := set[ref]; return ok }
}

// filter returns the metas of a for which in(Ref) is keep: a itself when
// that is all of them, otherwise a new slice (nil when there are none).
func filter[M any](a []Meta[M], in func(string) bool, keep bool) []Meta[M] {
	n := 0
	for _, m := range a {
		if in(m.Ref) == keep {
			n++
		}
	}
	switch n {
	case len(a):
		return a
	case 0:
		return nil
	}
	out := make([]Meta[M], 0, n)
	for _, m := range a {
		if in(m.Ref) == keep {
			out = append(out, m)
		}
	}
	return out
}

func hasRef[M any](metas []Meta[M], ref string) bool {
	for _, m := range metas {
		if m.Ref == ref {
			return true
		}
	}
	return false
}

func sortedKeys[M any](s State[M]) []string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Clone returns a copy of s that shares nothing with it but the M values.
func (s State[M]) Clone() State[M] {
	if s == nil {
		return nil
	}
	out := make(State[M], len(s))
	for k, v := range s {
		out[k] = slices.Clone(v)
	}
	return out
}
