package presence

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// refRegroup is the definition of an Update, applied to the events of the
// phoenix.js model (refSyncState, refSyncDiff) for one message: for each
// key with both a Join and a Leave, the joined metas whose RefPrev is the
// Ref of a left meta (each left Ref taken once, by the first joined meta
// naming it) and whose own Ref does not leave become one Update at the
// Join's place, with the metas they replace; the Join keeps the other
// joined metas and the Leave the other left ones, and either disappears
// when it keeps none. It is written the plain way, with nested loops.
func refRegroup(events []Event[meta]) []Event[meta] {
	type split struct{ upd, rep, joined, left []Meta[meta] }
	joins, leaves := map[string]Event[meta]{}, map[string]Event[meta]{}
	for _, e := range events {
		switch e.Kind {
		case Join:
			joins[e.Key] = e
		case Leave:
			leaves[e.Key] = e
		}
	}
	splits := map[string]split{}
	for key, j := range joins {
		l, ok := leaves[key]
		if !ok {
			continue
		}
		var sp split
		taken := map[string]bool{}
		for _, jm := range j.Presences {
			found := -1
			if jm.RefPrev != "" && !hasRef(l.Presences, jm.Ref) && !taken[jm.RefPrev] {
				for i, lm := range l.Presences {
					if lm.Ref == jm.RefPrev {
						found = i
						break
					}
				}
			}
			if found < 0 {
				sp.joined = append(sp.joined, jm)
				continue
			}
			taken[jm.RefPrev] = true
			sp.upd = append(sp.upd, jm)
			sp.rep = append(sp.rep, l.Presences[found])
		}
		for _, lm := range l.Presences {
			if !taken[lm.Ref] {
				sp.left = append(sp.left, lm)
			}
		}
		splits[key] = sp
	}
	var out []Event[meta]
	for _, e := range events {
		sp, ok := splits[e.Key]
		if !ok || len(sp.upd) == 0 || e.Kind == Sync {
			out = append(out, e)
			continue
		}
		switch e.Kind {
		case Join:
			out = append(out, Event[meta]{Kind: Update, Key: e.Key, Current: e.Current, Presences: sp.upd, Replaced: sp.rep})
			if len(sp.joined) > 0 {
				out = append(out, Event[meta]{Kind: Join, Key: e.Key, Current: e.Current, Presences: sp.joined})
			}
		case Leave:
			if len(sp.left) > 0 {
				out = append(out, Event[meta]{Kind: Leave, Key: e.Key, Current: e.Current, Presences: sp.left})
			}
		}
	}
	return out
}

// drawMetasPrev draws a key's metas as drawMetas does, some of them with a
// RefPrev from the same small set of refs, so that joins name metas that
// leave in the same message, or that do not, or their own ref.
func drawMetasPrev(t *rapid.T, label string) []Meta[meta] {
	metas := drawMetas(t, label)
	for i := range metas {
		if rapid.IntRange(0, 2).Draw(t, label+" has prev") > 0 {
			metas[i].RefPrev = fmt.Sprint("r", rapid.IntRange(0, 7).Draw(t, label+" prev"))
		}
	}
	return metas
}

func drawStatePrev(t *rapid.T, label string) State[meta] {
	if rapid.IntRange(0, 9).Draw(t, label+" nil") == 0 {
		return nil
	}
	s := State[meta]{}
	for _, k := range []string{"a", "b", "c"} {
		if rapid.Bool().Draw(t, label+" has "+k) {
			s[k] = drawMetasPrev(t, label+" "+k)
		}
	}
	return s
}

// SyncState and SyncDiff, with metas that carry phx_ref_prev, end in the
// state of the phoenix.js model and report its events regrouped into
// Updates by the definition (refRegroup), down to nil and empty slices;
// they leave their inputs alone.
func TestPropertyUpdatesRegroupTheModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		state, next := drawStatePrev(t, "state"), drawStatePrev(t, "new")
		diff := Diff[meta]{Joins: drawStatePrev(t, "joins"), Leaves: drawStatePrev(t, "leaves")}
		stateCopy, nextCopy := deepCopy(state), deepCopy(next)
		diffCopy := Diff[meta]{Joins: deepCopy(diff.Joins), Leaves: deepCopy(diff.Leaves)}

		gotState, gotEvents := SyncState(state, next)
		wantState, wantEvents := refSyncState(deepCopy(stateCopy), deepCopy(nextCopy))
		wantEvents = refRegroup(wantEvents)
		require.True(t, reflect.DeepEqual(wantState, gotState), "SyncState state\nwant %#v\ngot  %#v", wantState, gotState)
		require.True(t, reflect.DeepEqual(wantEvents, gotEvents), "SyncState events\nwant %#v\ngot  %#v", wantEvents, gotEvents)
		require.True(t, reflect.DeepEqual(stateCopy, state), "SyncState changed its state")
		require.True(t, reflect.DeepEqual(nextCopy, next), "SyncState changed its new state")

		gotState, gotEvents = SyncDiff(state, diff)
		wantState, wantEvents = refSyncDiff(deepCopy(stateCopy), Diff[meta]{Joins: deepCopy(diffCopy.Joins), Leaves: deepCopy(diffCopy.Leaves)})
		wantEvents = refRegroup(wantEvents)
		require.True(t, reflect.DeepEqual(wantState, gotState), "SyncDiff state\nwant %#v\ngot  %#v", wantState, gotState)
		require.True(t, reflect.DeepEqual(wantEvents, gotEvents), "SyncDiff events\nwant %#v\ngot  %#v", wantEvents, gotEvents)
		require.True(t, reflect.DeepEqual(stateCopy, state), "SyncDiff changed its state")
		require.True(t, reflect.DeepEqual(diffCopy, diff), "SyncDiff changed its diff")

		// Every Update pairs its metas with the ones they replace, by
		// phx_ref_prev, and no Join of the message still carries a meta
		// that replaces a meta leaving with it.
		for _, e := range gotEvents {
			switch e.Kind {
			case Update:
				require.Len(t, e.Replaced, len(e.Presences))
				for i := range e.Presences {
					require.Equal(t, e.Replaced[i].Ref, e.Presences[i].RefPrev)
				}
			case Join:
				for _, jm := range e.Presences {
					left := diff.Leaves[e.Key]
					if jm.RefPrev != "" && hasRef(left, jm.RefPrev) && !hasRef(left, jm.Ref) {
						// Only when another joined meta took that ref first.
						require.True(t, tookRef(gotEvents, e.Key, jm.RefPrev), "join %+v replaces a leaving meta", jm)
					}
				}
			}
		}
	})
}

// tookRef reports whether an Update of key replaced a meta of ref.
func tookRef(events []Event[meta], key, ref string) bool {
	for _, e := range events {
		if e.Kind == Update && e.Key == key && hasRef(e.Replaced, ref) {
			return true
		}
	}
	return false
}

// A tracker fed states and diffs whose metas carry phx_ref_prev reports,
// for each message, the model's events regrouped into Updates, and the
// model's state; so do HandleStateFunc and HandleDiffFunc through the
// wire, whose events (which share the tracker's slices) still hold what
// they held when emitted once everything else has been applied.
func TestPropertyTrackerUpdatesMatchModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var tr, shared Tracker[meta]
		var model State[meta]
		var modelPending []Diff[meta]
		modelRef := ""
		type emitted struct{ shared, copied []Event[meta] }
		var all []emitted
		for i := range rapid.IntRange(1, 8).Draw(t, "steps") {
			joinRef := rapid.SampledFrom([]string{"1", "2"}).Draw(t, "join ref")
			var want, got, gotShared []Event[meta]
			collectShared := func(ev Event[meta]) { gotShared = append(gotShared, ev) }
			if rapid.IntRange(0, 2).Draw(t, "state?") == 0 {
				s := drawStatePrev(t, fmt.Sprint("state ", i))
				var evs []Event[meta]
				modelRef = joinRef
				model, evs = refSyncState(deepCopy(model), deepCopy(s))
				want = append(want, refRegroup(evs)...)
				for _, d := range modelPending {
					model, evs = refSyncDiff(model, d)
					want = append(want, refRegroup(evs)...)
				}
				modelPending = nil
				want = append(want, Event[meta]{Kind: Sync})
				got = tr.ApplyState(joinRef, s)
				require.NoError(t, shared.HandleStateFunc(joinRef, wire(s), collectShared))
			} else {
				d := Diff[meta]{Joins: drawStatePrev(t, fmt.Sprint("joins ", i)), Leaves: drawStatePrev(t, fmt.Sprint("leaves ", i))}
				if modelRef == "" || modelRef != joinRef {
					modelPending = append(modelPending, Diff[meta]{Joins: deepCopy(d.Joins), Leaves: deepCopy(d.Leaves)})
				} else {
					var evs []Event[meta]
					model, evs = refSyncDiff(model, Diff[meta]{Joins: deepCopy(d.Joins), Leaves: deepCopy(d.Leaves)})
					want = append(refRegroup(evs), Event[meta]{Kind: Sync})
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
			require.True(t, reflect.DeepEqual(wantState, tr.State()), "step %d state", i)
			require.Equal(t, normalize(wantState), normalize(shared.State()), "step %d state through the wire", i)
			require.Equal(t, len(want), len(gotShared), "step %d events through the wire", i)
			for k := range want {
				require.Equal(t, want[k].Kind, gotShared[k].Kind)
				require.Equal(t, want[k].Key, gotShared[k].Key)
				require.Equal(t, normalizeMetas(want[k].Presences), normalizeMetas(gotShared[k].Presences))
				require.Equal(t, normalizeMetas(want[k].Replaced), normalizeMetas(gotShared[k].Replaced))
				require.Equal(t, normalizeMetas(want[k].Current), normalizeMetas(gotShared[k].Current))
			}
			all = append(all, emitted{gotShared, copyEvents(gotShared)})
		}
		for i, e := range all {
			require.True(t, reflect.DeepEqual(e.copied, e.shared), "the events of step %d changed after they were emitted", i)
		}
	})
}

// What the server sends, seen one message at a time by a tracker that has
// the state: a client's first track is a Join, every track after it (a
// Presence.update: a join carrying phx_ref_prev and a leave of the old
// meta) is exactly one Update of that client's meta, never a Join or a
// Leave, and an untrack is a Leave; the events, folded over the state,
// give the server's state.
func TestPropertyServerUpdatesAreUpdates(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		schedule := interleave(t, history(t))
		var tr Tracker[meta]
		_, err := tr.HandleState("1", []byte(`{}`))
		require.NoError(t, err)
		folded := State[meta]{}
		for i, o := range schedule {
			events, err := tr.HandleDiff("1", wireDiff(o.diff))
			require.NoError(t, err)
			require.Equal(t, Sync, events[len(events)-1].Kind)
			events = events[:len(events)-1]
			require.Len(t, events, 1, "op %d: one event, got %+v", i, events)
			e := events[0]
			joins, leaves := o.diff.Joins, o.diff.Leaves
			switch {
			case len(joins) > 0 && len(leaves) > 0:
				require.Equal(t, Update, e.Kind, "op %d", i)
				for key, metas := range joins {
					require.Equal(t, key, e.Key)
					require.Equal(t, metas, e.Presences)
					require.Equal(t, leaves[key], e.Replaced)
				}
			case len(joins) > 0:
				require.Equal(t, Join, e.Kind, "op %d", i)
			default:
				require.Equal(t, Leave, e.Kind, "op %d", i)
			}
			folded = fold(folded, e)
			require.Equal(t, truth(schedule[:i+1]), normalize(folded), "op %d: the events folded", i)
		}
		require.Equal(t, truth(schedule), normalize(tr.State()))
	})
}

// fold applies one event to a state, as a user keeping a roster from
// events would: a Join adds its metas, an Update replaces the metas it
// names, a Leave removes its metas.
func fold(s State[meta], e Event[meta]) State[meta] {
	s = s.Clone()
	switch e.Kind {
	case Join:
		s[e.Key] = append(without(s[e.Key], e.Presences), e.Presences...)
	case Update:
		s[e.Key] = append(without(without(s[e.Key], e.Replaced), e.Presences), e.Presences...)
	case Leave:
		s[e.Key] = without(s[e.Key], e.Presences)
	}
	if len(s[e.Key]) == 0 {
		delete(s, e.Key)
	}
	return s
}
