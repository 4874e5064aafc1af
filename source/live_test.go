package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

// item is a row of public.items.
type item struct {
	ID    int64  `json:"id"`
	List  int64  `json:"list_id"`
	Title string `json:"title"`
	Rev   int64  `json:"rev"`
}

func itemKey(i item) int64 { return i.ID }

var itemColumns = []realtimetest.Column{
	{Name: "id", Type: "int8", PrimaryKey: true},
	{Name: "list_id", Type: "int8"},
	{Name: "title", Type: "text"},
	{Name: "rev", Type: "int8"},
}

var itemsBinding = source.Bind[item](postgres.Binding{Table: "items"})

// setItems sets the server's public.items without sending a change.
func setItems(t *testing.T, s *realtimetest.Server, rows ...item) {
	t.Helper()
	anys := make([]any, len(rows))
	for i, r := range rows {
		anys[i] = r
	}
	require.NoError(t, s.SetTable(realtimetest.Table{Schema: "public", Name: "items", Columns: itemColumns, Rows: anys}))
}

// emitItem writes a change of public.items to the server (its table, and
// the channels subscribed to it). The old record holds only the key.
func emitItem(t *testing.T, s *realtimetest.Server, typ string, r item) {
	t.Helper()
	c := realtimetest.Change{Type: typ, Schema: "public", Table: "items", Columns: itemColumns}
	if typ != realtimetest.Insert {
		c.OldRecord = map[string]any{"id": r.ID}
	}
	if typ != realtimetest.Delete {
		c.Record = r
	}
	_, err := s.EmitChange(c)
	require.NoError(t, err)
}

// restItems is a loader reading public.items from the server's PostgREST
// select, with query (e.g. "&list_id=eq.1") after select=*. Its HTTP
// client keeps no connection: no goroutine outlives a test.
func restItems(s *realtimetest.Server, query string) source.Loader[item] {
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return func(ctx context.Context) ([]item, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.HTTPURL()+"/rest/v1/items?select=*"+query, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("apikey", "anon-key")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("select items: %s", resp.Status)
		}
		var rows []item
		return rows, json.NewDecoder(resp.Body).Decode(&rows)
	}
}

// serverItems is the server's public.items, read through its PostgREST
// select.
func serverItems(t *testing.T, s *realtimetest.Server) map[int64]item {
	t.Helper()
	rows, err := restItems(s, "")(waitCtx(t))
	require.NoError(t, err)
	out := map[int64]item{}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out
}

// liveItems starts a live query of items on a new channel of c (waiting for
// Postgres), ended with the test.
func liveItems(t *testing.T, c *source.Client, load source.Loader[item], opts ...source.LiveOption) (*source.Channel, *source.LiveQuery[int64, item]) {
	t.Helper()
	ch := chNew(t, c, "items", itemsBinding.Option(), source.WithWaitForPostgres())
	ctx, cancel := context.WithCancel(context.Background())
	q, err := source.Live(ctx, ch, itemsBinding, itemKey, load, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		cancel()
		<-q.Done()
	})
	return ch, q
}

// waitLive waits for a state of q for which ok holds.
func waitLive(t *testing.T, q *source.LiveQuery[int64, item], what string, ok func(source.LiveState[int64, item]) bool) source.LiveState[int64, item] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var last source.LiveState[int64, item]
	for s := range q.States().All(ctx) {
		if last = s; ok(s) {
			return s
		}
	}
	t.Fatalf("timed out waiting for %s; last state: synced %v, %d loads, %d rows", what, last.Synced, last.Loads, len(last.Rows))
	return last
}

// equalTo is a state condition: synced, and rows equal to want.
func equalTo(want map[int64]item) func(source.LiveState[int64, item]) bool {
	return func(s source.LiveState[int64, item]) bool { return s.Synced && maps.Equal(s.Rows, want) }
}

// replay applies diffs to from in order, failing the test on a difference
// that does not fit the view it applies to (an Insert of a row present, an
// Update or Delete whose Old is not the row present, an Update that
// changes nothing): the diffs must be exactly the view's transitions.
func replay(t *testing.T, from map[int64]item, diffs []postgres.Diff[int64, item]) map[int64]item {
	t.Helper()
	v := maps.Clone(from)
	if v == nil {
		v = map[int64]item{}
	}
	for i, d := range diffs {
		cur, had := v[d.Key]
		switch d.Type {
		case postgres.Insert:
			require.False(t, had, "diff %d inserts row %d, present", i, d.Key)
			v[d.Key] = d.New
		case postgres.Update:
			require.True(t, had, "diff %d updates row %d, absent", i, d.Key)
			require.Equal(t, cur, d.Old, "diff %d: Old is not the row present", i)
			require.NotEqual(t, d.Old, d.New, "diff %d changes nothing", i)
			v[d.Key] = d.New
		case postgres.Delete:
			require.True(t, had, "diff %d deletes row %d, absent", i, d.Key)
			require.Equal(t, cur, d.Old, "diff %d: Old is not the row present", i)
			delete(v, d.Key)
		default:
			t.Fatalf("diff %d has type %q", i, d.Type)
		}
	}
	return v
}

func TestLiveQueryLoadsThenFollowsChanges(t *testing.T) {
	s := rtServer(t)
	setItems(t, s, item{1, 1, "a", 1}, item{2, 1, "b", 1})
	c := chConnect(t, s)
	ch, q := liveItems(t, c, restItems(s, ""))
	diffs := chRecord(t, q.Diffs())

	st, ok := q.State()
	require.True(t, ok)
	assert.False(t, st.Synced, "not synced before the first load")
	assert.Empty(t, st.Rows)

	chSubscribe(t, ch)
	st, err := q.WaitSynced(chCtx(t))
	require.NoError(t, err)
	assert.Equal(t, map[int64]item{1: {1, 1, "a", 1}, 2: {2, 1, "b", 1}}, st.Rows)
	assert.Equal(t, 1, st.Loads)

	emitItem(t, s, realtimetest.Insert, item{3, 1, "c", 1})
	emitItem(t, s, realtimetest.Update, item{1, 1, "a", 2})
	emitItem(t, s, realtimetest.Delete, item{ID: 2})
	want := map[int64]item{1: {1, 1, "a", 2}, 3: {3, 1, "c", 1}}
	st = waitLive(t, q, "the three changes", equalTo(want))
	assert.Equal(t, 1, st.Loads, "changes are applied without a load")
	assert.Equal(t, serverItems(t, s), st.Rows)

	got := diffs.waitUntil(t, "5 diffs", func(v []postgres.Diff[int64, item], _ bool) bool { return len(v) >= 5 })
	require.Len(t, got, 5)
	assert.ElementsMatch(t, []int64{1, 2}, []int64{got[0].Key, got[1].Key}, "the first load's rows, inserted")
	for _, d := range got[:2] {
		assert.Equal(t, postgres.Insert, d.Type)
		assert.True(t, d.CommitTimestamp.IsZero(), "a load's diff has no commit time")
	}
	assert.Equal(t, []postgres.EventType{postgres.Insert, postgres.Update, postgres.Delete},
		[]postgres.EventType{got[2].Type, got[3].Type, got[4].Type})
	assert.Equal(t, item{1, 1, "a", 1}, got[3].Old)
	for _, d := range got[2:] {
		assert.False(t, d.CommitTimestamp.IsZero(), "a change's diff has its commit time")
	}
	assert.Equal(t, want, replay(t, nil, got))
}

// gatedLoader is a loader that reads the server's table, then, on the
// calls the test holds, waits for the test before returning what it read:
// changes made in between arrive during the load.
type gatedLoader struct {
	s     *realtimetest.Server
	calls atomic.Int32
	mu    sync.Mutex
	gates map[int32]*loadGate
}

// loadGate holds one load: read is closed once it has read the table, and
// it returns once release is closed.
type loadGate struct{ read, release chan struct{} }

// hold makes call n (from 1) wait for its gate's release.
func (g *gatedLoader) hold(n int32) *loadGate {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gates == nil {
		g.gates = map[int32]*loadGate{}
	}
	gate := &loadGate{read: make(chan struct{}), release: make(chan struct{})}
	g.gates[n] = gate
	return gate
}

func (g *gatedLoader) load(ctx context.Context) ([]item, error) {
	rows, err := restItems(g.s, "")(ctx)
	g.mu.Lock()
	gate := g.gates[g.calls.Add(1)]
	g.mu.Unlock()
	if gate != nil {
		close(gate.read)
		select {
		case <-gate.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return rows, err
}

func TestLiveQueryMergesTheChangesMadeDuringALoad(t *testing.T) {
	s := rtServer(t)
	setItems(t, s, item{1, 1, "a", 1}, item{2, 1, "b", 1}, item{3, 1, "c", 1})
	c := chConnect(t, s)
	g := &gatedLoader{s: s}
	first := g.hold(1)
	ch, q := liveItems(t, c, g.load)
	diffs := chRecord(t, q.Diffs())
	states := chRecord(t, q.States())
	chSubscribe(t, ch)
	<-first.read // the load holds the table as it was

	// Made after the read, during the load: the load's rows lack them.
	emitItem(t, s, realtimetest.Update, item{1, 1, "a", 2})
	emitItem(t, s, realtimetest.Delete, item{ID: 2})
	emitItem(t, s, realtimetest.Insert, item{4, 1, "d", 1})
	emitItem(t, s, realtimetest.Update, item{4, 1, "d", 2})
	want := serverItems(t, s)
	require.Len(t, want, 3)
	close(first.release)
	st := waitLive(t, q, "the first load reconciled", equalTo(want))
	assert.Equal(t, 1, st.Loads)
	for _, st := range states.waitUntil(t, "the synced state", func(v []source.LiveState[int64, item], _ bool) bool {
		return len(v) > 0 && v[len(v)-1].Synced
	}) {
		if !st.Synced {
			assert.Empty(t, st.Rows, "before the first load, the view is empty")
		}
	}

	// A reload after a crash: the changes made during it show at once, on
	// the view as it was, then the load reconciles.
	second := g.hold(2)
	require.Equal(t, 1, s.Faults().CrashChannels(""))
	emitItem(t, s, realtimetest.Insert, item{5, 1, "written while down", 1})
	<-second.read
	emitItem(t, s, realtimetest.Update, item{3, 1, "c", 2})
	emitItem(t, s, realtimetest.Delete, item{ID: 4})
	waitLive(t, q, "the changes applied during the reload", func(st source.LiveState[int64, item]) bool {
		_, has4 := st.Rows[4]
		_, has5 := st.Rows[5]
		return !st.Synced && st.Rows[3].Rev == 2 && !has4 && !has5
	})
	close(second.release)
	want = serverItems(t, s)
	st = waitLive(t, q, "the reload reconciled", equalTo(want))
	assert.Equal(t, 2, st.Loads)

	// Now live: a change the view already holds changes nothing.
	emitItem(t, s, realtimetest.Update, item{3, 1, "c", 2})
	emitItem(t, s, realtimetest.Insert, item{6, 1, "f", 1})
	st = waitLive(t, q, "row 6", equalTo(serverItems(t, s)))

	got := diffs.waitUntil(t, "row 6's diff", func(v []postgres.Diff[int64, item], _ bool) bool {
		return len(v) > 0 && v[len(v)-1].Key == 6
	})
	assert.Equal(t, st.Rows, replay(t, nil, got), "the diffs are the view's transitions, without duplicates")
	updates3 := 0
	for _, d := range got {
		if d.Key == 3 && d.Type == postgres.Update {
			updates3++
		}
	}
	assert.Equal(t, 1, updates3, "row 3 changed once")
}

func TestLiveQueryAppliesChangesInCommitOrderPerKey(t *testing.T) {
	s := rtServer(t)
	setItems(t, s, item{1, 1, "a", 1})
	c := chConnect(t, s)
	ch, q := liveItems(t, c, restItems(s, ""))
	diffs := chRecord(t, q.Diffs())
	chSubscribe(t, ch)
	_, err := q.WaitSynced(chCtx(t))
	require.NoError(t, err)

	t0 := time.Now().Add(time.Minute).Truncate(time.Millisecond)
	emit := func(r item, at time.Time) {
		_, err := s.EmitChange(realtimetest.Change{Type: realtimetest.Update, Schema: "public", Table: "items",
			Columns: itemColumns, Record: r, OldRecord: map[string]any{"id": r.ID}, CommitTimestamp: at})
		require.NoError(t, err)
	}
	emit(item{1, 1, "newer", 3}, t0.Add(time.Second))
	emit(item{1, 1, "older", 2}, t0) // arrives late: skipped
	emitItem(t, s, realtimetest.Insert, item{2, 1, "b", 1})
	st := waitLive(t, q, "row 2", func(st source.LiveState[int64, item]) bool { _, ok := st.Rows[2]; return ok })
	assert.Equal(t, item{1, 1, "newer", 3}, st.Rows[1])
	for _, d := range diffs.waitUntil(t, "row 2's diff", func(v []postgres.Diff[int64, item], _ bool) bool {
		return len(v) > 0 && v[len(v)-1].Key == 2
	}) {
		assert.NotEqual(t, "older", d.New.Title)
	}
}

// TestLiveQueryReconcilesAcrossFaults is the live query's promise: across
// drops, restarts, token expiries, a slow database and crashed channels,
// with changes made all along (some while the channel is down, so never
// delivered), the view comes back to exactly the server's table after each
// fault, and its diffs are its exact transitions, in commit order.
func TestLiveQueryReconcilesAcrossFaults(t *testing.T) {
	s := rtServer(t)
	var seed []item
	for i := int64(1); i <= 20; i++ {
		seed = append(seed, item{i, i % 3, fmt.Sprint("row ", i), 1})
	}
	setItems(t, s, seed...)
	c := chConnect(t, s)
	ch, q := liveItems(t, c, restItems(s, ""))
	diffs := chRecord(t, q.Diffs())
	chSubscribe(t, ch)
	_, err := q.WaitSynced(chCtx(t))
	require.NoError(t, err)

	// A writer changes keys 1..40 until the end.
	var mu sync.Mutex // orders the writer's emits with the test's
	stop := make(chan struct{})
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		rows := map[int64]item{}
		for _, r := range seed {
			rows[r.ID] = r
		}
		rnd := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			k := rnd.Int64N(40) + 1
			r, had := rows[k]
			typ := realtimetest.Insert
			switch {
			case had && rnd.IntN(3) == 0:
				typ = realtimetest.Delete
				delete(rows, k)
			case had:
				typ = realtimetest.Update
				r.Rev++
				rows[k] = r
			default:
				r = item{k, k % 3, fmt.Sprint("row ", k), 1}
				rows[k] = r
			}
			c := realtimetest.Change{Type: typ, Schema: "public", Table: "items", Columns: itemColumns,
				OldRecord: map[string]any{"id": k}}
			if typ != realtimetest.Delete {
				c.Record = r
			}
			mu.Lock()
			_, _ = s.EmitChange(c)
			mu.Unlock()
		}
	}()

	// missed writes a row no change delivers: the channel is down.
	missed := func(n int64) {
		mu.Lock()
		defer mu.Unlock()
		emitItem(t, s, realtimetest.Insert, item{1000 + n, 0, "while down", 1})
	}
	faults := []struct {
		name string
		do   func(n int64)
	}{
		{"drop every connection", func(n int64) { s.Faults().DropAll(); missed(n) }},
		{"stop, write, start", func(n int64) {
			s.Faults().Stop()
			missed(n)
			time.Sleep(50 * time.Millisecond)
			require.NoError(t, s.Faults().Start())
		}},
		{"restart", func(int64) { require.NoError(t, s.Faults().Restart()) }},
		{"expire the token", func(n int64) { require.Equal(t, 1, s.Faults().ExpireTokens("")); missed(n) }},
		{"slow database, then drop", func(n int64) {
			s.Faults().DelayPostgres(300 * time.Millisecond)
			s.Faults().DropAll()
			missed(n)
		}},
		{"crash the channel", func(n int64) { require.Equal(t, 1, s.Faults().CrashChannels("")); missed(n) }},
	}
	for i, f := range faults {
		n := int64(i)
		before, _ := q.State()
		f.do(n)
		st := waitLive(t, q, "a reload after: "+f.name, func(st source.LiveState[int64, item]) bool {
			return st.Synced && st.Loads > before.Loads
		})
		s.Faults().DelayPostgres(0)
		if n != 2 { // Restart writes nothing while down
			assert.Contains(t, st.Rows, 1000+n, "%s: the row written while down is loaded", f.name)
		}
	}

	close(stop)
	<-wrote
	want := serverItems(t, s)
	st := waitLive(t, q, "exactly the server's table", equalTo(want))
	assert.GreaterOrEqual(t, st.Loads, 1+len(faults))

	got := diffs.waitUntil(t, "the diffs up to the final view", func(v []postgres.Diff[int64, item], _ bool) bool {
		return maps.Equal(replay(t, nil, v), st.Rows)
	})
	last := map[int64]time.Time{}
	reloaded := map[int64]bool{}
	for _, d := range got {
		if d.CommitTimestamp.IsZero() {
			reloaded[d.Key] = true
			continue
		}
		assert.False(t, d.CommitTimestamp.Before(last[d.Key]), "row %d: a diff committed before the last one", d.Key)
		last[d.Key] = d.CommitTimestamp
	}
	for i := range faults {
		if i != 2 {
			assert.True(t, reloaded[1000+int64(i)], "row %d came by a reload, not a change", 1000+i)
		}
	}
}

// slowItem is an item whose comparison (the view's, on the query's
// goroutine) can be held up by a test, to make the query a slow consumer.
type slowItem item

var slowGate atomic.Pointer[chan struct{}]

func (a slowItem) Equal(b slowItem) bool {
	if g := slowGate.Load(); g != nil {
		<-*g
	}
	return a == b
}

func TestLiveQueryReloadsAfterAGap(t *testing.T) {
	s := rtServer(t)
	setItems(t, s, item{1, 1, "a", 1})
	c := chConnect(t, s)
	errs := chRecord(t, c.Errors())
	binding := source.Bind[slowItem](postgres.Binding{Table: "items"})
	ch := chNew(t, c, "items", binding.Option(), source.WithWaitForPostgres())
	load := func(ctx context.Context) ([]slowItem, error) {
		rows, err := restItems(s, "")(ctx)
		out := make([]slowItem, len(rows))
		for i, r := range rows {
			out[i] = slowItem(r)
		}
		return out, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q, err := source.Live(ctx, ch, binding, func(r slowItem) int64 { return r.ID }, load, source.WithLiveBuffer(4))
	require.NoError(t, err)
	chSubscribe(t, ch)
	first, err := q.WaitSynced(chCtx(t))
	require.NoError(t, err)

	gate := make(chan struct{})
	slowGate.Store(&gate)
	release := sync.OnceFunc(func() { slowGate.Store(nil); close(gate) })
	t.Cleanup(release)
	emitItem(t, s, realtimetest.Update, item{1, 1, "a", 2}) // the query compares rows: held up
	for i := int64(2); i <= 100; i++ {
		emitItem(t, s, realtimetest.Insert, item{i, 1, "burst", 1})
	}
	errs.waitUntil(t, "a slow consumer", func(v []error, _ bool) bool {
		for _, err := range v {
			if errors.Is(err, source.ErrSlowConsumer) {
				return true
			}
		}
		return false
	})
	release()

	want := map[int64]slowItem{}
	for k, r := range serverItems(t, s) {
		want[k] = slowItem(r)
	}
	require.Len(t, want, 100)
	for st := range q.States().All(chCtx(t)) {
		if st.Synced && maps.Equal(st.Rows, want) {
			assert.Greater(t, st.Loads, first.Loads, "the gap was closed by a load")
			cancel()
			<-q.Done()
			return
		}
	}
	t.Fatal("the view never caught up with the server's table after the gap")
}

func TestLiveQueryReloadsARowSentWithoutItsValues(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	var rows atomic.Pointer[[]item]
	rows.Store(&[]item{{1, 1, "short", 1}})
	load := func(context.Context) ([]item, error) { return *rows.Load(), nil }
	ch, q := liveItems(t, c, load)
	states := chRecord(t, q.States())
	chSubscribe(t, ch)
	_, err := q.WaitSynced(chCtx(t))
	require.NoError(t, err)

	// The database holds a long title; the change carries none (Error 413).
	rows.Store(&[]item{{1, 1, strings.Repeat("long ", 20), 2}})
	_, err = s.EmitChange(realtimetest.Change{Type: realtimetest.Update, Schema: "public", Table: "items", Columns: itemColumns,
		Record: map[string]any{"id": 1, "list_id": 1, "rev": 2}, OldRecord: map[string]any{"id": 1},
		Errors: []string{"Error 413: Payload Too Large"}})
	require.NoError(t, err)
	st := waitLive(t, q, "the full row", equalTo(map[int64]item{1: (*rows.Load())[0]}))
	assert.Equal(t, 2, st.Loads)
	for _, st := range states.waitUntil(t, "states", func([]source.LiveState[int64, item], bool) bool { return true }) {
		if r, ok := st.Rows[1]; ok {
			assert.NotEmpty(t, r.Title, "the row without its values is never shown")
		}
	}
}

func TestLiveQueryRetriesAFailedLoad(t *testing.T) {
	s := rtServer(t)
	setItems(t, s, item{1, 1, "a", 1})
	c := chConnect(t, s)
	errs := chRecord(t, c.Errors())
	var calls atomic.Int32
	boom := errors.New("database unavailable (apikey anon-key)")
	load := func(ctx context.Context) ([]item, error) {
		if calls.Add(1) <= 2 {
			return nil, boom
		}
		return restItems(s, "")(ctx)
	}
	ch, q := liveItems(t, c, load, source.WithLiveBackoff(operators.StepBackoff{10 * time.Millisecond}))
	chSubscribe(t, ch)
	st, err := q.WaitSynced(chCtx(t))
	require.NoError(t, err)
	assert.Equal(t, map[int64]item{1: {1, 1, "a", 1}}, st.Rows)
	assert.Equal(t, 1, st.Loads)
	assert.EqualValues(t, 3, calls.Load())

	var loadErrs []*source.LiveLoadError
	for _, err := range errs.waitUntil(t, "two load errors", func(v []error, _ bool) bool { return len(v) >= 2 }) {
		var le *source.LiveLoadError
		if errors.As(err, &le) {
			loadErrs = append(loadErrs, le)
		}
	}
	require.Len(t, loadErrs, 2)
	for i, le := range loadErrs {
		assert.Equal(t, i+1, le.Attempt)
		assert.Equal(t, "realtime:items", le.Topic)
		assert.Equal(t, "public.items", le.Table)
		assert.Equal(t, 10*time.Millisecond, le.Retry)
		assert.ErrorIs(t, le, source.ErrLiveLoad)
		assert.ErrorIs(t, le, boom)
		assert.True(t, strings.HasPrefix(le.Error(), "rxrealtime: live query of public.items"), le.Error())
		assert.NotContains(t, le.Error(), "anon-key", "the API key is removed from the text")
	}
}

func TestLiveQueryLoaderPanicIsALoadError(t *testing.T) {
	s := rtServer(t)
	setItems(t, s)
	c := chConnect(t, s)
	errs := chRecord(t, c.Errors())
	var calls atomic.Int32
	load := func(ctx context.Context) ([]item, error) {
		if calls.Add(1) == 1 {
			panic("loader bug")
		}
		return restItems(s, "")(ctx)
	}
	ch, q := liveItems(t, c, load, source.WithLiveBackoff(operators.StepBackoff{time.Millisecond}))
	chSubscribe(t, ch)
	_, err := q.WaitSynced(chCtx(t))
	require.NoError(t, err)
	got := errs.waitUntil(t, "a load error", func(v []error, _ bool) bool { return len(v) > 0 })
	assert.ErrorIs(t, got[0], source.ErrLiveLoad)
	assert.Contains(t, got[0].Error(), "loader bug")
}

func TestLiveQueryResyncsWhatAFilterHides(t *testing.T) {
	s := rtServer(t)
	setItems(t, s, item{1, 1, "a", 1}, item{2, 1, "b", 1}, item{3, 2, "other list", 1})
	c := chConnect(t, s)
	binding := source.Bind[item](postgres.Binding{Table: "items", Filter: postgres.Eq("list_id", 1)})
	ch := chNew(t, c, "items", binding.Option(), source.WithWaitForPostgres())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q, err := source.Live(ctx, ch, binding, itemKey, restItems(s, "&list_id=eq.1"), source.WithLiveResync(100*time.Millisecond))
	require.NoError(t, err)
	statuses := chRecord(t, ch.Statuses())
	chSubscribe(t, ch)
	st, err := q.WaitSynced(chCtx(t))
	require.NoError(t, err)
	require.Equal(t, map[int64]item{1: {1, 1, "a", 1}, 2: {2, 1, "b", 1}}, st.Rows)

	// The old row of a DELETE holds only the key, so the filter does not
	// match it: the channel never hears of it.
	s.ClearFrames()
	emitItem(t, s, realtimetest.Delete, item{ID: 2})
	st = waitLive(t, q, "row 2 gone", equalTo(map[int64]item{1: {1, 1, "a", 1}}))
	assert.Greater(t, st.Loads, 1)
	for _, f := range s.Frames() {
		assert.NotContains(t, string(f.Data), `"DELETE"`, "the delete was delivered")
	}
	vals, _ := statuses.snapshot()
	assert.Len(t, vals, 2, "no rejoin: JOINING, SUBSCRIBED")
	cancel()
	<-q.Done()
}

func TestLiveQueryRefusesWhatCannotWork(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ok := func(context.Context) ([]item, error) { return nil, nil }
	waiting := chNew(t, c, "waiting", itemsBinding.Option(), source.WithWaitForPostgres())
	notWaiting := chNew(t, c, "not-waiting", itemsBinding.Option())
	inserts := source.Bind[item](postgres.Binding{Event: postgres.Insert, Table: "items"})
	everyTable := source.Bind[item](postgres.Binding{Schema: "public", Table: "*"})
	serverWait := chNew(t, c, "server-wait", itemsBinding.Option(), source.WithPostgresChangesWait(0))
	odd := chNew(t, c, "odd", inserts.Option(), everyTable.Option(), source.WithWaitForPostgres())
	ctx := chCtx(t)

	for _, tc := range []struct {
		name string
		ch   *source.Channel
		b    source.TypedBinding[item]
		key  func(item) int64
		load source.Loader[item]
		opts []source.LiveOption
		want error
	}{
		{"nil channel", nil, itemsBinding, itemKey, ok, nil, source.ErrInvalidChannel},
		{"nil key", waiting, itemsBinding, nil, ok, nil, source.ErrInvalidOption},
		{"nil loader", waiting, itemsBinding, itemKey, nil, nil, source.ErrInvalidOption},
		{"nil backoff", waiting, itemsBinding, itemKey, ok, []source.LiveOption{source.WithLiveBackoff(nil)}, source.ErrInvalidOption},
		{"no buffer", waiting, itemsBinding, itemKey, ok, []source.LiveOption{source.WithLiveBuffer(0)}, source.ErrInvalidOption},
		{"negative resync", waiting, itemsBinding, itemKey, ok, []source.LiveOption{source.WithLiveResync(-time.Second)}, source.ErrInvalidOption},
		{"channel not waiting for postgres", notWaiting, itemsBinding, itemKey, ok, nil, source.ErrInvalidChannel},
		{"binding not on the channel", waiting, source.Bind[item](postgres.Binding{Table: "other"}), itemKey, ok, nil, source.ErrUnknownBinding},
		{"inserts only", odd, inserts, itemKey, ok, nil, source.ErrInvalidChannel},
		{"every table", odd, everyTable, itemKey, ok, nil, source.ErrInvalidChannel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := source.Live(ctx, tc.ch, tc.b, tc.key, tc.load, tc.opts...)
			assert.Nil(t, q)
			assert.ErrorIs(t, err, tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "rxrealtime: "), err.Error())
		})
	}
	q, err := source.Live(ctx, serverWait, itemsBinding, itemKey, ok)
	require.NoError(t, err, "WithPostgresChangesWait is waiting too")
	require.NoError(t, serverWait.Unsubscribe(ctx))
	<-q.Done()
}

func TestLiveQueryStreamsEnd(t *testing.T) {
	s := rtServer(t)
	setItems(t, s, item{1, 1, "a", 1})
	c := chConnect(t, s)
	load := restItems(s, "")
	start := func(t *testing.T, name string, ctx context.Context) (*source.Channel, *source.LiveQuery[int64, item], *chLog[source.LiveState[int64, item]], *chLog[postgres.Diff[int64, item]]) {
		ch := chNew(t, c, name, itemsBinding.Option(), source.WithWaitForPostgres())
		q, err := source.Live(ctx, ch, itemsBinding, itemKey, load)
		require.NoError(t, err)
		states, diffs := chRecord(t, q.States()), chRecord(t, q.Diffs())
		chSubscribe(t, ch)
		_, err = q.WaitSynced(chCtx(t))
		require.NoError(t, err)
		return ch, q, states, diffs
	}
	ended := func(t *testing.T, q *source.LiveQuery[int64, item], states *chLog[source.LiveState[int64, item]], diffs *chLog[postgres.Diff[int64, item]]) {
		t.Helper()
		select {
		case <-q.Done():
		case <-time.After(chWait):
			t.Fatal("the query did not end")
		}
		states.waitUntil(t, "the states to end", func(_ []source.LiveState[int64, item], ended bool) bool { return ended })
		diffs.waitUntil(t, "the diffs to end", func(_ []postgres.Diff[int64, item], ended bool) bool { return ended })
	}

	t.Run("unsubscribe", func(t *testing.T) {
		ch, q, states, diffs := start(t, "unsub", context.Background())
		require.NoError(t, ch.Unsubscribe(chCtx(t)))
		ended(t, q, states, diffs)
		assert.NoError(t, q.Err())
	})
	t.Run("server close", func(t *testing.T) {
		_, q, states, diffs := start(t, "closed", context.Background())
		require.Equal(t, 1, s.Faults().ShutdownChannels("realtime:closed", "You no longer have permission"))
		ended(t, q, states, diffs)
		last, _ := q.State()
		assert.False(t, last.Synced, "an ended query is not synced")
		var cr *source.CloseReason
		assert.ErrorAs(t, q.Err(), &cr)
		_, err := q.WaitSynced(chCtx(t))
		assert.ErrorIs(t, err, source.ErrChannelClosed)
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		_, q, states, diffs := start(t, "ctx", ctx)
		cancel()
		ended(t, q, states, diffs)
		assert.NoError(t, q.Err())
	})
	t.Run("client close", func(t *testing.T) {
		c2 := chConnect(t, s)
		ch := chNew(t, c2, "client", itemsBinding.Option(), source.WithWaitForPostgres())
		q, err := source.Live(context.Background(), ch, itemsBinding, itemKey, load)
		require.NoError(t, err)
		states, diffs := chRecord(t, q.States()), chRecord(t, q.Diffs())
		chSubscribe(t, ch)
		require.NoError(t, c2.Close(chCtx(t)))
		ended(t, q, states, diffs)
	})
}
