package realtimetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

var todoColumns = []realtimetest.Column{
	{Name: "id", Type: "int8", PrimaryKey: true},
	{Name: "room", Type: "text"},
	{Name: "done", Type: "bool"},
	{Name: "title", Type: "text"},
}

// restResponse is what a GET /rest/v1 request got.
type restResponse struct {
	status int
	header http.Header
	body   string
}

// get sends GET /rest/v1/<path> with an apikey header and the given
// headers (name, value pairs).
func get(t *testing.T, s *realtimetest.Server, path string, headers ...string) restResponse {
	t.Helper()
	return getWith(t, s, path, append([]string{"apikey", "anon-key"}, headers...)...)
}

// getWith is get without the default apikey.
func getWith(t *testing.T, s *realtimetest.Server, path string, headers ...string) restResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.HTTPURL()+"/rest/v1/"+path, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return restResponse{status: res.StatusCode, header: res.Header, body: string(body)}
}

// emit sends a change to the todos table.
func emit(t *testing.T, s *realtimetest.Server, typ string, rec, old any) {
	t.Helper()
	_, err := s.EmitChange(realtimetest.Change{Type: typ, Schema: "public", Table: "todos", Columns: todoColumns,
		Record: rec, OldRecord: old})
	require.NoError(t, err)
}

func TestTableReadReflectsInsertsUpdatesAndDeletes(t *testing.T) {
	s := realtimetest.NewServer()
	t.Cleanup(s.Close)
	emit(t, s, realtimetest.Insert, map[string]any{"id": 1, "room": "a", "done": false, "title": "one"}, nil)
	emit(t, s, realtimetest.Insert, map[string]any{"title": "two", "id": 2, "room": "a", "done": false}, nil)
	emit(t, s, realtimetest.Insert, []byte(`{"id":3,"room":"b","done":true}`), nil)

	res := get(t, s, "todos?select=*")
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "application/json; charset=utf-8", res.header.Get("Content-Type"))
	assert.Equal(t, "0-2/*", res.header.Get("Content-Range"))
	// Columns in table order, null for a column the row lacks.
	assert.Equal(t, `[{"id":1,"room":"a","done":false,"title":"one"},{"id":2,"room":"a","done":false,"title":"two"},`+
		`{"id":3,"room":"b","done":true,"title":null}]`, res.body)

	// UPDATE finds its row by the key in the old record (or in the new one
	// when the old record has none); DELETE by the old record's key.
	emit(t, s, realtimetest.Update, map[string]any{"id": 2, "room": "a", "done": true, "title": "two!"}, map[string]any{"id": 2})
	emit(t, s, realtimetest.Update, map[string]any{"id": 3, "room": "c", "done": true, "title": "three"}, nil)
	emit(t, s, realtimetest.Delete, nil, map[string]any{"id": 1})
	emit(t, s, realtimetest.Delete, nil, map[string]any{"id": 99}) // no such row
	// An INSERT of a key the table has replaces that row.
	emit(t, s, realtimetest.Insert, map[string]any{"id": 3, "room": "c", "done": false, "title": "three again"}, nil)
	// An UPDATE of a row the table never had adds it.
	emit(t, s, realtimetest.Update, map[string]any{"id": 4, "room": "d", "done": false, "title": "four"}, map[string]any{"id": 4})

	res = get(t, s, "todos?select=*")
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, `[{"id":2,"room":"a","done":true,"title":"two!"},{"id":3,"room":"c","done":false,"title":"three again"},`+
		`{"id":4,"room":"d","done":false,"title":"four"}]`, res.body)

	// A key change: the old record names the row, the new one replaces it.
	emit(t, s, realtimetest.Update, map[string]any{"id": 5, "room": "d", "done": false, "title": "four"}, map[string]any{"id": 4})
	res = get(t, s, "todos?select=id")
	assert.Equal(t, `[{"id":2},{"id":3},{"id":5}]`, res.body)
}

func TestTableReadOfATableWithoutPrimaryKey(t *testing.T) {
	s := realtimetest.NewServer()
	t.Cleanup(s.Close)
	cols := []realtimetest.Column{{Name: "room", Type: "text"}, {Name: "n", Type: "int4"}}
	change := func(typ string, rec, old any) {
		_, err := s.EmitChange(realtimetest.Change{Type: typ, Schema: "public", Table: "log", Columns: cols, Record: rec, OldRecord: old})
		require.NoError(t, err)
	}
	change(realtimetest.Insert, map[string]any{"room": "a", "n": 1}, nil)
	change(realtimetest.Insert, map[string]any{"room": "a", "n": 1}, nil)
	change(realtimetest.Insert, map[string]any{"room": "b", "n": 2}, nil)
	assert.Equal(t, `[{"room":"a","n":1},{"room":"a","n":1},{"room":"b","n":2}]`, get(t, s, "log").body,
		"without a key every insert is a row")
	// Without a key, UPDATE and DELETE find the row by every field of the
	// old record (REPLICA IDENTITY FULL).
	change(realtimetest.Update, map[string]any{"room": "b", "n": 3}, map[string]any{"room": "b", "n": 2})
	change(realtimetest.Delete, nil, map[string]any{"room": "a", "n": 1})
	change(realtimetest.Delete, nil, map[string]any{}) // finds nothing
	assert.Equal(t, `[{"room":"a","n":1},{"room":"b","n":3}]`, get(t, s, "log").body)
}

func TestTableReadFilters(t *testing.T) {
	s := realtimetest.NewServer()
	t.Cleanup(s.Close)
	emit(t, s, realtimetest.Insert, map[string]any{"id": 1, "room": "a", "done": false, "title": "x y"}, nil)
	emit(t, s, realtimetest.Insert, map[string]any{"id": 2, "room": "a", "done": true, "title": "z"}, nil)
	emit(t, s, realtimetest.Insert, map[string]any{"id": 10, "room": "b", "done": true, "title": nil}, nil)

	for _, tc := range []struct{ query, want string }{
		{"select=id&room=eq.a", `[{"id":1},{"id":2}]`},
		{"select=id&room=eq.a&done=eq.true", `[{"id":2}]`},             // ANDed
		{"select=id&done=eq.true&id=eq.10", `[{"id":10}]`},             // int8 compared as a number
		{"select=id&id=eq.010", `[{"id":10}]`},                         // ... as Postgres casts it
		{"select=id&title=eq." + url.QueryEscape("x y"), `[{"id":1}]`}, // an escaped value
		{"select=id&room=eq.c", `[]`},
		{"select=id&title=eq.null", `[]`}, // eq never matches NULL
		{"select=id&title=is.null", `[{"id":10}]`},
		{"select=id&id=gt.1&id=lt.10", `[{"id":2}]`}, // one column twice, ANDed
		{"select=id&id=in.(1,10)", `[{"id":1},{"id":10}]`},
		{"select=id&room=neq.a", `[{"id":10}]`},
		{"select=id&room=not.eq.a", `[{"id":10}]`},
	} {
		res := get(t, s, "todos?"+tc.query)
		assert.Equal(t, http.StatusOK, res.status, tc.query)
		assert.Equal(t, tc.want, res.body, tc.query)
	}
	res := get(t, s, "todos?select=id&room=eq.c")
	assert.Equal(t, "*/*", res.header.Get("Content-Range"), "an empty result")
}

func TestTableReadRefusals(t *testing.T) {
	s := realtimetest.NewServer()
	t.Cleanup(s.Close)
	emit(t, s, realtimetest.Insert, map[string]any{"id": 1, "room": "a", "done": false, "title": "x"}, nil)

	res := get(t, s, "nothere?select=*")
	assert.Equal(t, http.StatusNotFound, res.status)
	assert.Equal(t, "application/json; charset=utf-8", res.header.Get("Content-Type"))
	assert.JSONEq(t, `{"code":"PGRST205","details":null,"hint":null,`+
		`"message":"Could not find the table 'public.nothere' in the schema cache"}`, res.body)
	res = get(t, s, "todos?select=*", "Accept-Profile", "private")
	assert.Equal(t, http.StatusNotFound, res.status, "another schema")
	assert.Contains(t, res.body, `'private.todos'`)

	for _, q := range []string{"id=eq.1&nope=eq.1", "select=id,nope", "order=nope"} {
		res = get(t, s, "todos?"+q)
		assert.Equal(t, http.StatusBadRequest, res.status, q)
		assert.JSONEq(t, `{"code":"42703","details":null,"hint":null,"message":"column todos.nope does not exist"}`, res.body, q)
	}

	for _, tc := range []struct{ query, message string }{
		{"select=id,rooms(*)", "failed to parse select parameter (id,rooms(*))"},
		{"select=total:id", "failed to parse select parameter (total:id)"},
		{"select=*,id", "failed to parse select parameter (*,id)"},
		{"id=5", "failed to parse filter (5)"},
		{"id=eqq.5", "failed to parse filter (eqq.5)"},
		{"or=(id.eq.1,id.eq.2)", "failed to parse logic tree ((id.eq.1,id.eq.2))"},
		{"order=id.sideways", "failed to parse order (id.sideways)"},
		{"limit=-1", "failed to parse limit parameter (-1)"},
		{"offset=x", "failed to parse offset parameter (x)"},
	} {
		res = get(t, s, "todos?"+tc.query)
		assert.Equal(t, http.StatusBadRequest, res.status, tc.query)
		assert.Equal(t, "PGRST100", jsonString(t, res.body, "code"), tc.query)
		assert.Equal(t, tc.message, jsonString(t, res.body, "message"), tc.query)
	}
	res = get(t, s, "todos?select=id,rooms(*)")
	assert.Contains(t, jsonString(t, res.body, "hint"), "realtimetest serves", "an emulator limit says so")

	// HEAD answers as GET does, without the body.
	head, err := http.NewRequest(http.MethodHead, s.HTTPURL()+"/rest/v1/todos?select=*", nil)
	require.NoError(t, err)
	head.Header.Set("apikey", "anon-key")
	head.Header.Set("Prefer", "count=exact")
	hres, err := http.DefaultClient.Do(head)
	require.NoError(t, err)
	hbody, err := io.ReadAll(hres.Body)
	require.NoError(t, err)
	_ = hres.Body.Close()
	assert.Equal(t, http.StatusOK, hres.StatusCode)
	assert.Equal(t, "0-0/1", hres.Header.Get("Content-Range"))
	assert.Empty(t, hbody)

	// Only reads: other methods are not routed.
	req, err := http.NewRequest(http.MethodPost, s.HTTPURL()+"/rest/v1/todos", nil)
	require.NoError(t, err)
	req.Header.Set("apikey", "anon-key")
	post, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = post.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
}

func TestTableReadAuth(t *testing.T) {
	const secret = "super-secret-jwt-token-with-at-least-32-characters"
	s := realtimetest.NewServer(realtimetest.WithJWTSecret(secret))
	t.Cleanup(s.Close)
	require.NoError(t, s.SetTable(realtimetest.Table{Schema: "public", Name: "todos", Columns: todoColumns,
		Rows: []any{map[string]any{"id": 1, "room": "a", "done": false, "title": "x"}}}))
	good := s.Token("anon", time.Hour)
	expired, err := realtimetest.SignJWT([]byte(secret), map[string]any{"role": "anon", "exp": time.Now().Add(-time.Minute).Unix()})
	require.NoError(t, err)
	forged, err := realtimetest.SignJWT([]byte("another-secret"), map[string]any{"role": "anon", "exp": time.Now().Add(time.Hour).Unix()})
	require.NoError(t, err)

	res := getWith(t, s, "todos?select=id")
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.JSONEq(t, `{"message":"No API key found in request"}`, res.body)

	for name, headers := range map[string][]string{
		"apikey header":          {"apikey", good},
		"bearer":                 {"Authorization", "Bearer " + good},
		"bearer before apikey":   {"Authorization", "Bearer " + good, "apikey", forged},
		"apikey query parameter": nil,
	} {
		path := "todos?select=id"
		if headers == nil {
			path += "&apikey=" + url.QueryEscape(good)
		}
		res = getWith(t, s, path, headers...)
		assert.Equal(t, http.StatusOK, res.status, name)
		assert.Equal(t, `[{"id":1}]`, res.body, name)
	}

	res = getWith(t, s, "todos", "apikey", good, "Authorization", "Bearer "+expired)
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.JSONEq(t, `{"code":"PGRST303","details":null,"hint":null,"message":"JWT expired"}`, res.body)
	assert.Equal(t, `Bearer error="invalid_token", error_description="JWT expired"`, res.header.Get("WWW-Authenticate"))

	for name, tok := range map[string]string{"forged": forged, "not a JWT": "anon-key"} {
		res = getWith(t, s, "todos", "Authorization", "Bearer "+tok)
		assert.Equal(t, http.StatusUnauthorized, res.status, name)
		assert.Equal(t, "PGRST301", jsonString(t, res.body, "code"), name)
		assert.NotContains(t, res.body, `[{"id"`, name)
	}

	// Without WithJWTSecret any key is accepted, but one is required.
	open := realtimetest.NewServer()
	t.Cleanup(open.Close)
	require.NoError(t, open.SetTable(realtimetest.Table{Schema: "public", Name: "todos"}))
	assert.Equal(t, http.StatusOK, getWith(t, open, "todos", "apikey", "anything").status)
	assert.Equal(t, http.StatusUnauthorized, getWith(t, open, "todos", "Authorization", "Basic abc").status)
}

func TestTableReadOrderAndRange(t *testing.T) {
	s := realtimetest.NewServer()
	t.Cleanup(s.Close)
	for _, r := range []map[string]any{
		{"id": 1, "room": "b", "title": "t1"},
		{"id": 2, "room": "a", "title": nil},
		{"id": 3, "room": "b", "title": "t3"},
		{"id": 10, "room": "a", "title": "t10"},
		{"id": 5, "room": nil, "title": "t5"},
	} {
		emit(t, s, realtimetest.Insert, r, nil)
	}
	ids := func(query string, headers ...string) (string, restResponse) {
		t.Helper()
		res := get(t, s, "todos?select=id&"+query, headers...)
		return res.body, res
	}
	body, _ := ids("order=id")
	assert.Equal(t, `[{"id":1},{"id":2},{"id":3},{"id":5},{"id":10}]`, body, "numbers, not text")
	body, _ = ids("order=id.desc")
	assert.Equal(t, `[{"id":10},{"id":5},{"id":3},{"id":2},{"id":1}]`, body)
	body, _ = ids("order=room,id.desc")
	assert.Equal(t, `[{"id":10},{"id":2},{"id":3},{"id":1},{"id":5}]`, body, "nulls last ascending")
	body, _ = ids("order=room.desc,id")
	assert.Equal(t, `[{"id":5},{"id":1},{"id":3},{"id":2},{"id":10}]`, body, "nulls first descending")
	body, _ = ids("order=room.asc.nullsfirst,id")
	assert.Equal(t, `[{"id":5},{"id":2},{"id":10},{"id":1},{"id":3}]`, body)
	body, _ = ids("order=title.desc.nullslast")
	assert.Equal(t, `[{"id":5},{"id":3},{"id":10},{"id":1},{"id":2}]`, body, "text")

	body, res := ids("order=id&limit=2&offset=1")
	assert.Equal(t, `[{"id":2},{"id":3}]`, body)
	assert.Equal(t, http.StatusOK, res.status, "no count: nothing to be partial about")
	assert.Equal(t, "1-2/*", res.header.Get("Content-Range"))

	body, res = ids("order=id", "Range", "1-3", "Prefer", "count=exact")
	assert.Equal(t, `[{"id":2},{"id":3},{"id":5}]`, body)
	assert.Equal(t, http.StatusPartialContent, res.status)
	assert.Equal(t, "1-3/5", res.header.Get("Content-Range"))

	body, res = ids("order=id&offset=2", "Range", "0-3")
	assert.Equal(t, `[{"id":3},{"id":5}]`, body, "Range and offset intersect")
	assert.Equal(t, "2-3/*", res.header.Get("Content-Range"))

	body, res = ids("order=id", "Range", "3-")
	assert.Equal(t, `[{"id":5},{"id":10}]`, body, "an open range")
	assert.Equal(t, "3-4/*", res.header.Get("Content-Range"))

	body, res = ids("order=id&limit=0", "Prefer", "count=exact")
	assert.Equal(t, `[]`, body)
	assert.Equal(t, "*/5", res.header.Get("Content-Range"))

	_, res = ids("room=eq.a", "Prefer", "count=exact")
	assert.Equal(t, http.StatusOK, res.status, "everything that matched")
	assert.Equal(t, "0-1/2", res.header.Get("Content-Range"))

	_, res = ids("offset=7", "Prefer", "count=exact")
	assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, res.status)
	assert.Equal(t, "PGRST103", jsonString(t, res.body, "code"))
	assert.Equal(t, "*/5", res.header.Get("Content-Range"))
	body, res = ids("offset=7")
	assert.Equal(t, http.StatusOK, res.status, "without a count the server cannot know")
	assert.Equal(t, `[]`, body)

	_, res = ids("", "Range", "3-1")
	assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, res.status)
	body, res = ids("order=id", "Range", "items=0-1")
	assert.Equal(t, http.StatusOK, res.status, "a Range PostgREST does not read is ignored")
	assert.Equal(t, `[{"id":1},{"id":2},{"id":3},{"id":5},{"id":10}]`, body)
}

func TestSetTable(t *testing.T) {
	s := realtimetest.NewServer()
	require.NoError(t, s.SetTable(realtimetest.Table{Schema: "public", Name: "todos", Columns: todoColumns,
		Rows: []any{
			map[string]any{"title": "seeded", "id": 7},
			[]byte(`{"id":8,"room":"r","done":true,"title":"raw","extra":{"a":1}}`),
		}}))
	res := get(t, s, "todos")
	assert.Equal(t, `[{"id":7,"room":null,"done":null,"title":"seeded"},{"id":8,"room":"r","done":true,"title":"raw","extra":{"a":1}}]`, res.body)
	// Changes apply to a set table, with its key.
	emit(t, s, realtimetest.Delete, nil, map[string]any{"id": 7})
	assert.Equal(t, `[{"id":8}]`, get(t, s, "todos?select=id").body)

	// An empty table exists.
	require.NoError(t, s.SetTable(realtimetest.Table{Schema: "public", Name: "empty"}))
	res = get(t, s, "empty?select=*")
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, `[]`, res.body)
	// Setting a table again replaces its rows.
	require.NoError(t, s.SetTable(realtimetest.Table{Schema: "public", Name: "todos", Columns: todoColumns}))
	assert.Equal(t, `[]`, get(t, s, "todos").body)

	err := s.SetTable(realtimetest.Table{Schema: "public"})
	assert.ErrorIs(t, err, realtimetest.ErrInvalidChange)
	err = s.SetTable(realtimetest.Table{Schema: "public", Name: "t", Rows: []any{[]byte(`[1]`)}})
	assert.ErrorIs(t, err, realtimetest.ErrInvalidChange)
	err = s.SetTable(realtimetest.Table{Schema: "public", Name: "t", Rows: []any{nil}})
	assert.ErrorIs(t, err, realtimetest.ErrInvalidChange)
	s.Close()
	assert.ErrorIs(t, s.SetTable(realtimetest.Table{Schema: "public", Name: "t"}), realtimetest.ErrServerClosed)
}

func TestTableKeepsChangesDroppedByTheEventsLimit(t *testing.T) {
	s := realtimetest.NewServer(realtimetest.WithMaxEventsPerSecond(1))
	t.Cleanup(s.Close)
	for range 60 { // 60 events in the minute: 1 a second on average
		_, err := s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "room", Event: "e"})
		require.NoError(t, err)
	}
	n, err := s.EmitChange(realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos",
		Columns: todoColumns, Record: map[string]any{"id": 1}})
	require.NoError(t, err)
	assert.Zero(t, n, "the change is not delivered")
	assert.Equal(t, `[{"id":1}]`, get(t, s, "todos?select=id").body, "but the row was written")
}

func TestTableReadIsRecorded(t *testing.T) {
	s := realtimetest.NewServer()
	t.Cleanup(s.Close)
	require.NoError(t, s.SetTable(realtimetest.Table{Schema: "public", Name: "todos"}))
	get(t, s, "todos?select=*&room=eq.a", "Authorization", "Bearer tok")
	reqs := s.RESTRequests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodGet, reqs[0].Method)
	assert.Equal(t, "/rest/v1/todos", reqs[0].Path)
	assert.Equal(t, "select=*&room=eq.a", reqs[0].RawQuery)
	assert.Equal(t, "anon-key", reqs[0].APIKey)
	assert.Equal(t, "Bearer tok", reqs[0].Authorization)
}

// jsonString returns the string field key of a JSON object.
func jsonString(t *testing.T, body, key string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	v, _ := m[key].(string)
	return v
}
