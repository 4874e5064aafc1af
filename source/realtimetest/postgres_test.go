package realtimetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var msgColumns = []Column{{Name: "id", Type: "int4", PrimaryKey: true}, {Name: "room", Type: "text"}, {Name: "body", Type: "text"}}

var commitTS = time.Date(2026, 8, 21, 12, 0, 0, 123_000_000, time.UTC)

func idOf(js string) string { return strconv.FormatInt(bindingID([]byte(js)), 10) }

func TestPostgresChangesDeliveryPerType(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	all := `{"event":"*","schema":"public","table":"messages"}`
	ins := `{"event":"INSERT","schema":"public","table":"messages","filter":"room=eq.a"}`
	del := `{"event":"DELETE","schema":"public","table":"messages"}`
	jr := c.join("realtime:db", `{"config":{"postgres_changes":[`+all+`,`+ins+`,`+del+`]}}`)
	c.expect(`["` + jr + `","` + jr + `","realtime:db","phx_reply",{"status":"ok","response":{"postgres_changes":[` +
		`{"id":` + idOf(all) + `,"event":"*","schema":"public","table":"messages"},` +
		`{"id":` + idOf(ins) + `,"event":"INSERT","schema":"public","table":"messages","filter":"room=eq.a"},` +
		`{"id":` + idOf(del) + `,"event":"DELETE","schema":"public","table":"messages"}]}}]`)
	c.nextText() // Subscribed to PostgreSQL

	n, err := s.EmitChange(Change{Type: Insert, Schema: "public", Table: "messages", Columns: msgColumns,
		Record: map[string]any{"id": 1, "room": "a", "body": "hi"}, CommitTimestamp: commitTS})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	c.expect(`[null,null,"realtime:db","postgres_changes",{"ids":[` + idOf(all) + `,` + idOf(ins) + `],"data":{"schema":"public",` +
		`"table":"messages","commit_timestamp":"2026-08-21T12:00:00.123Z","type":"INSERT",` +
		`"columns":[{"name":"id","type":"int4"},{"name":"room","type":"text"},{"name":"body","type":"text"}],` +
		`"record":{"id":1,"room":"a","body":"hi"},"errors":null}}]`)

	// Another room: only the unfiltered binding matches.
	_, err = s.EmitChange(Change{Type: Insert, Schema: "public", Table: "messages", Columns: msgColumns,
		Record: map[string]any{"id": 2, "room": "b", "body": "x"}, CommitTimestamp: commitTS})
	require.NoError(t, err)
	m := c.nextMsg()
	assert.JSONEq(t, `[`+idOf(all)+`]`, string(jsonField(t, m.Payload, "ids")))

	_, err = s.EmitChange(Change{Type: Update, Schema: "public", Table: "messages", Columns: msgColumns,
		Record: map[string]any{"id": 1, "room": "a", "body": "edited"}, OldRecord: map[string]any{"id": 1}, CommitTimestamp: commitTS})
	require.NoError(t, err)
	c.expect(`[null,null,"realtime:db","postgres_changes",{"ids":[` + idOf(all) + `],"data":{"schema":"public",` +
		`"table":"messages","commit_timestamp":"2026-08-21T12:00:00.123Z","type":"UPDATE",` +
		`"columns":[{"name":"id","type":"int4"},{"name":"room","type":"text"},{"name":"body","type":"text"}],` +
		`"record":{"id":1,"room":"a","body":"edited"},"old_record":{"id":1},"errors":null}}]`)

	_, err = s.EmitChange(Change{Type: Delete, Schema: "public", Table: "messages", Columns: msgColumns,
		OldRecord: map[string]any{"id": 1}, CommitTimestamp: commitTS})
	require.NoError(t, err)
	c.expect(`[null,null,"realtime:db","postgres_changes",{"ids":[` + idOf(all) + `,` + idOf(del) + `],"data":{"schema":"public",` +
		`"table":"messages","commit_timestamp":"2026-08-21T12:00:00.123Z","type":"DELETE",` +
		`"columns":[{"name":"id","type":"int4"},{"name":"room","type":"text"},{"name":"body","type":"text"}],` +
		`"old_record":{"id":1},"errors":null}}]`)

	// Another table: nothing.
	n, err = s.EmitChange(Change{Type: Insert, Schema: "public", Table: "other", Record: map[string]any{"id": 1}})
	require.NoError(t, err)
	assert.Zero(t, n)
	c.expectNone()
}

func TestPostgresChangesReachEveryMatchingChannelV1AndV2(t *testing.T) {
	s := newServer(t)
	v1, v2, none := dial(t, s, "1.0.0"), dial(t, s, "2.0.0"), dial(t, s, "2.0.0")
	b := `{"event":"*","schema":"public","table":"t","filter":"id=in.(1,2)"}`
	v1.sendText(`{"topic":"realtime:a","event":"phx_join","payload":{"config":{"postgres_changes":[` + b + `]}},"ref":"1","join_ref":"1"}`)
	v1.nextText()
	v1.nextText()
	v2.join("realtime:b", `{"config":{"postgres_changes":[`+b+`]}}`)
	v2.nextText()
	v2.nextText()
	none.joinOK("realtime:c", joinPlain)
	n, err := s.EmitChange(Change{Type: Insert, Schema: "public", Table: "t", Record: []byte(`{"id":2}`), CommitTimestamp: commitTS})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	data := `{"ids":[` + idOf(b) + `],"data":{"schema":"public","table":"t","commit_timestamp":"2026-08-21T12:00:00.123Z",` +
		`"type":"INSERT","columns":[],"record":{"id":2},"errors":null}}`
	v1.expect(`{"topic":"realtime:a","event":"postgres_changes","payload":` + data + `,"ref":null}`)
	v2.expect(`[null,null,"realtime:b","postgres_changes",` + data + `]`)
	none.expectNone()
}

func TestPostgresChangesSelectSplitsFrames(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	full := `{"event":"*","schema":"public","table":"messages"}`
	sel := `{"event":"*","schema":"public","table":"messages","select":["body"]}`
	c.join("realtime:s", `{"config":{"postgres_changes":[`+full+`,`+sel+`]}}`)
	c.nextText()
	c.nextText()
	_, err := s.EmitChange(Change{Type: Insert, Schema: "public", Table: "messages", Columns: msgColumns,
		Record: map[string]any{"id": 1, "room": "a", "body": "hi"}, CommitTimestamp: commitTS})
	require.NoError(t, err)
	m := c.nextMsg()
	assert.JSONEq(t, `[`+idOf(full)+`]`, string(jsonField(t, m.Payload, "ids")))
	m = c.nextMsg()
	assert.JSONEq(t, `[`+idOf(sel)+`]`, string(jsonField(t, m.Payload, "ids")))
	assert.JSONEq(t, `{"id":1,"body":"hi"}`, string(jsonField(t, jsonField(t, m.Payload, "data"), "record")))
}

func TestPostgresChangesDroppedWhileEventsLimitTripped(t *testing.T) {
	s := newServer(t, WithMaxEventsPerSecond(1))
	c := dial(t, s, "2.0.0")
	c.join("realtime:s", `{"config":{"postgres_changes":[{"event":"*","schema":"public"}]}}`)
	c.nextText()
	c.nextText()
	s.mu.Lock()
	s.countEvent(60)
	s.mu.Unlock()
	n, err := s.EmitChange(Change{Type: Insert, Schema: "public", Table: "t"})
	require.NoError(t, err)
	assert.Zero(t, n)
	c.expectNone()
}

func TestEmitChangeRejectsInvalidChanges(t *testing.T) {
	s := newServer(t)
	_, err := s.EmitChange(Change{Type: "TRUNCATE", Schema: "public", Table: "t"})
	assert.ErrorIs(t, err, ErrInvalidChange)
}
