package presence

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// op is one presence_diff caused by one client: a track, an update (leave of
// the old meta plus join of the new one with phx_ref_prev) or an untrack.
type op struct {
	client int
	diff   Diff[meta]
}

// history draws several clients (some sharing a key) and, for each, a
// sequence of tracks, updates and untracks with unique refs, as the server
// would send them.
func history(t *rapid.T) [][]op {
	n := rapid.IntRange(1, 5).Draw(t, "clients")
	perClient := make([][]op, n)
	for c := 0; c < n; c++ {
		key := rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, fmt.Sprintf("key%d", c))
		var cur *Meta[meta]
		steps := rapid.IntRange(0, 8).Draw(t, fmt.Sprintf("steps%d", c))
		for s := 0; s < steps; s++ {
			if rapid.IntRange(0, 3).Draw(t, "untrack") == 0 {
				if cur == nil {
					continue
				}
				perClient[c] = append(perClient[c], op{c, Diff[meta]{Leaves: State[meta]{key: {*cur}}}})
				cur = nil
				continue
			}
			next := Meta[meta]{Ref: fmt.Sprintf("c%d.%d", c, s), Value: meta{ID: c, Name: fmt.Sprintf("v%d", s)}}
			d := Diff[meta]{Joins: State[meta]{key: {next}}}
			if cur != nil {
				next.RefPrev = cur.Ref
				d = Diff[meta]{Joins: State[meta]{key: {next}}, Leaves: State[meta]{key: {*cur}}}
			}
			perClient[c] = append(perClient[c], op{c, d})
			cur = &next
		}
	}
	return perClient
}

// inOrder runs the clients one after another.
func inOrder(perClient [][]op) []op {
	var out []op
	for _, ops := range perClient {
		out = append(out, ops...)
	}
	return out
}

// interleave draws a merge of the clients' sequences that keeps each
// client's own order.
func interleave(t *rapid.T, perClient [][]op) []op {
	next := make([]int, len(perClient))
	var out []op
	for {
		var ready []int
		for c, ops := range perClient {
			if next[c] < len(ops) {
				ready = append(ready, c)
			}
		}
		if len(ready) == 0 {
			return out
		}
		c := rapid.SampledFrom(ready).Draw(t, "next client")
		out = append(out, perClient[c][next[c]])
		next[c]++
	}
}

// truth is the server's state after ops: a set of metas per key.
func truth(ops []op) State[meta] {
	s := State[meta]{}
	for _, o := range ops {
		for k, metas := range o.diff.Leaves {
			s[k] = slices.DeleteFunc(slices.Clone(s[k]), func(m Meta[meta]) bool { return hasRef(metas, m.Ref) })
			if len(s[k]) == 0 {
				delete(s, k)
			}
		}
		for k, metas := range o.diff.Joins {
			s[k] = append(s[k], metas...)
		}
	}
	return normalize(s)
}

// normalize orders each key's metas by ref: the order of metas within a key
// depends on arrival order, the set does not.
func normalize(s State[meta]) State[meta] {
	out := State[meta]{}
	for k, metas := range s {
		metas = slices.Clone(metas)
		slices.SortFunc(metas, func(a, b Meta[meta]) int { return strings.Compare(a.Ref, b.Ref) })
		out[k] = metas
	}
	return out
}

// wire encodes a state as the server sends it.
func wire(s State[meta]) []byte {
	out := map[string]any{}
	for k, metas := range s {
		list := make([]map[string]any, len(metas))
		for i, m := range metas {
			list[i] = map[string]any{"phx_ref": m.Ref, "id": m.Value.ID, "name": m.Value.Name}
			if m.RefPrev != "" {
				list[i]["phx_ref_prev"] = m.RefPrev
			}
		}
		out[k] = map[string]any{"metas": list}
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return b
}

func wireDiff(d Diff[meta]) []byte {
	return []byte(`{"joins":` + string(wire(d.Joins)) + `,"leaves":` + string(wire(d.Leaves)) + `}`)
}

// feed sends the state of schedule[:k] and the diffs after k, with the state
// arriving at a drawn position among those diffs. Some diffs already in the
// state may be sent again, as when a diff races the state.
func feed(t *rapid.T, tr *Tracker[meta], joinRef string, schedule []op, k int) {
	overlap := rapid.IntRange(0, k).Draw(t, "diffs also in the state")
	rest := schedule[k-overlap:]
	at := rapid.IntRange(0, len(rest)).Draw(t, "state arrives after diffs")
	for i := 0; i <= len(rest); i++ {
		if i == at {
			_, err := tr.HandleState(joinRef, wire(truth(schedule[:k])))
			require.NoError(t, err)
		}
		if i < len(rest) {
			_, err := tr.HandleDiff(joinRef, wireDiff(rest[i].diff))
			require.NoError(t, err)
		}
	}
}

// Random interleavings of the clients' diffs end in the same state as
// applying them client by client, and that state is the server's.
func TestPropertyInterleavingsConverge(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		perClient := history(t)
		ordered, mixed := inOrder(perClient), interleave(t, perClient)
		want := truth(ordered)

		var a, b Tracker[meta]
		for _, tr := range []*Tracker[meta]{&a, &b} {
			_, err := tr.HandleState("1", []byte(`{}`))
			require.NoError(t, err)
		}
		for _, o := range ordered {
			_, err := a.HandleDiff("1", wireDiff(o.diff))
			require.NoError(t, err)
		}
		for _, o := range mixed {
			_, err := b.HandleDiff("1", wireDiff(o.diff))
			require.NoError(t, err)
		}
		require.Equal(t, want, normalize(a.State()))
		require.Equal(t, want, normalize(b.State()))
	})
}

// A state taken at any point, arriving before, among or after the diffs
// that follow it (diffs that come first are held), ends in the server's
// state; so does a rejoin whose new state covers diffs lost meanwhile.
func TestPropertyLateStateAndRejoin(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		schedule := interleave(t, history(t))
		n := len(schedule)

		var tr Tracker[meta]
		first := rapid.IntRange(0, n).Draw(t, "first snapshot")
		lost := rapid.IntRange(first, n).Draw(t, "disconnected from")
		second := rapid.IntRange(lost, n).Draw(t, "second snapshot")

		feed(t, &tr, "1", schedule[:lost], first)
		require.Equal(t, truth(schedule[:lost]), normalize(tr.State()))

		// Rejoin with join ref 2: the diffs of (lost, second] never arrive,
		// the new state covers them.
		feed(t, &tr, "2", schedule, second)
		require.Equal(t, truth(schedule), normalize(tr.State()))
		require.Zero(t, tr.Pending())
	})
}

// SyncState converges to the new state from any current state, and its
// events describe exactly the difference.
func TestPropertySyncStateConverges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		schedule := interleave(t, history(t))
		from := truth(schedule[:rapid.IntRange(0, len(schedule)).Draw(t, "from")])
		to := truth(schedule[:rapid.IntRange(0, len(schedule)).Draw(t, "to")])
		before := from.Clone()
		next, events := SyncState(from, to)
		require.Equal(t, before, from, "SyncState is pure")
		require.Equal(t, to, normalize(next))

		// Replaying the events on the old state gives the new one.
		replay := from.Clone()
		for _, e := range events {
			switch e.Kind {
			case Join:
				replay[e.Key] = append(replay[e.Key], e.Presences...)
			case Update:
				replay[e.Key] = slices.DeleteFunc(replay[e.Key], func(m Meta[meta]) bool { return hasRef(e.Replaced, m.Ref) })
				replay[e.Key] = append(replay[e.Key], e.Presences...)
			case Leave:
				replay[e.Key] = slices.DeleteFunc(replay[e.Key], func(m Meta[meta]) bool { return hasRef(e.Presences, m.Ref) })
				if len(replay[e.Key]) == 0 {
					delete(replay, e.Key)
				}
			}
		}
		require.Equal(t, to, normalize(replay))
	})
}
