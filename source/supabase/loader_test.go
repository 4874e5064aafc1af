package supabase

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// todo is a row of public.todos.
type todo struct {
	ID     int64  `json:"id"`
	ListID int64  `json:"list_id"`
	Title  string `json:"title"`
}

var todoColumns = []realtimetest.Column{
	{Name: "id", Type: "int8", PrimaryKey: true},
	{Name: "list_id", Type: "int8"},
	{Name: "title", Type: "text"},
}

func setTodos(t *testing.T, srv *realtimetest.Server, rows ...todo) {
	t.Helper()
	anys := make([]any, len(rows))
	for i, r := range rows {
		anys[i] = r
	}
	require.NoError(t, srv.SetTable(realtimetest.Table{Schema: "public", Name: "todos", Columns: todoColumns, Rows: anys}))
}

// noIdle is an HTTP client that keeps no connection open: no goroutine
// outlives a test.
var noIdle = WithLoaderHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}})

func lastRead(t *testing.T, srv *realtimetest.Server) realtimetest.RESTRequest {
	t.Helper()
	reqs := srv.RESTRequests()
	require.NotEmpty(t, reqs)
	r := reqs[len(reqs)-1]
	require.Equal(t, http.MethodGet, r.Method)
	return r
}

func TestLoaderReadsWhatTheBindingSelects(t *testing.T) {
	f := newFixture(t, time.Hour)
	setTodos(t, f.srv, todo{1, 1, "a"}, todo{2, 2, "b"}, todo{3, 1, "c, with a comma"})
	c := f.connect(t)
	b := source.Bind[todo](postgres.Binding{Table: "todos", Filter: postgres.Eq("list_id", 1)})
	load, err := Loader(c, b, noIdle)
	require.NoError(t, err)
	rows, err := load(context.Background())
	require.NoError(t, err)
	assert.ElementsMatch(t, []todo{{1, 1, "a"}, {3, 1, "c, with a comma"}}, rows)

	r := lastRead(t, f.srv)
	assert.Equal(t, "/rest/v1/todos", r.Path)
	assert.Equal(t, "select=*&list_id=eq.1", r.RawQuery)
	assert.Equal(t, f.anon, r.APIKey, "the socket's API key")
	assert.Equal(t, "Bearer "+f.first, r.Authorization, "the session's token, as the socket's")

	// Several conditions, quoting, not.: PostgREST reads the same syntax.
	b = source.Bind[todo](postgres.Binding{Table: "todos",
		Filter: postgres.And(postgres.In("title", "a", "c, with a comma"), postgres.Not(postgres.Eq("id", 1)))})
	load, err = Loader(c, b, noIdle)
	require.NoError(t, err)
	rows, err = load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []todo{{3, 1, "c, with a comma"}}, rows)
	assert.Equal(t, `select=*&title=in.(a,%22c,%20with%20a%20comma%22)&id=not.eq.1`, lastRead(t, f.srv).RawQuery)
}

func TestLoaderReadsAnotherSchemaAndColumns(t *testing.T) {
	f := newFixture(t, time.Hour)
	require.NoError(t, f.srv.SetTable(realtimetest.Table{Schema: "private", Name: "notes",
		Columns: []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "body", Type: "text"}, {Name: "secret", Type: "text"}},
		Rows:    []any{map[string]any{"id": 1, "body": "x", "secret": "s"}}}))
	c := f.connect(t)
	type note struct {
		ID     int64  `json:"id"`
		Body   string `json:"body"`
		Secret string `json:"secret"`
	}
	load, err := Loader(c, source.Bind[note](postgres.Binding{Schema: "private", Table: "notes", Select: []string{"id", "body"}}), noIdle)
	require.NoError(t, err)
	rows, err := load(context.Background())
	require.NoError(t, err, "the Accept-Profile header names the schema")
	assert.Equal(t, []note{{ID: 1, Body: "x"}}, rows, "only the binding's columns")
	assert.Equal(t, "select=id,body", lastRead(t, f.srv).RawQuery)
}

func TestLoaderOfAnAnonymousClientUsesTheAPIKey(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.WithJWTSecret(jwtSecret))
	t.Cleanup(srv.Close)
	setTodos(t, srv, todo{1, 1, "a"})
	anon := srv.Token("anon", time.Hour)
	c, err := NewClient(srv.HTTPURL(), anon, nil)
	require.NoError(t, err)
	defer c.Close(context.Background())
	load, err := Loader(c, source.Bind[todo](postgres.Binding{Table: "todos"}), noIdle)
	require.NoError(t, err)
	rows, err := load(context.Background())
	require.NoError(t, err)
	assert.Len(t, rows, 1)
	assert.Equal(t, "Bearer "+anon, lastRead(t, srv).Authorization)
}

func TestLoaderErrors(t *testing.T) {
	f := newFixture(t, time.Hour)
	c := f.connect(t)
	ctx := context.Background()

	load, err := Loader(c, source.Bind[todo](postgres.Binding{Table: "missing"}), noIdle)
	require.NoError(t, err)
	_, err = load(ctx)
	var se *SelectError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, ErrSelect)
	assert.Equal(t, http.StatusNotFound, se.Status)
	assert.Equal(t, "PGRST205", se.Code)
	assert.Equal(t, "public.missing", se.Table)
	assert.True(t, strings.HasPrefix(se.Error(), "rxrealtime: select public.missing: 404 Not Found: "), se.Error())

	setTodos(t, f.srv, todo{1, 1, "a"})
	load, err = Loader(c, source.Bind[todo](postgres.Binding{Schema: "public", Table: "todos", Select: []string{"nope"}}), noIdle)
	require.NoError(t, err)
	_, err = load(ctx)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusBadRequest, se.Status)
	assert.Equal(t, "42703", se.Code)

	_, err = Loader(c, source.Bind[todo](postgres.Binding{Schema: "public", Table: "*"}))
	assert.ErrorIs(t, err, ErrLoader)
	_, err = Loader(c, source.Bind[todo](postgres.Binding{Table: "todos", Filter: postgres.Eq("", 1)}))
	assert.ErrorIs(t, err, ErrLoader)
	_, err = Loader[todo](nil, source.Bind[todo](postgres.Binding{Table: "todos"}))
	assert.ErrorIs(t, err, ErrLoader)

	sock, err := NewClient(f.srv.URL(), f.anon, nil) // ws://…/socket: where is PostgREST?
	require.NoError(t, err)
	defer sock.Close(ctx)
	_, err = Loader(sock, source.Bind[todo](postgres.Binding{Table: "todos"}))
	assert.ErrorIs(t, err, ErrLoader)
	assert.True(t, strings.HasPrefix(err.Error(), "rxrealtime: "), err.Error())
}

// socketTokens are the access tokens the socket sent on topic (in its joins
// and access_token pushes) from its last join on.
func socketTokens(t *testing.T, srv *realtimetest.Server, topic string) []string {
	t.Helper()
	var toks []string
	for _, fr := range srv.Frames() {
		if fr.Dir != realtimetest.In || fr.Msg.Topic != topic {
			continue
		}
		var p struct {
			AccessToken string `json:"access_token"`
		}
		switch fr.Msg.Event {
		case phoenix.EventJoin:
			toks = toks[:0]
		case phoenix.EventAccessToken:
		default:
			continue
		}
		require.NoError(t, json.Unmarshal(fr.Msg.Payload, &p))
		toks = append(toks, p.AccessToken)
	}
	require.NotEmpty(t, toks)
	return toks
}

// TestLiveQueryAcrossTokenExpiry: a live query loading through the
// PostgREST loader keeps the server's table across an expired token and a
// dropped socket, and each load carries the token the socket's rejoin did.
func TestLiveQueryAcrossTokenExpiry(t *testing.T) {
	f := newFixture(t, 2*time.Second, WithRefreshMargin(time.Second))
	setTodos(t, f.srv, todo{1, 1, "a"}, todo{2, 2, "other list"})
	c := f.connect(t)
	b := source.Bind[todo](postgres.Binding{Table: "todos", Filter: postgres.Eq("list_id", 1)})
	ch, err := c.Channel("todos", b.Option(), source.WithWaitForPostgres())
	require.NoError(t, err)
	load, err := Loader(c, b, noIdle)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	q, err := source.Live(ctx, ch, b, func(r todo) int64 { return r.ID }, load)
	require.NoError(t, err)
	defer func() { cancel(); <-q.Done() }()
	require.NoError(t, ch.Subscribe(ctx))
	_, err = q.WaitSynced(ctx)
	require.NoError(t, err)

	emit := func(typ string, r todo) {
		t.Helper()
		_, err := f.srv.EmitChange(realtimetest.Change{Type: typ, Schema: "public", Table: "todos", Columns: todoColumns,
			Record: r, OldRecord: map[string]any{"id": r.ID, "list_id": r.ListID}})
		require.NoError(t, err)
	}
	// The server's rows, read with a key of the test's own, to tell its
	// reads from the query's.
	service := f.srv.Token("service_role", time.Hour)
	want := func() map[int64]todo {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.HTTPURL()+"/rest/v1/todos?list_id=eq.1", nil)
		require.NoError(t, err)
		req.Header.Set("apikey", service)
		req.Close = true
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var rows []todo
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&rows))
		m := map[int64]todo{}
		for _, r := range rows {
			m[r.ID] = r
		}
		return m
	}
	waitFor := func(what string, loads int, m map[int64]todo) {
		t.Helper()
		for st := range q.States().All(ctx) {
			if st.Synced && st.Loads >= loads && maps.Equal(st.Rows, m) {
				return
			}
		}
		t.Fatalf("timed out waiting for %s", what)
	}

	for _, fault := range []struct {
		name string
		do   func()
	}{
		{"token expiry", func() { require.Equal(t, 1, f.srv.Faults().ExpireTokens("")) }},
		{"dropped socket", func() { f.srv.Faults().DropAll() }},
	} {
		// Wait for the session to refresh, so that the next join carries another token.
		before := f.gt.Refreshes()
		deadline := time.Now().Add(5 * time.Second)
		for f.gt.Refreshes() == before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		require.Greater(t, f.gt.Refreshes(), before)
		st, _ := q.State()
		emit(realtimetest.Insert, todo{10 + int64(st.Loads), 1, "live"})
		fault.do()
		emit(realtimetest.Insert, todo{20 + int64(st.Loads), 1, "while " + fault.name})
		emit(realtimetest.Update, todo{1, 1, "a after " + fault.name})
		waitFor("the table after the "+fault.name, st.Loads+1, want())

		var loadAuth string
		for _, r := range f.srv.RESTRequests() {
			if r.APIKey == f.anon {
				loadAuth = r.Authorization // the query's last load
			}
		}
		tok, ok := strings.CutPrefix(loadAuth, "Bearer ")
		require.True(t, ok, loadAuth)
		assert.Contains(t, socketTokens(t, f.srv, "realtime:todos"), tok, "%s: the load carries the socket's token", fault.name)
		assert.NotEqual(t, f.first, tok, "%s: a refreshed token", fault.name)
	}
}
