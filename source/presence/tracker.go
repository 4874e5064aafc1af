package presence

import (
	"sync"
)

// MaxPendingDiffs bounds the diffs a [Tracker] holds while it waits for a
// presence_state (phoenix.js holds any number).
const MaxPendingDiffs = 10000

// Tracker keeps the presence state of one channel from its presence_state
// and presence_diff messages, given in arrival order, as phoenix.js's
// Presence object does:
//
//   - a state records the channel's join ref, merges the state with
//     [SyncState], applies the diffs held meanwhile with [SyncDiff], and
//     reports a Sync;
//   - a diff is held while no state has arrived, or while the channel's
//     current join ref differs from the one of the last state (a rejoin
//     whose state has not come yet); otherwise it is applied and a Sync is
//     reported.
//
// The zero Tracker is ready to use. A Tracker is safe for concurrent use.
type Tracker[M any] struct {
	mu      sync.Mutex
	state   State[M]
	joinRef string
	pending []Diff[M]
}

// HandleState applies a presence_state payload. joinRef is the channel's
// current join ref. It returns the join and leave events, then a Sync
// event. A payload that cannot be decoded changes nothing and returns a
// [*DecodeError].
func (t *Tracker[M]) HandleState(joinRef string, payload []byte) ([]Event[M], error) {
	newState, err := DecodeState[M](payload)
	if err != nil {
		return nil, err
	}
	return t.ApplyState(joinRef, newState), nil
}

// HandleDiff applies or holds a presence_diff payload. joinRef is the
// channel's current join ref (diffs carry none on the wire). It returns
// the join and leave events, then a Sync event, or no events if the diff is
// held. A payload that cannot be decoded changes nothing and returns a
// [*DecodeError].
func (t *Tracker[M]) HandleDiff(joinRef string, payload []byte) ([]Event[M], error) {
	diff, err := DecodeDiff[M](payload)
	if err != nil {
		return nil, err
	}
	return t.ApplyDiff(joinRef, diff)
}

// ApplyState is [Tracker.HandleState] for a decoded state.
func (t *Tracker[M]) ApplyState(joinRef string, newState State[M]) []Event[M] {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.joinRef = joinRef
	state, events := SyncState(t.state, newState)
	for _, d := range t.pending {
		var more []Event[M]
		state, more = SyncDiff(state, d)
		events = append(events, more...)
	}
	t.pending = nil
	t.state = state
	return append(events, Event[M]{Kind: Sync})
}

// ApplyDiff is [Tracker.HandleDiff] for a decoded diff.
func (t *Tracker[M]) ApplyDiff(joinRef string, diff Diff[M]) ([]Event[M], error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pendingSync(joinRef) {
		if len(t.pending) >= MaxPendingDiffs {
			return nil, ErrTooManyPending
		}
		t.pending = append(t.pending, diff)
		return nil, nil
	}
	state, events := SyncDiff(t.state, diff)
	t.state = state
	return append(events, Event[M]{Kind: Sync}), nil
}

// InPendingSync reports whether a diff arriving now, with the channel at
// joinRef, would be held: no state has arrived, or the last one came for
// another join.
func (t *Tracker[M]) InPendingSync(joinRef string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pendingSync(joinRef)
}

func (t *Tracker[M]) pendingSync(joinRef string) bool {
	return t.joinRef == "" || t.joinRef != joinRef
}

// State returns a copy of the current state.
func (t *Tracker[M]) State() State[M] {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.state.Clone()
	if out == nil {
		out = State[M]{}
	}
	return out
}

// Pending returns how many diffs wait for a presence_state.
func (t *Tracker[M]) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}
