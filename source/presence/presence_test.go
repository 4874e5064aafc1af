package presence

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// meta is the user's meta type in these tests, as in phoenix.js's tests.
type meta struct {
	ID   int    `json:"id"`
	Name string `json:"name,omitempty"`
}

func state(t *testing.T, payload string) State[meta] {
	t.Helper()
	s, err := DecodeState[meta]([]byte(payload))
	require.NoError(t, err)
	return s
}

func m(id int, ref string) Meta[meta] { return Meta[meta]{Ref: ref, Value: meta{ID: id}} }

const fixtureState = `{"u1":{"metas":[{"id":1,"phx_ref":"1"}]},"u2":{"metas":[{"id":2,"phx_ref":"2"}]},"u3":{"metas":[{"id":3,"phx_ref":"3"}]}}`

// The tests below mirror phoenix.js's assets/test/presence_test.ts.

func TestSyncStateSyncsEmptyState(t *testing.T) {
	newState := state(t, `{"u1":{"metas":[{"id":1,"phx_ref":"1"}]}}`)
	cur := State[meta]{}
	next, _ := SyncState(cur, newState)
	assert.Empty(t, cur, "the input state is not modified")
	assert.Equal(t, newState, next)
}

func TestSyncStateJoinsNewAndLeavesLeft(t *testing.T) {
	newState := state(t, fixtureState)
	cur := state(t, `{"u4":{"metas":[{"id":4,"phx_ref":"4"}]}}`)
	before := cur.Clone()
	next, events := SyncState(cur, newState)
	assert.Equal(t, before, cur)
	assert.Equal(t, newState, next)
	assert.Equal(t, []Event[meta]{
		{Kind: Join, Key: "u1", Presences: []Meta[meta]{m(1, "1")}},
		{Kind: Join, Key: "u2", Presences: []Meta[meta]{m(2, "2")}},
		{Kind: Join, Key: "u3", Presences: []Meta[meta]{m(3, "3")}},
		{Kind: Leave, Key: "u4", Current: []Meta[meta]{}, Presences: []Meta[meta]{m(4, "4")}},
	}, events)
	assert.Nil(t, events[0].Current, "a new key has no current presence")
}

func TestSyncStateJoinsOnlyNewlyAddedMetas(t *testing.T) {
	newState := state(t, `{"u3":{"metas":[{"id":3,"phx_ref":"3"},{"id":3,"phx_ref":"3.new"}]}}`)
	cur := state(t, `{"u3":{"metas":[{"id":3,"phx_ref":"3"}]}}`)
	next, events := SyncState(cur, newState)
	assert.Equal(t, newState, next)
	assert.Equal(t, []Event[meta]{
		{Kind: Join, Key: "u3", Current: []Meta[meta]{m(3, "3")}, Presences: []Meta[meta]{m(3, "3.new")}},
	}, events)
}

func TestSyncDiffSyncsEmptyState(t *testing.T) {
	joins := state(t, `{"u1":{"metas":[{"id":1,"phx_ref":"1"}]}}`)
	next, _ := SyncDiff(State[meta]{}, Diff[meta]{Joins: joins})
	assert.Equal(t, joins, next)
}

func TestSyncDiffRemovesEmptyKeyAndAddsMeta(t *testing.T) {
	cur := state(t, fixtureState)
	before := cur.Clone()
	next, events := SyncDiff(cur, Diff[meta]{
		Joins:  state(t, `{"u1":{"metas":[{"id":1,"phx_ref":"1.2"}]}}`),
		Leaves: state(t, `{"u2":{"metas":[{"id":2,"phx_ref":"2"}]}}`),
	})
	assert.Equal(t, before, cur, "the input state is not modified")
	assert.Equal(t, State[meta]{
		"u1": {m(1, "1"), m(1, "1.2")},
		"u3": {m(3, "3")},
	}, next)
	assert.Equal(t, []Event[meta]{
		{Kind: Join, Key: "u1", Current: []Meta[meta]{m(1, "1")}, Presences: []Meta[meta]{m(1, "1.2")}},
		{Kind: Leave, Key: "u2", Current: []Meta[meta]{}, Presences: []Meta[meta]{m(2, "2")}},
	}, events)
}

func TestSyncDiffRemovesMetaKeepingKey(t *testing.T) {
	cur := State[meta]{"u1": {m(1, "1"), m(1, "1.2")}}
	next, events := SyncDiff(cur, Diff[meta]{Leaves: State[meta]{"u1": {m(1, "1")}}})
	assert.Equal(t, State[meta]{"u1": {m(1, "1.2")}}, next)
	assert.Equal(t, []Event[meta]{
		{Kind: Leave, Key: "u1", Current: []Meta[meta]{m(1, "1.2")}, Presences: []Meta[meta]{m(1, "1")}},
	}, events)
}

func TestSyncDiffIgnoresLeaveOfUnknownKey(t *testing.T) {
	next, events := SyncDiff(State[meta]{}, Diff[meta]{Leaves: State[meta]{"ghost": {m(9, "9")}}})
	assert.Empty(t, next)
	assert.Empty(t, events, "phoenix.js calls no onLeave for a key it does not have")
}

func TestTrackerSyncsStateAndDiffs(t *testing.T) {
	var tr Tracker[meta]
	events, err := tr.HandleState("1", []byte(`{"u1":{"metas":[{"id":1,"phx_ref":"1"}]},"u2":{"metas":[{"id":2,"phx_ref":"2"}]}}`))
	require.NoError(t, err)
	require.Len(t, events, 3)
	assert.Equal(t, Event[meta]{Kind: Sync}, events[2], "sync comes after the joins")
	assert.Equal(t, State[meta]{"u1": {m(1, "1")}, "u2": {m(2, "2")}}, tr.State())

	events, err = tr.HandleDiff("1", []byte(`{"joins":{},"leaves":{"u1":{"metas":[{"id":1,"phx_ref":"1"}]}}}`))
	require.NoError(t, err)
	assert.Equal(t, []Kind{Leave, Sync}, kinds(events))
	assert.Equal(t, State[meta]{"u2": {m(2, "2")}}, tr.State())
}

func TestTrackerAppliesPendingDiffs(t *testing.T) {
	var tr Tracker[meta]
	user1 := `{"metas":[{"id":1,"phx_ref":"1"}]}`
	user2 := `{"metas":[{"id":2,"phx_ref":"2"}]}`
	user3 := `{"metas":[{"id":3,"phx_ref":"3"}]}`

	assert.True(t, tr.InPendingSync("1"))
	events, err := tr.HandleDiff("1", []byte(`{"joins":{},"leaves":{"u2":`+user2+`}}`))
	require.NoError(t, err)
	assert.Empty(t, events, "a diff before the first state is held")
	assert.Empty(t, tr.State())
	assert.Equal(t, 1, tr.Pending())

	events, err = tr.HandleState("1", []byte(`{"u1":`+user1+`,"u2":`+user2+`}`))
	require.NoError(t, err)
	assert.Equal(t, []Event[meta]{
		{Kind: Join, Key: "u1", Presences: []Meta[meta]{m(1, "1")}},
		{Kind: Join, Key: "u2", Presences: []Meta[meta]{m(2, "2")}},
		{Kind: Leave, Key: "u2", Current: []Meta[meta]{}, Presences: []Meta[meta]{m(2, "2")}},
		{Kind: Sync},
	}, events)
	assert.Equal(t, State[meta]{"u1": {m(1, "1")}}, tr.State())
	assert.Equal(t, 0, tr.Pending())

	// The channel rejoins (join ref 2): diffs wait for that join's state.
	assert.True(t, tr.InPendingSync("2"))
	events, err = tr.HandleDiff("2", []byte(`{"joins":{},"leaves":{"u1":`+user1+`}}`))
	require.NoError(t, err)
	assert.Empty(t, events)
	assert.Equal(t, State[meta]{"u1": {m(1, "1")}}, tr.State(), "the old state stays visible meanwhile")

	_, err = tr.HandleState("2", []byte(`{"u1":`+user1+`,"u3":`+user3+`}`))
	require.NoError(t, err)
	assert.Equal(t, State[meta]{"u3": {m(3, "3")}}, tr.State())
	assert.False(t, tr.InPendingSync("2"))
}

// An update of a key's meta (a join whose phx_ref_prev names a meta that
// leaves in the same diff) is one Update event, not a join and a leave.
func TestTrackerUpdateIsOneEvent(t *testing.T) {
	var tr Tracker[meta]
	_, err := tr.HandleState("1", []byte(`{"u1":{"metas":[{"id":1,"phx_ref":"1"}]},"u2":{"metas":[{"id":2,"name":"chris","phx_ref":"2"}]}}`))
	require.NoError(t, err)

	events, err := tr.HandleDiff("1", []byte(`{
		"joins":{"u2":{"metas":[{"id":2,"name":"chris.2","phx_ref":"2.2","phx_ref_prev":"2"}]}},
		"leaves":{"u2":{"metas":[{"id":2,"name":"chris","phx_ref":"2"}]}}}`))
	require.NoError(t, err)

	chris := Meta[meta]{Ref: "2", Value: meta{ID: 2, Name: "chris"}}
	chris2 := Meta[meta]{Ref: "2.2", RefPrev: "2", Value: meta{ID: 2, Name: "chris.2"}}
	assert.Equal(t, State[meta]{"u1": {m(1, "1")}, "u2": {chris2}}, tr.State())
	assert.Equal(t, []Event[meta]{
		{Kind: Update, Key: "u2", Current: []Meta[meta]{chris}, Presences: []Meta[meta]{chris2}, Replaced: []Meta[meta]{chris}},
		{Kind: Sync},
	}, events)
}

// A diff that updates one meta of a key, adds another and removes a third
// reports an Update, a Join and a Leave of that key; a join whose
// phx_ref_prev names no meta leaving in the same diff is a Join.
func TestTrackerUpdateBesideJoinAndLeave(t *testing.T) {
	var tr Tracker[meta]
	_, err := tr.HandleState("1", []byte(`{"k":{"metas":[{"id":1,"phx_ref":"a"},{"id":2,"phx_ref":"b"}]}}`))
	require.NoError(t, err)
	events, err := tr.HandleDiff("1", []byte(`{
		"joins":{"k":{"metas":[{"id":1,"phx_ref":"a2","phx_ref_prev":"a"},{"id":3,"phx_ref":"c"},{"id":4,"phx_ref":"d","phx_ref_prev":"zz"}]}},
		"leaves":{"k":{"metas":[{"id":1,"phx_ref":"a"},{"id":2,"phx_ref":"b"}]}}}`))
	require.NoError(t, err)
	a2 := Meta[meta]{Ref: "a2", RefPrev: "a", Value: meta{ID: 1}}
	d := Meta[meta]{Ref: "d", RefPrev: "zz", Value: meta{ID: 4}}
	before := []Meta[meta]{m(1, "a"), m(2, "b")}
	after := []Meta[meta]{a2, m(3, "c"), d}
	assert.Equal(t, []Event[meta]{
		{Kind: Update, Key: "k", Current: before, Presences: []Meta[meta]{a2}, Replaced: []Meta[meta]{m(1, "a")}},
		{Kind: Join, Key: "k", Current: before, Presences: []Meta[meta]{m(3, "c"), d}},
		{Kind: Leave, Key: "k", Current: after, Presences: []Meta[meta]{m(2, "b")}},
		{Kind: Sync},
	}, events)
	assert.Equal(t, State[meta]{"k": after}, tr.State())
}

// A presence_state that finds a key's meta replaced by one naming it in
// phx_ref_prev (an update missed during a rejoin) reports an Update too.
func TestSyncStateReportsMissedUpdate(t *testing.T) {
	cur := state(t, `{"k":{"metas":[{"id":1,"phx_ref":"a"}]}}`)
	next, events := SyncState(cur, state(t, `{"k":{"metas":[{"id":1,"phx_ref":"a2","phx_ref_prev":"a"}]}}`))
	a2 := Meta[meta]{Ref: "a2", RefPrev: "a", Value: meta{ID: 1}}
	assert.Equal(t, State[meta]{"k": {a2}}, next)
	assert.Equal(t, []Event[meta]{
		{Kind: Update, Key: "k", Current: []Meta[meta]{m(1, "a")}, Presences: []Meta[meta]{a2}, Replaced: []Meta[meta]{m(1, "a")}},
	}, events)
}

func TestTrackerSnapshotsAndEventsAreCopies(t *testing.T) {
	var tr Tracker[meta]
	events, err := tr.HandleState("1", []byte(`{"u1":{"metas":[{"id":1,"phx_ref":"1"}]}}`))
	require.NoError(t, err)
	events[0].Presences[0].Value.ID = 99
	snap := tr.State()
	snap["u1"][0].Value.ID = 42
	snap["u9"] = nil
	assert.Equal(t, State[meta]{"u1": {m(1, "1")}}, tr.State())
}

func TestTrackerBadPayloadsChangeNothing(t *testing.T) {
	var tr Tracker[meta]
	_, err := tr.HandleState("1", []byte(`{"u1":{"metas":[{"id":1,"phx_ref":"1"}]}}`))
	require.NoError(t, err)
	for _, bad := range []string{
		`nope`, `null`, `[]`, `{"u1":{"metas":[{"id":1}]}}`, `{"u1":{"metas":[{"id":"x","phx_ref":"2"}]}}`,
		`{"u1":{"metas":[{"id":1,"phx_ref":5}]}}`, `{"u1":{}}`, `{"u1":{"metas":null}}`, `{"u1":5}`,
	} {
		_, err := tr.HandleState("1", []byte(bad))
		assert.ErrorIs(t, err, ErrDecode, bad)
	}
	for _, bad := range []string{
		`nope`, `null`, `{"joins":[]}`, `{"joins":{"u2":{"metas":[{"phx_ref_prev":"1"}]}}}`, `{"leaves":{"u1":{"metas":"x"}}}`,
	} {
		_, err := tr.HandleDiff("1", []byte(bad))
		assert.ErrorIs(t, err, ErrDecode, bad)
	}
	assert.Equal(t, State[meta]{"u1": {m(1, "1")}}, tr.State())

	_, err = tr.HandleState("1", []byte(`{"u1":{"metas":[{"id":1}]}}`))
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "u1", de.Key)
	assert.Equal(t, `presence: decode key "u1": meta without a phx_ref string`, de.Error())
}

func TestTrackerBoundsPendingDiffs(t *testing.T) {
	var tr Tracker[meta]
	for i := 0; i < MaxPendingDiffs; i++ {
		_, err := tr.ApplyDiff("1", Diff[meta]{})
		require.NoError(t, err)
	}
	_, err := tr.ApplyDiff("1", Diff[meta]{})
	assert.ErrorIs(t, err, ErrTooManyPending)
	assert.Equal(t, MaxPendingDiffs, tr.Pending())
	tr.ApplyState("1", State[meta]{})
	assert.Equal(t, 0, tr.Pending())
}

func TestEmptyMetasList(t *testing.T) {
	s := state(t, `{"u1":{"metas":[]}}`)
	assert.Equal(t, State[meta]{"u1": {}}, s)
}

func TestDecodeKeepsAllFieldsForMaps(t *testing.T) {
	s, err := DecodeState[map[string]any]([]byte(`{"k":{"metas":[{"phx_ref":"F1","online_at":"now"}]}}`))
	require.NoError(t, err)
	assert.Equal(t, State[map[string]any]{"k": {{Ref: "F1", Value: map[string]any{"phx_ref": "F1", "online_at": "now"}}}}, s)
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "join", Join.String())
	assert.Equal(t, "leave", Leave.String())
	assert.Equal(t, "sync", Sync.String())
	assert.Equal(t, "unknown", Kind(0).String())
}

func kinds[M any](events []Event[M]) []Kind {
	out := make([]Kind, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}
