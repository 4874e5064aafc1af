package postgres

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type strictBase struct {
	ID int64 `json:"id"`
}

type strictRow struct {
	strictBase
	*strictPtrBase
	Title   string `json:"title"`
	Done    bool   // matched as encoding/json does: "Done", "done", "DONE"
	Hidden  string `json:"-"`
	private string //nolint:unused // never matched
}

type strictPtrBase struct {
	Owner string `json:"owner,omitempty"`
}

type customRow struct{ raw string }

func (c *customRow) UnmarshalJSON(b []byte) error { c.raw = string(b); return nil }

func strictEnv(t *testing.T, record, old string) *Envelope {
	t.Helper()
	p := `{"ids":[1],"data":{"schema":"public","table":"t","commit_timestamp":null,"type":"UPDATE","columns":[],"record":` + record + `,"old_record":` + old + `,"errors":null}}`
	var env Envelope
	require.NoError(t, ParseEnvelope([]byte(p), &env))
	return &env
}

func TestCheckColumns(t *testing.T) {
	ok := strictEnv(t, `{"id":1,"title":"a","done":true,"DONE":false,"owner":"me"}`, `{"id":1}`)
	assert.NoError(t, CheckColumns[strictRow](ok))
	assert.NoError(t, CheckColumns[*strictRow](ok))
	assert.NoError(t, CheckColumns[strictRow](strictEnv(t, `{}`, `null`)), "missing columns are fine")

	for _, tc := range []struct{ record, old, field, column string }{
		{`{"id":1,"emoji":"+1"}`, `null`, "data.record", "emoji"},
		{`{"id":1,"Hidden":"x"}`, `null`, "data.record", "Hidden"},
		{`{"id":1,"private":"x"}`, `null`, "data.record", "private"},
		{`{"id":1}`, `{"id":1,"message_id":2}`, "data.old_record", "message_id"},
		{`{"id":1,"a\u00e9":1}`, `null`, "data.record", "a\u00e9"},
	} {
		err := CheckColumns[strictRow](strictEnv(t, tc.record, tc.old))
		require.ErrorIs(t, err, ErrUnknownColumn, tc.record)
		require.ErrorIs(t, err, ErrDecode)
		var de *DecodeError
		require.True(t, errors.As(err, &de))
		assert.Equal(t, tc.field, de.Field)
		assert.Equal(t, tc.column, de.Column)
		assert.True(t, strings.Contains(err.Error(), tc.column))
	}

	// Not structs decoded field by field: nothing to check.
	other := strictEnv(t, `{"id":1,"emoji":"+1"}`, `null`)
	assert.NoError(t, CheckColumns[map[string]any](other))
	assert.NoError(t, CheckColumns[any](other))
	assert.NoError(t, CheckColumns[json.RawMessage](other))
	assert.NoError(t, CheckColumns[customRow](other))
	assert.NoError(t, CheckColumns[*customRow](other))
}

func TestDecodeEnvelopeWith(t *testing.T) {
	var env Envelope
	require.NoError(t, ParseEnvelope([]byte(chatUpdate), &env))
	var calls []string
	unmarshal := func(data []byte, v any) error {
		calls = append(calls, string(data))
		return json.Unmarshal(data, v)
	}
	var c Change[chatMessage]
	require.NoError(t, DecodeEnvelopeWith(&env, &c, unmarshal))
	assert.Equal(t, []string{string(env.Record), string(env.OldRecord)}, calls)
	assert.Equal(t, Update, c.Type)
	assert.Equal(t, "messages", c.Table)
	assert.Equal(t, int64(9007199254740993), c.New.ID)
	assert.Equal(t, "edited", c.New.Body)
	assert.Equal(t, int64(9007199254740993), c.Old.ID)
	assert.Equal(t, []int{31339675, 7}, c.IDs)

	boom := errors.New("boom")
	err := DecodeEnvelopeWith(&env, &c, func([]byte, any) error { return boom })
	require.ErrorIs(t, err, boom)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "data.record", de.Field)
}
