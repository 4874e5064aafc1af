package realtimetest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBindingShapes(t *testing.T) {
	cases := []struct {
		in                   string
		event, schema, table string
		err                  string
	}{
		{`{"event":"INSERT","schema":"public","table":"todos"}`, "INSERT", "public", "todos", ""},
		{`{"event":"update","schema":"public","table":"todos","filter":"id=eq.1"}`, "UPDATE", "public", "todos", ""},
		{`{"event":"*","schema":"public"}`, "*", "public", "*", ""},
		{`{"event":"nonsense","table":"todos"}`, "*", "public", "todos", ""},
		{`{"schema":"public","table":"todos","filter":""}`, "*", "public", "todos", ""},
		{`{"schema":"public","filter":"id=eq.1"}`, "*", "", "", `No subscription params provided. Please provide at least a ` +
			"`schema` or `table` to subscribe to: %{\"filter\" => \"id=eq.1\", \"schema\" => \"public\"}"},
		{`{}`, "*", "", "", "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: %{}"},
		{`{"event":"*","user_token":"secret"}`, "*", "", "", "No subscription params provided. Please provide at least a " +
			"`schema` or `table` to subscribe to: <redacted>"},
		{`{"schema":"public","table":"t","filter":"id=foo.1"}`, "*", "", "", "Error parsing `filter` params: [\"foo\", \"1\"]"},
		{`{"schema":"public","table":"t","select":"id"}`, "*", "", "",
			"Error parsing `select` params: expected a list of column name strings, e.g. select: [\"col1\", \"col2\"]"},
		{`{"schema":"public","select":["id"]}`, "*", "public", "*",
			"Column selection is not supported for wildcard subscriptions. Provide an explicit schema and table name."},
		{`{"schema":"public","table":"t","select":[]}`, "*", "public", "t", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			b, msg := parseBinding(rec(t, tc.in))
			assert.Equal(t, tc.err, msg)
			if tc.err == "" || tc.schema != "" {
				assert.Equal(t, tc.event, b.event)
				assert.Equal(t, tc.schema, b.schema)
				assert.Equal(t, tc.table, b.table)
			}
			assert.Equal(t, bindingID([]byte(tc.in)), b.id)
		})
	}
}

func TestBindingIDIsStableAndKeyOrderFree(t *testing.T) {
	a := bindingID([]byte(`{"event":"INSERT","schema":"public","table":"t"}`))
	b := bindingID([]byte(`{"table":"t", "schema":"public","event":"INSERT"}`))
	c := bindingID([]byte(`{"event":"UPDATE","schema":"public","table":"t"}`))
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	assert.True(t, a >= 0 && a <= maxBindingID)
}

func TestBindingReplyEchoesTheClientMapWithIntegerID(t *testing.T) {
	b, msg := parseBinding(rec(t, `{"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1","select":["id","done"]}`))
	require.Empty(t, msg)
	got := string(b.replyJSON(nil))
	assert.Equal(t, `{"id":`+strconv.FormatInt(b.id, 10)+`,"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1","select":["id","done"]}`, got)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(got), &m))
	assert.IsType(t, float64(0), m["id"], "the id is a JSON number, not a string")
}

var testColumns = []Column{{Name: "id", Type: "int4", PrimaryKey: true}, {Name: "body", Type: "text"}, {Name: "done", Type: "bool"}}

func validChange(t *testing.T, c Change) *change {
	t.Helper()
	chg, err := c.validate(time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.UTC))
	require.NoError(t, err)
	return chg
}

func TestChangeKeySetsPerType(t *testing.T) {
	ins := validChange(t, Change{Type: "insert", Schema: "public", Table: "messages", Columns: testColumns,
		Record: map[string]any{"done": false, "body": "hi", "id": 1}})
	assert.Equal(t, `{"schema":"public","table":"messages","commit_timestamp":"2026-01-02T03:04:05.678Z","type":"INSERT",`+
		`"columns":[{"name":"id","type":"int4"},{"name":"body","type":"text"},{"name":"done","type":"bool"}],`+
		`"record":{"id":1,"body":"hi","done":false},"errors":null}`, string(ins.dataJSON(nil)))

	upd := validChange(t, Change{Type: Update, Schema: "public", Table: "messages", Columns: testColumns,
		Record: json.RawMessage(`{"id":1,"body":"yo","done":true}`), OldRecord: json.RawMessage(`{"id":1}`)})
	data := upd.dataJSON(nil)
	assert.JSONEq(t, `{"schema":"public","table":"messages","commit_timestamp":"2026-01-02T03:04:05.678Z","type":"UPDATE",
		"columns":[{"name":"id","type":"int4"},{"name":"body","type":"text"},{"name":"done","type":"bool"}],
		"record":{"id":1,"body":"yo","done":true},"old_record":{"id":1},"errors":null}`, string(data))

	del := validChange(t, Change{Type: Delete, Schema: "public", Table: "messages", Columns: testColumns,
		Record: map[string]any{"ignored": true}, OldRecord: []byte(`{"id":1}`), Errors: []string{"Error 413: Payload Too Large"}})
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(del.dataJSON(nil), &m))
	assert.NotContains(t, m, "record")
	assert.JSONEq(t, `{"id":1}`, string(m["old_record"]))
	assert.JSONEq(t, `["Error 413: Payload Too Large"]`, string(m["errors"]))

	insNoOld := validChange(t, Change{Type: Insert, Schema: "s", Table: "t", OldRecord: map[string]any{"x": 1}})
	m = nil
	require.NoError(t, json.Unmarshal(insNoOld.dataJSON(nil), &m))
	assert.NotContains(t, m, "old_record")
	assert.JSONEq(t, `{}`, string(m["record"]))
}

func TestChangeSelectKeepsPrimaryKeys(t *testing.T) {
	upd := validChange(t, Change{Type: Update, Schema: "public", Table: "messages", Columns: testColumns,
		Record: map[string]any{"id": 1, "body": "yo", "done": true}, OldRecord: map[string]any{"id": 1, "body": "old"}})
	assert.JSONEq(t, `{"schema":"public","table":"messages","commit_timestamp":"2026-01-02T03:04:05.678Z","type":"UPDATE",
		"columns":[{"name":"id","type":"int4"},{"name":"done","type":"bool"}],
		"record":{"id":1,"done":true},"old_record":{"id":1},"errors":null}`, string(upd.dataJSON([]string{"done"})))
}

func TestChangeValidation(t *testing.T) {
	now := time.Now()
	for name, c := range map[string]Change{
		"type":          {Type: "TRUNCATE", Schema: "s", Table: "t"},
		"schema":        {Type: Insert, Table: "t"},
		"table":         {Type: Insert, Schema: "s"},
		"record array":  {Type: Insert, Schema: "s", Table: "t", Record: []int{1}},
		"record string": {Type: Insert, Schema: "s", Table: "t", Record: json.RawMessage(`"x"`)},
		"bad old json":  {Type: Delete, Schema: "s", Table: "t", OldRecord: []byte(`{"a":`)},
		"unencodable":   {Type: Update, Schema: "s", Table: "t", Record: map[string]any{"c": make(chan int)}},
	} {
		_, err := c.validate(now)
		assert.ErrorIs(t, err, ErrInvalidChange, name)
	}
}

func TestBindingMatches(t *testing.T) {
	mk := func(js string) binding {
		b, msg := parseBinding(rec(t, js))
		require.Empty(t, msg)
		return b
	}
	ins := validChange(t, Change{Type: Insert, Schema: "public", Table: "messages", Columns: testColumns, Record: map[string]any{"id": 7, "body": "x"}})
	del := validChange(t, Change{Type: Delete, Schema: "public", Table: "messages", Columns: testColumns, OldRecord: map[string]any{"id": 7}})
	for js, want := range map[string][2]bool{ // {insert, delete}
		`{"event":"*","schema":"public"}`:                                         {true, true},
		`{"event":"INSERT","schema":"public","table":"messages"}`:                 {true, false},
		`{"event":"DELETE","schema":"public","table":"messages"}`:                 {false, true},
		`{"event":"*","schema":"public","table":"other"}`:                         {false, false},
		`{"event":"*","schema":"private"}`:                                        {false, false},
		`{"event":"*","schema":"public","table":"messages","filter":"id=eq.7"}`:   {true, true},
		`{"event":"*","schema":"public","table":"messages","filter":"id=eq.8"}`:   {false, false},
		`{"event":"*","schema":"*","table":"*"}`:                                  {true, true},
		`{"event":"*","schema":"public","table":"messages","filter":"body=eq.x"}`: {true, false},
	} {
		b := mk(js)
		assert.Equal(t, want[0], b.matches(ins), "insert vs %s", js)
		assert.Equal(t, want[1], b.matches(del), "delete vs %s", js)
	}
}

func TestInspectJSON(t *testing.T) {
	assert.Equal(t, `%{"a" => [1, nil, true], "b" => %{"c" => "d"}}`, inspectJSON([]byte(`{"b":{"c":"d"},"a":[1,null,true]}`)))
	assert.Equal(t, `"x"`, inspectJSON([]byte(`"x"`)))
}
