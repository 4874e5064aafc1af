package postgres

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBindingRendering(t *testing.T) {
	tests := []struct {
		name    string
		binding Binding
		want    string
	}{
		{"full", Binding{Event: Update, Schema: "public", Table: "todos", Filter: Eq("id", 1), Select: []string{"id", "done"}},
			`{"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1","select":["id","done"]}`},
		{"table only", Binding{Table: "todos"}, `{"event":"*","schema":"public","table":"todos"}`},
		{"schema only", Binding{Event: All, Schema: "public"}, `{"event":"*","schema":"public"}`},
		{"every schema", Binding{Schema: "*"}, `{"event":"*","schema":"*"}`},
		{"lower-case event", Binding{Event: "insert", Table: "t"}, `{"event":"INSERT","schema":"public","table":"t"}`},
		{"delete with raw filter", Binding{Event: Delete, Schema: "s", Table: "t", Filter: RawFilter("a=in.(1,2)")},
			`{"event":"DELETE","schema":"s","table":"t","filter":"a=in.(1,2)"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.binding.Validate())
			b, err := json.Marshal(tt.binding)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(b))
		})
	}
}

func TestBindingErrors(t *testing.T) {
	tests := []struct {
		name    string
		binding Binding
		field   string
	}{
		{"unknown event", Binding{Event: "TRUNCATE", Table: "t"}, "event"},
		{"nothing to subscribe to", Binding{Event: Insert}, "schema"},
		{"bad filter", Binding{Table: "t", Filter: Eq("", 1)}, "filter"},
		{"filter without table", Binding{Schema: "public", Filter: Eq("a", 1)}, "filter"},
		{"select on every table", Binding{Schema: "public", Select: []string{"id"}}, "select"},
		{"select on wildcard table", Binding{Schema: "public", Table: "*", Select: []string{"id"}}, "select"},
		{"select on wildcard schema", Binding{Schema: "*", Table: "t", Select: []string{"id"}}, "select"},
		{"empty select column", Binding{Table: "t", Select: []string{""}}, "select"},
		{"NUL in table", Binding{Table: "t\x00"}, "table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.binding.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidBinding)
			var be *BindingError
			require.ErrorAs(t, err, &be)
			assert.Equal(t, tt.field, be.Field)

			_, err = json.Marshal([]Binding{tt.binding})
			require.Error(t, err, "a bad binding never reaches the wire")
			assert.ErrorIs(t, err, ErrInvalidBinding)
		})
	}
	err := Binding{Table: "t", Filter: In("a")}.Validate()
	assert.ErrorIs(t, err, ErrInvalidFilter, "the filter error stays reachable")
}

func TestEventMatches(t *testing.T) {
	assert.True(t, All.Matches(Insert))
	assert.True(t, EventType("").Matches(Delete))
	assert.True(t, Update.Matches(Update))
	assert.True(t, EventType("update").Matches(Update))
	assert.False(t, Insert.Matches(Update))
}

func TestMatchReply(t *testing.T) {
	bindings := []Binding{
		{Event: Update, Schema: "public", Table: "todos", Filter: Eq("id", 1), Select: []string{"id"}},
		{Table: "messages"},
	}
	reply := `{"postgres_changes":[
		{"id":31339675,"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1","select":["id"]},
		{"id":30636876,"event":"*","schema":"public","table":"messages"}]}`
	ids, err := MatchReply(bindings, []byte(reply))
	require.NoError(t, err)
	assert.Equal(t, []int{31339675, 30636876}, ids)

	ids, err = MatchReply(nil, []byte(`{"postgres_changes":[]}`))
	require.NoError(t, err)
	assert.Empty(t, ids)

	ids, err = MatchReply(bindings, []byte(`{}`))
	require.NoError(t, err, "no postgres_changes key: nothing to match")
	assert.Nil(t, ids)
}

func TestMatchReplyMismatches(t *testing.T) {
	bindings := []Binding{{Event: Insert, Table: "a"}, {Event: Delete, Schema: "s", Table: "b", Filter: Eq("x", 1)}}
	tests := []struct {
		name  string
		reply string
		index int
	}{
		{"fewer", `{"postgres_changes":[{"id":1,"event":"INSERT","schema":"public","table":"a"}]}`, -1},
		{"event", `{"postgres_changes":[{"id":1,"event":"UPDATE","schema":"public","table":"a"},{"id":2,"event":"DELETE","schema":"s","table":"b","filter":"x=eq.1"}]}`, 0},
		{"table", `{"postgres_changes":[{"id":1,"event":"INSERT","schema":"public","table":"a"},{"id":2,"event":"DELETE","schema":"s","table":"c","filter":"x=eq.1"}]}`, 1},
		{"filter", `{"postgres_changes":[{"id":1,"event":"INSERT","schema":"public","table":"a"},{"id":2,"event":"DELETE","schema":"s","table":"b"}]}`, 1},
		{"no id", `{"postgres_changes":[{"event":"INSERT","schema":"public","table":"a"},{"id":2,"event":"DELETE","schema":"s","table":"b","filter":"x=eq.1"}]}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MatchReply(bindings, []byte(tt.reply))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrBindingMismatch)
			var me *MismatchError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.index, me.Index)
		})
	}

	_, err := MatchReply(bindings, []byte(`{"postgres_changes":5}`))
	assert.ErrorIs(t, err, ErrDecode)
	_, err = MatchReply([]Binding{{Event: "x", Table: "a"}}, []byte(`{"postgres_changes":[{"id":1,"event":"x","table":"a"}]}`))
	assert.ErrorIs(t, err, ErrInvalidBinding)
}
