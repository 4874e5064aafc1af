package source_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

type todo struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Done  bool   `json:"done"`
}

var todoColumns = []realtimetest.Column{
	{Name: "id", Type: "int8", PrimaryKey: true},
	{Name: "title", Type: "text"},
	{Name: "done", Type: "bool"},
}

// serverIDs returns the binding ids of the last join reply on topic.
func serverIDs(t *testing.T, s *realtimetest.Server, topic string) []int {
	t.Helper()
	var ids []int
	for _, f := range s.Frames() {
		if f.Dir != realtimetest.Out || f.Msg.Topic != topic || f.Msg.Event != phoenix.EventReply {
			continue
		}
		var r struct {
			Status   string `json:"status"`
			Response struct {
				PG []struct {
					ID int `json:"id"`
				} `json:"postgres_changes"`
			} `json:"response"`
		}
		if json.Unmarshal(f.Msg.Payload, &r) == nil && r.Status == "ok" && r.Response.PG != nil {
			ids = ids[:0]
			for _, b := range r.Response.PG {
				ids = append(ids, b.ID)
			}
		}
	}
	require.NotEmpty(t, ids, "no join reply with bindings on %s", topic)
	return ids
}

func emit(t *testing.T, s *realtimetest.Server, c realtimetest.Change) int {
	t.Helper()
	n, err := s.EmitChange(c)
	require.NoError(t, err)
	return n
}

func errorLog(t *testing.T, c *source.Client) *chLog[error] {
	t.Helper()
	return chRecord(t, c.Errors())
}

func TestPostgresFiltersOnTheWire(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "db", source.WithPostgresChanges(
		postgres.Binding{Event: postgres.Insert, Table: "messages", Filter: postgres.Eq("room", "lobby")},
		postgres.Binding{Event: postgres.Update, Schema: "public", Table: "todos", Filter: postgres.In("id", 1, 2, 3)},
		postgres.Binding{Event: postgres.Delete, Table: "todos", Filter: postgres.And(postgres.Gt("id", 10), postgres.Not(postgres.Eq("title", "a,b")))},
		postgres.Binding{Event: postgres.Insert, Table: "messages", Filter: postgres.Eq("room", "lobby")}, // a duplicate: sent once
		postgres.Binding{Table: "audit", Select: []string{"id", "what"}},
	))
	got := messageLog(t, ch, source.Changes[map[string]any](ch))
	chSubscribe(t, ch)

	j := decodeJoin(t, waitIn(t, s, "realtime:db", "phx_join", 1)[0])
	assert.Equal(t, []map[string]any{
		{"event": "INSERT", "schema": "public", "table": "messages", "filter": "room=eq.lobby"},
		{"event": "UPDATE", "schema": "public", "table": "todos", "filter": "id=in.(1,2,3)"},
		{"event": "DELETE", "schema": "public", "table": "todos", "filter": `id=gt.10,title=not.eq."a,b"`},
		{"event": "*", "schema": "public", "table": "audit", "select": []any{"id", "what"}},
	}, j.Config.PostgresChanges)

	// The server filters rows; what it sends, the channel delivers.
	msgCols := []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "room", Type: "text"}}
	assert.Equal(t, 0, emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "messages",
		Columns: msgCols, Record: map[string]any{"id": 1, "room": "kitchen"}}))
	assert.Equal(t, 0, emit(t, s, realtimetest.Change{Type: realtimetest.Update, Schema: "public", Table: "todos",
		Columns: todoColumns, Record: map[string]any{"id": 7, "title": "x"}}))
	assert.Equal(t, 0, emit(t, s, realtimetest.Change{Type: realtimetest.Delete, Schema: "public", Table: "todos",
		Columns: todoColumns, OldRecord: map[string]any{"id": 11, "title": "a,b"}}))
	assert.Equal(t, 1, emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "messages",
		Columns: msgCols, Record: map[string]any{"id": 2, "room": "lobby"}}))
	assert.Equal(t, 1, emit(t, s, realtimetest.Change{Type: realtimetest.Update, Schema: "public", Table: "todos",
		Columns: todoColumns, Record: map[string]any{"id": 3, "title": "y"}}))
	assert.Equal(t, 1, emit(t, s, realtimetest.Change{Type: realtimetest.Delete, Schema: "public", Table: "todos",
		Columns: todoColumns, OldRecord: map[string]any{"id": 12, "title": "z"}}))
	assert.Equal(t, 1, emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "audit",
		Columns: []realtimetest.Column{{Name: "id", Type: "int4", PrimaryKey: true}, {Name: "what", Type: "text"}, {Name: "secret", Type: "text"}},
		Record:  map[string]any{"id": 5, "what": "login", "secret": "s3"}}))

	vals := got.waitUntil(t, "four changes", func(v []postgres.Change[map[string]any], _ bool) bool { return len(v) >= 4 })
	require.Len(t, vals, 4)
	assert.Equal(t, "lobby", vals[0].New["room"])
	assert.Equal(t, int64(3), vals[1].New["id"])
	assert.Equal(t, int64(12), vals[2].Old["id"])
	assert.Equal(t, map[string]any{"id": int64(5), "what": "login"}, vals[3].New, "select keeps the listed columns and the key")
	ids := serverIDs(t, s, "realtime:db")
	require.Len(t, ids, 4)
	for i, v := range vals {
		assert.Equal(t, []int{ids[i]}, v.IDs)
	}
}

func TestPostgresEventTypes(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "db", source.WithPostgresChanges(postgres.Binding{Event: postgres.All, Table: "todos"}))
	all := messageLog(t, ch, source.Changes[todo](ch))
	inserts := messageLog(t, ch, source.Changes[todo](ch, postgres.Insert))
	notInserts := messageLog(t, ch, source.Changes[todo](ch, postgres.Update, postgres.Delete))
	chSubscribe(t, ch)

	at := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos", Columns: todoColumns,
		Record: todo{ID: 1, Title: "write tests"}, CommitTimestamp: at})
	emit(t, s, realtimetest.Change{Type: realtimetest.Update, Schema: "public", Table: "todos", Columns: todoColumns,
		Record: todo{ID: 1, Title: "write tests", Done: true}, OldRecord: map[string]any{"id": 1}, CommitTimestamp: at})
	emit(t, s, realtimetest.Change{Type: realtimetest.Delete, Schema: "public", Table: "todos", Columns: todoColumns,
		OldRecord: map[string]any{"id": 1}, CommitTimestamp: at})

	vals := all.waitUntil(t, "three changes", func(v []postgres.Change[todo], _ bool) bool { return len(v) >= 3 })
	ins, upd, del := vals[0], vals[1], vals[2]
	assert.Equal(t, postgres.Insert, ins.Type)
	assert.Equal(t, todo{ID: 1, Title: "write tests"}, ins.New)
	assert.Equal(t, todo{}, ins.Old, "INSERT has no old row")
	assert.Equal(t, postgres.Update, upd.Type)
	assert.Equal(t, todo{ID: 1, Title: "write tests", Done: true}, upd.New)
	assert.Equal(t, todo{ID: 1}, upd.Old, "without REPLICA IDENTITY FULL the old row is its key")
	assert.Equal(t, postgres.Delete, del.Type)
	assert.Equal(t, todo{}, del.New, "DELETE has no new row")
	assert.Equal(t, todo{ID: 1}, del.Old)
	for _, v := range vals {
		assert.Equal(t, "public", v.Schema)
		assert.Equal(t, "todos", v.Table)
		assert.True(t, at.Equal(v.CommitTimestamp), "commit timestamp %v", v.CommitTimestamp)
		assert.Equal(t, []postgres.Column{{Name: "id", Type: "int8"}, {Name: "title", Type: "text"}, {Name: "done", Type: "bool"}}, v.Columns)
	}
	onlyIns := inserts.waitUntil(t, "the insert", func(v []postgres.Change[todo], _ bool) bool { return len(v) >= 1 })
	others := notInserts.waitUntil(t, "update and delete", func(v []postgres.Change[todo], _ bool) bool { return len(v) >= 2 })
	assert.Len(t, onlyIns, 1)
	assert.Equal(t, []postgres.EventType{postgres.Update, postgres.Delete}, []postgres.EventType{others[0].Type, others[1].Type})
}

func TestPostgresIDsMatching(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	todos := chNew(t, c, "todos", source.WithPostgresChanges(postgres.Binding{Table: "todos"}))
	other := chNew(t, c, "other", source.WithPostgresChanges(postgres.Binding{Table: "other"}))
	gotTodos := messageLog(t, todos, source.Changes[todo](todos))
	gotOther := messageLog(t, other, source.Changes[todo](other))
	errs := errorLog(t, c)
	chSubscribe(t, todos)
	chSubscribe(t, other)
	own := serverIDs(t, s, "realtime:todos")[0]
	foreign := serverIDs(t, s, "realtime:other")[0]
	require.NotEqual(t, own, foreign)

	// A change whose ids are not this channel's bindings is not delivered,
	// and not even decoded: its record does not fit the row type.
	bad := `{"ids":[` + strconv.Itoa(foreign) + `],"data":{"schema":"public","table":"todos","commit_timestamp":"2026-01-02T03:04:05.000Z","type":"INSERT",` +
		`"columns":[{"name":"id","type":"int8"}],"record":{"id":{"not":"a number"}},"errors":null}}`
	inject(s, "", "", "realtime:todos", "postgres_changes", bad)
	emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos", Columns: todoColumns,
		Record: todo{ID: 1, Title: "mine"}})
	emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "other", Columns: todoColumns,
		Record: todo{ID: 2, Title: "theirs"}})
	first := gotTodos.waitN(t, 1, "own change", func(postgres.Change[todo]) bool { return true })
	assert.Equal(t, "mine", first.New.Title)
	assert.Equal(t, []int{own}, first.IDs)
	o := gotOther.waitN(t, 1, "other's change", func(postgres.Change[todo]) bool { return true })
	assert.Equal(t, "theirs", o.New.Title)
	assert.Equal(t, 1, gotTodos.count(func(postgres.Change[todo]) bool { return true }))
	assert.Equal(t, 1, gotOther.count(func(postgres.Change[todo]) bool { return true }))

	// With the channel's own id the same bad record is decoded, fails, and
	// is reported; the stream goes on.
	inject(s, "", "", "realtime:todos", "postgres_changes", `{"ids":[`+strconv.Itoa(own)+`],`+bad[len(`{"ids":[`+strconv.Itoa(foreign)+`],`):])
	perr := errs.waitN(t, 1, "payload error", func(err error) bool { var pe *source.PayloadError; return errors.As(err, &pe) })
	require.ErrorIs(t, perr, postgres.ErrDecode)
	emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos", Columns: todoColumns,
		Record: todo{ID: 3, Title: "after"}})
	after := gotTodos.waitN(t, 2, "change after the bad one", func(postgres.Change[todo]) bool { return true })
	assert.Equal(t, "after", after.New.Title)

	// After a rejoin the ids come from the new reply.
	st := statusLog(t, todos) // replays the current SUBSCRIBED
	waitStatus(t, st, source.StatusSubscribed, 1)
	s.Faults().CrashChannels("realtime:todos")
	waitStatus(t, st, source.StatusSubscribed, 2)
	emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos", Columns: todoColumns,
		Record: todo{ID: 4, Title: "rejoined"}})
	r := gotTodos.waitN(t, 3, "change after rejoin", func(postgres.Change[todo]) bool { return true })
	assert.Equal(t, "rejoined", r.New.Title)
	// Errors are reported in order, long before this: only the own bad
	// change was decoded, never the foreign one.
	assert.Equal(t, 1, errs.count(func(err error) bool { var pe *source.PayloadError; return errors.As(err, &pe) }),
		"a foreign change is never decoded")
}

// allTypes has a field for each column type of the conversion table.
type allTypes struct {
	ID    int64           `json:"id"`
	I2    int16           `json:"i2"`
	I4    int32           `json:"i4"`
	I8    int64           `json:"i8"`
	Oid   uint32          `json:"oid"`
	F4    float32         `json:"f4"`
	F8    float64         `json:"f8"`
	Num   json.Number     `json:"num"`
	B     bool            `json:"b"`
	Txt   string          `json:"txt"`
	U     string          `json:"u"`
	J     struct{ A int } `json:"j"`
	JB    map[string]any  `json:"jb"`
	TS    time.Time       `json:"ts"`
	TSTZ  time.Time       `json:"tstz"`
	D     time.Time       `json:"d"`
	T     string          `json:"t"`
	Arr   []int32         `json:"arr"`
	Tags  []string        `json:"tags"`
	Flags []bool          `json:"flags"`
	Bytes postgres.Bytea  `json:"bytes"`
}

func TestPostgresColumnConversions(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	// Each column in the form the current server sends (typed JSON) and in
	// the legacy text form; both must reach the Go field and the map the
	// same way.
	table := []struct {
		col, typ       string
		native, legacy string
		field          func(allTypes) any
		want           any
		wantMap        any
	}{
		{"i2", "int2", `5`, `"5"`, func(r allTypes) any { return r.I2 }, int16(5), int64(5)},
		{"i4", "int4", `-42`, `"-42"`, func(r allTypes) any { return r.I4 }, int32(-42), int64(-42)},
		{"i8", "int8", `9007199254740993`, `"9007199254740993"`, func(r allTypes) any { return r.I8 }, int64(9007199254740993), int64(9007199254740993)},
		{"oid", "oid", `4294967295`, `"4294967295"`, func(r allTypes) any { return r.Oid }, uint32(4294967295), int64(4294967295)},
		{"f4", "float4", `1.5`, `"1.5"`, func(r allTypes) any { return r.F4 }, float32(1.5), 1.5},
		{"f8", "float8", `2.25`, `"2.25"`, func(r allTypes) any { return r.F8 }, 2.25, 2.25},
		{"num", "numeric", `12345678901234567890.5`, `"12345678901234567890.5"`, func(r allTypes) any { return r.Num }, json.Number("12345678901234567890.5"), json.Number("12345678901234567890.5")},
		{"b", "bool", `true`, `"t"`, func(r allTypes) any { return r.B }, true, true},
		{"txt", "text", `"a \"b\""`, `"a \"b\""`, func(r allTypes) any { return r.Txt }, `a "b"`, `a "b"`},
		{"u", "uuid", `"3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69"`, `"3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69"`, func(r allTypes) any { return r.U }, "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69", "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69"},
		{"j", "json", `{"A":7}`, `"{\"A\":7}"`, func(r allTypes) any { return r.J.A }, 7, map[string]any{"A": json.Number("7")}},
		{"jb", "jsonb", `{"k":"v"}`, `"{\"k\":\"v\"}"`, func(r allTypes) any { return r.JB }, map[string]any{"k": "v"}, map[string]any{"k": "v"}},
		{"ts", "timestamp", `"2024-01-02T03:04:05"`, `"2024-01-02 03:04:05"`, func(r allTypes) any { return r.TS }, utc(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"},
		{"tstz", "timestamptz", `"2024-01-02T03:04:05+00:00"`, `"2024-01-02T03:04:05+00:00"`, func(r allTypes) any { return r.TSTZ.UTC() }, utc(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05+00:00"},
		{"d", "date", `"2024-01-02"`, `"2024-01-02"`, func(r allTypes) any { return r.D }, utc(2024, 1, 2, 0, 0, 0), "2024-01-02"},
		{"t", "time", `"12:00:00"`, `"12:00:00"`, func(r allTypes) any { return r.T }, "12:00:00", "12:00:00"},
		{"arr", "_int4", `[1,2,3]`, `"{1,2,3}"`, func(r allTypes) any { return r.Arr }, []int32{1, 2, 3}, []any{int64(1), int64(2), int64(3)}},
		{"tags", "_text", `["a b","c"]`, `"{\"a b\",c}"`, func(r allTypes) any { return r.Tags }, []string{"a b", "c"}, []any{"a b", "c"}},
		{"flags", "_bool", `[true,false]`, `"{t,f}"`, func(r allTypes) any { return r.Flags }, []bool{true, false}, []any{true, false}},
		{"bytes", "bytea", `"0102ff"`, `"\\x0102ff"`, func(r allTypes) any { return r.Bytes }, postgres.Bytea{1, 2, 255}, []byte{1, 2, 255}},
	}

	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "conv", source.WithPostgresChanges(postgres.Binding{Event: postgres.Insert, Table: "conv"}))
	typed := messageLog(t, ch, source.Changes[allTypes](ch))
	maps := messageLog(t, ch, source.Changes[map[string]any](ch))
	chSubscribe(t, ch)

	cols := []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}}
	for _, tc := range table {
		cols = append(cols, realtimetest.Column{Name: tc.col, Type: tc.typ})
	}
	for i, form := range []string{"native", "legacy"} {
		rec := `{"id":` + strconv.Itoa(i+1)
		for _, tc := range table {
			v := tc.native
			if form == "legacy" {
				v = tc.legacy
			}
			rec += `,"` + tc.col + `":` + v
		}
		rec += "}"
		emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "conv", Columns: cols, Record: []byte(rec)})

		row := typed.waitN(t, i+1, form+" typed row", func(postgres.Change[allTypes]) bool { return true }).New
		m := maps.waitN(t, i+1, form+" map row", func(postgres.Change[map[string]any]) bool { return true }).New
		require.Equal(t, int64(i+1), row.ID)
		for _, tc := range table {
			assert.Equal(t, tc.want, tc.field(row), "%s %s into a field", form, tc.typ)
			assert.Equal(t, tc.wantMap, m[tc.col], "%s %s into a map", form, tc.typ)
		}
	}
}

func TestPostgresInt8Precision(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "big", source.WithPostgresChanges(postgres.Binding{Table: "big"}))
	type row struct {
		ID int64 `json:"id"`
	}
	typed := messageLog(t, ch, source.Changes[row](ch))
	maps := messageLog(t, ch, source.Changes[map[string]any](ch))
	chSubscribe(t, ch)
	emit(t, s, realtimetest.Change{Type: realtimetest.Update, Schema: "public", Table: "big",
		Columns:   []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}},
		Record:    json.RawMessage(`{"id":9007199254740993}`),
		OldRecord: json.RawMessage(`{"id":9007199254740993}`)})
	// The wire carries the exact digits...
	f := waitOut(t, s, func(m phoenix.Message) bool { return m.Event == phoenix.EventPostgres })
	assert.Contains(t, string(f.Msg.Payload), `"record":{"id":9007199254740993}`)
	// ...and so do both row types (a float64 would give ...992).
	r := typed.waitN(t, 1, "typed", func(postgres.Change[row]) bool { return true })
	assert.Equal(t, int64(9007199254740993), r.New.ID)
	assert.Equal(t, int64(9007199254740993), r.Old.ID)
	m := maps.waitN(t, 1, "map", func(postgres.Change[map[string]any]) bool { return true })
	assert.Equal(t, int64(9007199254740993), m.New["id"])
}

func TestWaitForPostgres(t *testing.T) {
	// The test answers the joins itself, so that the join reply and the
	// "Subscribed to PostgreSQL" message come apart.
	s := rtServer(t)
	c := chConnect(t, s, source.WithHeartbeat(10*time.Second, 0))
	binding := postgres.Binding{Event: postgres.Insert, Table: "todos"}
	waiting := chNew(t, c, "waiting", source.WithPostgresChanges(binding), source.WithWaitForPostgres())
	eager := chNew(t, c, "eager", source.WithPostgresChanges(binding))
	wst := statusLog(t, waiting)
	est := statusLog(t, eager)
	msgs := messageLog(t, waiting, waiting.Messages())
	wj := halfOpenJoin(t, s, waiting)
	ej := halfOpenJoin(t, s, eager)

	reply := `{"status":"ok","response":{"postgres_changes":[{"id":5,"event":"INSERT","schema":"public","table":"todos"}]}}`
	inject(s, wj.Msg.JoinRef, wj.Msg.Ref, "realtime:waiting", "phx_reply", reply)
	inject(s, ej.Msg.JoinRef, ej.Msg.Ref, "realtime:eager", "phx_reply", reply)
	inject(s, wj.Msg.JoinRef, "", "realtime:waiting", "marker", `{}`)
	waitStatus(t, est, source.StatusSubscribed, 1) // realtime-js's behaviour
	msgs.waitN(t, 1, "marker after the reply", func(m phoenix.Message) bool { return m.Event == "marker" })
	cur, _ := waiting.Status()
	assert.Equal(t, source.StatusJoining, cur.Status, "joined, but PostgreSQL is not ready yet")
	require.NoError(t, waiting.Send(chCtx(t), "x", map[string]int{}), "the channel is joined: pushes work")

	// A postgres_changes error is not the ready message.
	inject(s, wj.Msg.JoinRef, "", "realtime:waiting", "system",
		`{"extension":"postgres_changes","status":"error","message":"Error subscribing","channel":"waiting"}`)
	inject(s, wj.Msg.JoinRef, "", "realtime:waiting", "system",
		`{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"waiting"}`)
	waitStatus(t, wst, source.StatusSubscribed, 1)
	vals, _ := wst.snapshot()
	assert.Equal(t, []string{"JOINING", "SUBSCRIBED"}, statusNames(vals))
}

func TestWaitForPostgresEndToEnd(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "db", source.WithPostgresChanges(postgres.Binding{Table: "todos"}), source.WithWaitForPostgres())
	systems := messageLog(t, ch, ch.Systems())
	got := messageLog(t, ch, source.Changes[todo](ch))
	chSubscribe(t, ch)
	// Subscribe returned: the ready message has been received, so a change
	// written now cannot be missed.
	ready := systems.waitN(t, 1, "ready message", func(source.SystemEvent) bool { return true })
	assert.True(t, ready.PostgresReady())
	assert.Equal(t, "db", ready.Channel)
	emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos", Columns: todoColumns, Record: todo{ID: 1}})
	got.waitN(t, 1, "change", func(postgres.Change[todo]) bool { return true })

	// A token refresh makes the server say it again; still one SUBSCRIBED.
	st := statusLog(t, ch)
	waitStatus(t, st, source.StatusSubscribed, 1) // the current status, replayed to the consumer on its goroutine
	require.NoError(t, c.SetAuth(chCtx(t), "new-token"))
	systems.waitN(t, 2, "second ready message", func(e source.SystemEvent) bool { return e.PostgresReady() })
	assert.Equal(t, 1, st.count(isStatus(source.StatusSubscribed)))
}

// TestMalformedRowReportedOnceAcrossConsumers: the reader only locates a
// change's rows; the first consumer checks them for every consumer. A row
// that is not JSON is reported once, reaches no consumer, and the next
// change reaches all of them.
func TestMalformedRowReportedOnceAcrossConsumers(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	todos := chNew(t, c, "todos", source.WithPostgresChanges(postgres.Binding{Table: "todos"}))
	typed := messageLog(t, todos, source.Changes[todo](todos))
	generic := messageLog(t, todos, source.Changes[map[string]any](todos))
	all := messageLog(t, todos, source.AllChanges[todo](c))
	errs := errorLog(t, c)
	chSubscribe(t, todos)
	own := serverIDs(t, s, "realtime:todos")[0]

	for _, rec := range []string{`{"id":1,"title":tru}`, `{"id":1 "title":"x"}`, `{"id":1,"title":"x\q"}`} {
		inject(s, "", "", "realtime:todos", "postgres_changes", `{"ids":[`+strconv.Itoa(own)+`],"data":{"schema":"public","table":"todos",`+
			`"commit_timestamp":"2026-01-02T03:04:05.000Z","type":"INSERT","columns":[{"name":"id","type":"int8"},{"name":"title","type":"text"}],`+
			`"record":`+rec+`,"errors":null}}`)
	}
	emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos", Columns: todoColumns,
		Record: todo{ID: 2, Title: "good"}})
	for _, l := range []*chLog[postgres.Change[todo]]{typed, all} {
		got := l.waitN(t, 1, "the good change", func(postgres.Change[todo]) bool { return true })
		assert.Equal(t, "good", got.New.Title)
	}
	g := generic.waitN(t, 1, "the good change", func(postgres.Change[map[string]any]) bool { return true })
	assert.Equal(t, "good", g.New["title"])
	isPayload := func(err error) bool { var pe *source.PayloadError; return errors.As(err, &pe) }
	errs.waitN(t, 3, "payload errors", isPayload)
	time.Sleep(50 * time.Millisecond) // a fourth report would come from another consumer, right after
	assert.Equal(t, 3, errs.count(isPayload), "each malformed change is reported once, not once per consumer")
	vals, _ := errs.snapshot()
	for _, err := range vals {
		if isPayload(err) {
			var de *postgres.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "data.record", de.Field)
		}
	}
	assert.Equal(t, 1, typed.count(func(postgres.Change[todo]) bool { return true }))
	assert.Equal(t, 1, all.count(func(postgres.Change[todo]) bool { return true }))
	assert.Equal(t, 1, generic.count(func(postgres.Change[map[string]any]) bool { return true }))
}

// taggedTodo has slice and map fields, which a decoder may fill in place.
type taggedTodo struct {
	ID   int64             `json:"id"`
	Tags []string          `json:"tags"`
	Meta map[string]string `json:"meta"`
}

// TestChangesDoNotShareMemory: the consumer decodes every row into the
// same Change variable; each value it delivers must still be whole after
// the next rows were decoded (run with -race: a shared slice or map would
// be written by the decoder while the test reads it).
func TestChangesDoNotShareMemory(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	// Inserts and updates match different bindings, so consecutive changes carry different ids.
	ch := chNew(t, c, "tags", source.WithPostgresChanges(postgres.Binding{Event: postgres.Insert, Table: "tags"},
		postgres.Binding{Event: postgres.Update, Table: "tags"}))
	got := source.Changes[taggedTodo](ch).Observe(t.Context())
	chSubscribe(t, ch)
	ids := serverIDs(t, s, "realtime:tags")
	require.Len(t, ids, 2)
	cols := []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "tags", Type: "_text"}, {Name: "meta", Type: "jsonb"}}
	const n = 50
	for i := range n {
		typ := realtimetest.Insert
		if i%2 == 1 {
			typ = realtimetest.Update
		}
		emit(t, s, realtimetest.Change{Type: typ, Schema: "public", Table: "tags", Columns: cols,
			Record: taggedTodo{ID: int64(i), Tags: []string{strconv.Itoa(i), "x"}, Meta: map[string]string{"n": strconv.Itoa(i)}}})
	}
	var kept []postgres.Change[taggedTodo]
	for len(kept) < n {
		select {
		case chg := <-got:
			kept = append(kept, chg)
		case <-time.After(5 * time.Second):
			t.Fatalf("received %d of %d changes", len(kept), n)
		}
	}
	for i, chg := range kept {
		assert.Equal(t, int64(i), chg.New.ID)
		assert.Equal(t, []string{strconv.Itoa(i), "x"}, chg.New.Tags)
		assert.Equal(t, map[string]string{"n": strconv.Itoa(i)}, chg.New.Meta)
		assert.Equal(t, []int{ids[i%2]}, chg.IDs, "change %d", i)
	}
}
