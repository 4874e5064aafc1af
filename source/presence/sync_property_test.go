package presence

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// refSyncState and refSyncDiff are SyncState and SyncDiff as they were
// written before they were rebuilt on the in-place functions: a new map,
// new slices for every key touched, events with copied slices. They are
// the model the rebuilt functions and the tracker must match exactly,
// down to nil and empty slices.
func refSyncState[M any](state, newState State[M]) (State[M], []Event[M]) {
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
		if joined := refWithout(metas, cur); len(joined) > 0 {
			joins[key] = joined
		}
		if left := refWithout(cur, metas); len(left) > 0 {
			leaves[key] = left
		}
	}
	return refSyncDiff(state, Diff[M]{Joins: joins, Leaves: leaves})
}

func refSyncDiff[M any](state State[M], diff Diff[M]) (State[M], []Event[M]) {
	next := make(State[M], len(state)+len(diff.Joins))
	for k, v := range state {
		next[k] = v
	}
	var events []Event[M]
	for _, key := range sortedKeys(diff.Joins) {
		joined := diff.Joins[key]
		cur, existed := next[key]
		merged := refWithout(cur, joined)
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
		remaining := refWithout(cur, left)
		events = append(events, Event[M]{Kind: Leave, Key: key, Current: slices.Clone(remaining), Presences: slices.Clone(left)})
		if len(remaining) == 0 {
			delete(next, key)
		} else {
			next[key] = remaining
		}
	}
	return next, events
}

func refWithout[M any](a, b []Meta[M]) []Meta[M] {
	out := make([]Meta[M], 0, len(a))
	for _, m := range a {
		if !hasRef(b, m.Ref) {
			out = append(out, m)
		}
	}
	return out
}

// drawMetas draws a key's metas: nil, empty, or a few metas whose refs come
// from a small set (so that they collide across states, and sometimes
// within one list, as a hostile server may send them), sometimes many
// (past smallRefs, where without switches to a set).
func drawMetas(t *rapid.T, label string) []Meta[meta] {
	switch rapid.IntRange(0, 9).Draw(t, label+" shape") {
	case 0:
		return nil
	case 1:
		return []Meta[meta]{}
	}
	n := rapid.IntRange(1, 4).Draw(t, label+" n")
	refs := 6
	if rapid.Bool().Draw(t, label+" many") {
		n = rapid.IntRange(9, 30).Draw(t, label+" n")
		refs = n + n/2
	}
	out := make([]Meta[meta], n)
	for i := range out {
		r := rapid.IntRange(0, refs-1).Draw(t, label+" ref")
		out[i] = Meta[meta]{Ref: fmt.Sprint("r", r), Value: meta{ID: rapid.IntRange(0, 3).Draw(t, label+" id")}}
	}
	return out
}

func drawState(t *rapid.T, label string) State[meta] {
	if rapid.IntRange(0, 9).Draw(t, label+" nil") == 0 {
		return nil
	}
	s := State[meta]{}
	for _, k := range []string{"a", "b", "c", "d"} {
		if rapid.Bool().Draw(t, label+" has "+k) {
			s[k] = drawMetas(t, label+" "+k)
		}
	}
	return s
}

// deepCopy copies a state down to its slices, keeping nil and empty apart.
func deepCopy(s State[meta]) State[meta] {
	if s == nil {
		return nil
	}
	out := make(State[meta], len(s))
	for k, v := range s {
		out[k] = slices.Clone(v)
	}
	return out
}

func copyEvents(evs []Event[meta]) []Event[meta] {
	if evs == nil {
		return nil
	}
	out := make([]Event[meta], len(evs))
	for i, e := range evs {
		out[i] = Event[meta]{Kind: e.Kind, Key: e.Key, Current: slices.Clone(e.Current), Presences: slices.Clone(e.Presences),
			Replaced: slices.Clone(e.Replaced)}
	}
	return out
}

// SyncState and SyncDiff, now built on the in-place functions, return what
// the model returns, down to nil and empty slices, and leave their inputs
// alone.
func TestPropertySyncMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		state, next := drawState(t, "state"), drawState(t, "new")
		diff := Diff[meta]{Joins: drawState(t, "joins"), Leaves: drawState(t, "leaves")}
		stateCopy, nextCopy := deepCopy(state), deepCopy(next)
		diffCopy := Diff[meta]{Joins: deepCopy(diff.Joins), Leaves: deepCopy(diff.Leaves)}

		gotState, gotEvents := SyncState(state, next)
		wantState, wantEvents := refSyncState(stateCopy, nextCopy)
		require.True(t, reflect.DeepEqual(wantState, gotState), "SyncState state\nwant %#v\ngot  %#v", wantState, gotState)
		require.True(t, reflect.DeepEqual(wantEvents, gotEvents), "SyncState events\nwant %#v\ngot  %#v", wantEvents, gotEvents)
		require.True(t, reflect.DeepEqual(stateCopy, state), "SyncState changed its state")
		require.True(t, reflect.DeepEqual(nextCopy, next), "SyncState changed its new state")

		gotState, gotEvents = SyncDiff(state, diff)
		wantState, wantEvents = refSyncDiff(stateCopy, diffCopy)
		require.True(t, reflect.DeepEqual(wantState, gotState), "SyncDiff state\nwant %#v\ngot  %#v", wantState, gotState)
		require.True(t, reflect.DeepEqual(wantEvents, gotEvents), "SyncDiff events\nwant %#v\ngot  %#v", wantEvents, gotEvents)
		require.True(t, reflect.DeepEqual(stateCopy, state), "SyncDiff changed its state")
		require.True(t, reflect.DeepEqual(diffCopy, diff), "SyncDiff changed its diff")
	})
}

// A tracker, which works in place, goes through the states and events of
// the model for any sequence of states and diffs. The events that
// HandleStateFunc and HandleDiffFunc pass on share the tracker's slices;
// they still hold what they held when they were emitted once everything
// else has been applied (the tracker never writes a slice it has handed
// out).
func TestPropertyTrackerMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var tr, shared Tracker[meta]
		var model State[meta]
		var modelPending []Diff[meta]
		modelRef := ""
		type emitted struct{ shared, copied []Event[meta] }
		var all []emitted
		steps := rapid.IntRange(1, 8).Draw(t, "steps")
		for i := range steps {
			joinRef := rapid.SampledFrom([]string{"1", "2"}).Draw(t, "join ref")
			var want []Event[meta]
			var got []Event[meta]
			var gotShared []Event[meta]
			collectShared := func(ev Event[meta]) { gotShared = append(gotShared, ev) }
			if rapid.IntRange(0, 2).Draw(t, "state?") == 0 {
				s := drawState(t, fmt.Sprint("state ", i))
				var evs []Event[meta]
				modelRef = joinRef
				model, evs = refSyncState(deepCopy(model), deepCopy(s))
				want = append(want, evs...)
				for _, d := range modelPending {
					model, evs = refSyncDiff(model, d)
					want = append(want, evs...)
				}
				modelPending = nil
				want = append(want, Event[meta]{Kind: Sync})
				got = tr.ApplyState(joinRef, s)
				require.NoError(t, shared.HandleStateFunc(joinRef, wire(s), collectShared))
			} else {
				d := Diff[meta]{Joins: drawState(t, fmt.Sprint("joins ", i)), Leaves: drawState(t, fmt.Sprint("leaves ", i))}
				if modelRef == "" || modelRef != joinRef {
					modelPending = append(modelPending, Diff[meta]{Joins: deepCopy(d.Joins), Leaves: deepCopy(d.Leaves)})
				} else {
					var evs []Event[meta]
					model, evs = refSyncDiff(model, Diff[meta]{Joins: deepCopy(d.Joins), Leaves: deepCopy(d.Leaves)})
					want = append(evs, Event[meta]{Kind: Sync})
				}
				var err error
				got, err = tr.ApplyDiff(joinRef, d)
				require.NoError(t, err)
				require.NoError(t, shared.HandleDiffFunc(joinRef, wireDiff(d), collectShared))
			}
			require.True(t, reflect.DeepEqual(want, got), "step %d events\nwant %#v\ngot  %#v", i, want, got)
			wantState := model.Clone()
			if wantState == nil {
				wantState = State[meta]{}
			}
			require.True(t, reflect.DeepEqual(wantState, tr.State()), "step %d state\nwant %#v\ngot  %#v", i, wantState, tr.State())
			require.Equal(t, len(modelPending), tr.Pending())

			// Through the wire, nil and empty lists and a nil state are
			// all the same: compare by content.
			require.Equal(t, normalize(wantState), normalize(shared.State()), "step %d state through the wire", i)
			require.Equal(t, len(want), len(gotShared), "step %d events through the wire", i)
			for k := range want {
				require.Equal(t, want[k].Kind, gotShared[k].Kind)
				require.Equal(t, want[k].Key, gotShared[k].Key)
				require.Equal(t, normalizeMetas(want[k].Presences), normalizeMetas(gotShared[k].Presences))
				require.Equal(t, normalizeMetas(want[k].Current), normalizeMetas(gotShared[k].Current))
			}
			all = append(all, emitted{gotShared, copyEvents(gotShared)})
		}
		for i, e := range all {
			require.True(t, reflect.DeepEqual(e.copied, e.shared), "the events of step %d changed after they were emitted", i)
		}
	})
}

// normalizeMetas makes nil and empty lists alike, keeping the order.
func normalizeMetas(metas []Meta[meta]) []Meta[meta] {
	if len(metas) == 0 {
		return nil
	}
	return metas
}
