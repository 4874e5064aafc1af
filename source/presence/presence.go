package presence

import "slices"

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

// State is the presence state of a channel: the metas of each key.
type State[M any] map[string][]Meta[M]

// Diff is a presence_diff: metas that joined and metas that left, by key.
type Diff[M any] struct {
	Joins  State[M]
	Leaves State[M]
}

// Kind says what an [Event] reports.
type Kind uint8

// The event kinds, as realtime-js names them.
const (
	// Join: metas joined a key.
	Join Kind = iota + 1
	// Leave: metas left a key.
	Leave
	// Sync: the state changed, after the joins and leaves of one message.
	Sync
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
	}
	return "unknown"
}

// Event is a presence join, leave or sync, with phoenix.js's onJoin and
// onLeave arguments.
type Event[M any] struct {
	Kind Kind
	// Key is the presence key of a Join or Leave; empty for Sync.
	Key string
	// Current is, for a Join, the key's metas before the join (nil if the
	// key is new); for a Leave, the metas that remain (empty if the key is
	// gone).
	Current []Meta[M]
	// Presences are the metas that joined (Join) or left (Leave). A Leave
	// lists the metas as the server sent them, including refs that were not
	// present.
	Presences []Meta[M]
}

// SyncState merges a full presence_state into state and returns the new
// state and the join and leave events, as phoenix.js's Presence.syncState:
// keys missing from newState leave; for keys in both, metas whose Ref is new
// join and metas whose Ref is gone leave; keys only in newState join. state
// is not modified.
func SyncState[M any](state, newState State[M]) (State[M], []Event[M]) {
	joins := State[M]{}
	leaves := State[M]{}
	for key, cur := range state {
		if _, ok := newState[key]; !ok {
			leaves[key] = cur
		}
	}
	for key, metas := range newState {
		cur, ok := state[key]
		if !ok {
			joins[key] = metas
			continue
		}
		if joined := without(metas, cur); len(joined) > 0 {
			joins[key] = joined
		}
		if left := without(cur, metas); len(left) > 0 {
			leaves[key] = left
		}
	}
	return SyncDiff(state, Diff[M]{Joins: joins, Leaves: leaves})
}

// SyncDiff applies a presence_diff to state and returns the new state and
// the events, as phoenix.js's Presence.syncDiff: each joined key gets the
// diff's metas, after the current metas whose Ref is not among them; each
// left key loses the metas whose Ref left, and disappears when none remain.
// All joins come before all leaves. state is not modified.
func SyncDiff[M any](state State[M], diff Diff[M]) (State[M], []Event[M]) {
	next := make(State[M], len(state)+len(diff.Joins))
	for k, v := range state {
		next[k] = v // slices are never modified in place, so sharing is safe
	}
	var events []Event[M]
	for _, key := range sortedKeys(diff.Joins) {
		joined := diff.Joins[key]
		cur, existed := next[key]
		merged := without(cur, joined)
		merged = append(merged, joined...)
		next[key] = merged
		ev := Event[M]{Kind: Join, Key: key, Presences: slices.Clone(joined)}
		if existed {
			ev.Current = slices.Clone(cur)
			if ev.Current == nil {
				ev.Current = []Meta[M]{}
			}
		}
		events = append(events, ev)
	}
	for _, key := range sortedKeys(diff.Leaves) {
		cur, ok := next[key]
		if !ok {
			continue
		}
		left := diff.Leaves[key]
		remaining := without(cur, left)
		events = append(events, Event[M]{Kind: Leave, Key: key, Current: slices.Clone(remaining), Presences: slices.Clone(left)})
		if len(remaining) == 0 {
			delete(next, key)
		} else {
			next[key] = remaining
		}
	}
	return next, events
}

// without returns a new slice of the metas of a whose Ref is not in b.
func without[M any](a, b []Meta[M]) []Meta[M] {
	out := make([]Meta[M], 0, len(a))
	for _, m := range a {
		if !hasRef(b, m.Ref) {
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
