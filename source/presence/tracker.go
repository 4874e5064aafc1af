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
// current join ref. It returns the join, update and leave events, then a
// Sync event. A payload that cannot be decoded changes nothing and returns
// a [*DecodeError].
func (t *Tracker[M]) HandleState(joinRef string, payload []byte) ([]Event[M], error) {
	var events []Event[M]
	if err := t.HandleStateFunc(joinRef, payload, collect(&events)); err != nil {
		return nil, err
	}
	return events, nil
}

// HandleDiff applies or holds a presence_diff payload. joinRef is the
// channel's current join ref (diffs carry none on the wire). It returns
// the join, update and leave events, then a Sync event, or no events if
// the diff is held. A payload that cannot be decoded changes nothing and
// returns a [*DecodeError].
func (t *Tracker[M]) HandleDiff(joinRef string, payload []byte) ([]Event[M], error) {
	var events []Event[M]
	if err := t.HandleDiffFunc(joinRef, payload, collect(&events)); err != nil {
		return nil, err
	}
	return events, nil
}

// HandleStateFunc is [Tracker.HandleState] for a caller that passes the
// events on rather than keeping them: it calls emit with each event, in
// order, instead of returning copies, so that a wide state costs no more
// than the state itself. The events' slices are shared with the tracker's
// state: the tracker never modifies them (it replaces them), and neither
// may emit nor anyone it hands them to. emit runs with the tracker locked
// and must not call the tracker.
func (t *Tracker[M]) HandleStateFunc(joinRef string, payload []byte, emit func(Event[M])) error {
	newState, err := DecodeState[M](payload)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.applyState(joinRef, newState, emit)
	return nil
}

// HandleDiffFunc is [Tracker.HandleDiff] for a caller that passes the
// events on: it calls emit with each event, in order, as
// [Tracker.HandleStateFunc] does, and not at all for a diff it holds.
func (t *Tracker[M]) HandleDiffFunc(joinRef string, payload []byte, emit func(Event[M])) error {
	diff, err := DecodeDiff[M](payload)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.applyDiff(joinRef, diff, emit)
}

// ApplyState is [Tracker.HandleState] for a decoded state. The tracker
// keeps a copy of newState.
func (t *Tracker[M]) ApplyState(joinRef string, newState State[M]) []Event[M] {
	var events []Event[M]
	t.mu.Lock()
	defer t.mu.Unlock()
	t.applyState(joinRef, newState.Clone(), collect(&events))
	return events
}

// ApplyDiff is [Tracker.HandleDiff] for a decoded diff. The tracker keeps
// a copy of diff.
func (t *Tracker[M]) ApplyDiff(joinRef string, diff Diff[M]) ([]Event[M], error) {
	var events []Event[M]
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.applyDiff(joinRef, Diff[M]{Joins: diff.Joins.Clone(), Leaves: diff.Leaves.Clone()}, collect(&events)); err != nil {
		return nil, err
	}
	return events, nil
}

// applyState merges newState, which the tracker takes over, into the
// state in place, then applies the held diffs; t.mu is held.
func (t *Tracker[M]) applyState(joinRef string, newState State[M], emit func(Event[M])) {
	t.joinRef = joinRef
	t.state = syncState(t.state, newState, emit)
	for _, d := range t.pending {
		syncDiff(t.state, d, emit)
	}
	t.pending = nil
	emit(Event[M]{Kind: Sync})
}

// applyDiff applies diff, which the tracker takes over, in place, or holds
// it; t.mu is held.
func (t *Tracker[M]) applyDiff(joinRef string, diff Diff[M], emit func(Event[M])) error {
	if t.pendingSync(joinRef) {
		if len(t.pending) >= MaxPendingDiffs {
			return ErrTooManyPending
		}
		t.pending = append(t.pending, diff)
		return nil
	}
	syncDiff(t.state, diff, emit)
	emit(Event[M]{Kind: Sync})
	return nil
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
