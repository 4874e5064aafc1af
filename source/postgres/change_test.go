package postgres

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeInsert(t *testing.T) {
	var c Change[chatMessage]
	require.NoError(t, Decode([]byte(chatInsert), &c))

	assert.Equal(t, Insert, c.Type)
	assert.Equal(t, "public", c.Schema)
	assert.Equal(t, "messages", c.Table)
	assert.Equal(t, time.Date(2026, 8, 21, 12, 0, 0, 123000000, time.UTC), c.CommitTimestamp)
	assert.Equal(t, []int{31339675}, c.IDs)
	assert.Nil(t, c.Errors)
	require.Len(t, c.Columns, 8)
	assert.Equal(t, Column{Name: "created_at", Type: "timestamptz"}, c.Columns[6])

	assert.Equal(t, int64(9007199254740993), c.New.ID)
	assert.Equal(t, "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69", c.New.RoomID)
	assert.Equal(t, "a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d", c.New.AuthorID)
	assert.Contains(t, c.New.Body, "presence sync PR?")
	assert.Equal(t, int32(42), c.New.Seq)
	assert.False(t, c.New.Edited)
	assert.True(t, c.New.CreatedAt.Equal(time.Date(2026, 8, 21, 12, 0, 0, 123456000, time.UTC)))
	assert.Equal(t, chatMeta{Client: "web", Mentions: []string{"u1", "u2"}}, c.New.Meta)
	assert.Equal(t, chatMessage{}, c.Old, "INSERT has no old row")
}

func TestDecodeUpdate(t *testing.T) {
	var c Change[chatMessage]
	require.NoError(t, Decode([]byte(chatUpdate), &c))
	assert.Equal(t, Update, c.Type)
	assert.Equal(t, []int{31339675, 7}, c.IDs)
	assert.Equal(t, chatMessage{ID: 9007199254740993, Body: "edited", Seq: 43, Edited: true}, c.New)
	assert.Equal(t, chatMessage{ID: 9007199254740993}, c.Old, "the old row holds the primary key")
}

func TestDecodeDelete(t *testing.T) {
	var c Change[chatMessage]
	require.NoError(t, Decode([]byte(chatDelete), &c))
	assert.Equal(t, Delete, c.Type)
	assert.Equal(t, chatMessage{}, c.New, "DELETE has no new row")
	assert.Equal(t, chatMessage{ID: 9007199254740993}, c.Old)
}

func TestDecodeReusesDestination(t *testing.T) {
	var c Change[chatMessage]
	require.NoError(t, Decode([]byte(chatInsert), &c))
	ids := c.IDs
	require.NoError(t, Decode([]byte(chatDelete), &c))
	assert.Equal(t, chatMessage{}, c.New, "fields of the previous change must not survive")
	assert.Equal(t, &ids[0], &c.IDs[0], "the IDs buffer is reused")

	var m Change[map[string]any]
	require.NoError(t, Decode([]byte(chatInsert), &m))
	require.NoError(t, Decode([]byte(chatDelete), &m))
	assert.Nil(t, m.New)
	assert.Equal(t, map[string]any{"id": int64(9007199254740993)}, m.Old)
}

func TestDecodeDoesNotAliasPayload(t *testing.T) {
	payload := []byte(chatInsert)
	var c Change[chatMessage]
	require.NoError(t, Decode(payload, &c))
	for i := range payload {
		payload[i] = 'x'
	}
	assert.Equal(t, "public", c.Schema)
	assert.Equal(t, "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69", c.New.RoomID)
	assert.Equal(t, "created_at", c.Columns[6].Name)
}

func TestDecodeInt8Precision(t *testing.T) {
	const big = 9007199254740993 // 2^53 + 1: a float64 would read 9007199254740992
	for _, raw := range []string{`9007199254740993`, `"9007199254740993"`} {
		payload := changePayload(`[{"name":"id","type":"int8"}]`, `{"id":`+raw+`}`)

		var s Change[struct {
			ID int64 `json:"id"`
		}]
		require.NoError(t, Decode(payload, &s), raw)
		assert.Equal(t, int64(big), s.New.ID, raw)

		var n Change[struct {
			ID json.Number `json:"id"`
		}]
		require.NoError(t, Decode(payload, &n), raw)
		assert.Equal(t, json.Number("9007199254740993"), n.New.ID, raw)

		var str Change[struct {
			ID string `json:"id"`
		}]
		require.NoError(t, Decode(payload, &str), raw)
		assert.Equal(t, "9007199254740993", str.New.ID, raw)

		var m Change[map[string]any]
		require.NoError(t, Decode(payload, &m), raw)
		assert.Equal(t, int64(big), m.New["id"], raw)
	}
}

// changePayload builds an INSERT payload with the given columns and record.
func changePayload(columns, record string) []byte {
	return []byte(`{"ids":[1],"data":{"schema":"public","table":"t","commit_timestamp":"2024-01-01T00:00:00.000Z","type":"INSERT","columns":` + columns + `,"record":` + record + `,"errors":null}}`)
}

// decodeValue decodes one value of a column of type typ into a field of type V.
func decodeValue[V any](typ, raw string) (V, error) {
	var c Change[struct {
		V V `json:"v"`
	}]
	err := Decode(changePayload(`[{"name":"v","type":"`+typ+`"}]`, `{"v":`+raw+`}`), &c)
	return c.New.V, err
}

// mapValue decodes one value of a column of type typ into a map row.
func mapValue(typ, raw string) (any, error) {
	var c Change[map[string]any]
	err := Decode(changePayload(`[{"name":"v","type":"`+typ+`"}]`, `{"v":`+raw+`}`), &c)
	return c.New["v"], err
}

func TestDecodeColumnTypesIntoMap(t *testing.T) {
	tests := []struct {
		typ, raw string
		want     any
	}{
		{"int2", `5`, int64(5)},
		{"int2", `"5"`, int64(5)},
		{"int4", `42`, int64(42)},
		{"int4", `"-42"`, int64(-42)},
		{"int8", `9007199254740993`, int64(9007199254740993)},
		{"int8", `"9007199254740993"`, int64(9007199254740993)},
		{"oid", `4294967295`, int64(4294967295)},
		{"int4", `"abc"`, "abc"},
		{"float4", `1.5`, 1.5},
		{"float4", `"1.5"`, 1.5},
		{"float8", `2.25`, 2.25},
		{"float8", `"Infinity"`, math.Inf(1)},
		{"numeric", `12345678901234567890.123`, json.Number("12345678901234567890.123")},
		{"numeric", `"1.50"`, json.Number("1.50")},
		{"numeric", `"NaN"`, "NaN"},
		{"bool", `true`, true},
		{"bool", `"t"`, true},
		{"bool", `"f"`, false},
		{"bool", `"maybe"`, "maybe"},
		{"text", `"hi \"there\""`, `hi "there"`},
		{"varchar", `"x"`, "x"},
		{"uuid", `"3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69"`, "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69"},
		{"json", `{"a":1}`, map[string]any{"a": json.Number("1")}},
		{"json", `"{\"a\":[1,true]}"`, map[string]any{"a": []any{json.Number("1"), true}}},
		{"jsonb", `[1,2]`, []any{json.Number("1"), json.Number("2")}},
		{"jsonb", `"hello"`, "hello"},
		{"jsonb", `"123"`, "123"},
		{"timestamp", `"2024-01-01 00:00:00"`, "2024-01-01T00:00:00"},
		{"timestamp", `"2024-01-01T00:00:00"`, "2024-01-01T00:00:00"},
		{"timestamptz", `"2024-01-01 00:00:00+00"`, "2024-01-01 00:00:00+00"},
		{"date", `"2024-01-01"`, "2024-01-01"},
		{"time", `"12:00:00"`, "12:00:00"},
		{"timetz", `"12:00:00+02"`, "12:00:00+02"},
		{"bytea", `"0102ff"`, []byte{1, 2, 255}},
		{"bytea", `"\\x0102ff"`, []byte{1, 2, 255}},
		{"money", `"$1.00"`, "$1.00"},
		{"mood", `"happy"`, "happy"},
		{"int8", `null`, nil},
		{"_int4", `[1,2,3]`, []any{int64(1), int64(2), int64(3)}},
		{"_int4", `"{1,2,3}"`, []any{int64(1), int64(2), int64(3)}},
		{"_int4", `"{}"`, []any{}},
		{"_int8", `"{{1,2},{3,NULL}}"`, []any{[]any{int64(1), int64(2)}, []any{int64(3), nil}}},
		{"_text", `["a","b"]`, []any{"a", "b"}},
		{"_text", `"{\"a b\",c,NULL,\"NULL\",\"x\\\"y\"}"`, []any{"a b", "c", nil, "NULL", `x"y`}},
		{"_bool", `"{t,f}"`, []any{true, false}},
		{"_float8", `[1.5,"2.5"]`, []any{1.5, 2.5}},
		{"_numeric", `"{1.10,2}"`, []any{json.Number("1.10"), json.Number("2")}},
		{"_jsonb", `[{"a":1}]`, []any{map[string]any{"a": json.Number("1")}}},
		{"_jsonb", `"{\"{\\\"a\\\":1}\"}"`, []any{map[string]any{"a": json.Number("1")}}},
		{"_timestamp", `["2024-01-01 00:00:00"]`, []any{"2024-01-01T00:00:00"}},
		{"_bytea", `["\\x01"]`, []any{[]byte{1}}},
		{"_uuid", `"{3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69}"`, []any{"3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69"}},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.raw, func(t *testing.T) {
			got, err := mapValue(tt.typ, tt.raw)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeMapUnknownColumnsKeepNumbers(t *testing.T) {
	var c Change[map[string]any]
	payload := changePayload(`[{"name":"a","type":"int4"}]`, `{"a":1,"b":9007199254740993,"c":{"d":[1.5]}}`)
	require.NoError(t, Decode(payload, &c))
	assert.Equal(t, map[string]any{
		"a": int64(1),
		"b": json.Number("9007199254740993"),
		"c": map[string]any{"d": []any{json.Number("1.5")}},
	}, c.New)
}

func TestDecodeColumnTypesIntoFields(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	str := func(s string) *string { return &s }
	type obj struct {
		A int `json:"a"`
	}
	tests := []struct {
		name string
		run  func() (got, want any, err error)
	}{
		{"int2 native", one[int16]("int2", `5`, int16(5))},
		{"int2 string", one[int16]("int2", `"5"`, int16(5))},
		{"int4 native", one[int32]("int4", `42`, int32(42))},
		{"int4 string", one[int32]("int4", `"42"`, int32(42))},
		{"int8 native", one[int64]("int8", `9007199254740993`, int64(9007199254740993))},
		{"int8 string", one[int64]("int8", `"9007199254740993"`, int64(9007199254740993))},
		{"int8 into string", one[string]("int8", `9007199254740993`, "9007199254740993")},
		{"int8 string into string", one[string]("int8", `"12"`, "12")},
		{"int8 into json.Number", one[json.Number]("int8", `9007199254740993`, json.Number("9007199254740993"))},
		{"oid", one[uint32]("oid", `4294967295`, uint32(4294967295))},
		{"float4 native", one[float32]("float4", `1.5`, float32(1.5))},
		{"float4 string", one[float32]("float4", `"1.5"`, float32(1.5))},
		{"float8 string", one[float64]("float8", `"2.25"`, 2.25)},
		{"numeric into json.Number", one[json.Number]("numeric", `12345678901234567890.123`, json.Number("12345678901234567890.123"))},
		{"numeric string into json.Number", one[json.Number]("numeric", `"1.50"`, json.Number("1.50"))},
		{"numeric into string", one[string]("numeric", `12.5`, "12.5")},
		{"numeric string into float64", one[float64]("numeric", `"12.5"`, 12.5)},
		{"bool native", one[bool]("bool", `true`, true)},
		{"bool t", one[bool]("bool", `"t"`, true)},
		{"bool f", one[bool]("bool", `"f"`, false)},
		{"bool true string", one[bool]("bool", `"true"`, true)},
		{"text", one[string]("text", `"a \"b\""`, `a "b"`)},
		{"varchar", one[string]("varchar", `"x"`, "x")},
		{"uuid", one[string]("uuid", `"3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69"`, "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69")},
		{"json into struct", one[obj]("json", `{"a":1}`, obj{A: 1})},
		{"json string into struct", one[obj]("json", `"{\"a\":1}"`, obj{A: 1})},
		{"jsonb into map", one[map[string]any]("jsonb", `{"a":"b"}`, map[string]any{"a": "b"})},
		{"jsonb into string", one[string]("jsonb", `{"a":1}`, `{"a":1}`)},
		{"jsonb into RawMessage", one[json.RawMessage]("jsonb", `{"a":1}`, json.RawMessage(`{"a":1}`))},
		{"timestamp into time.Time", one[time.Time]("timestamp", `"2024-01-02T03:04:05.5"`, utc(2024, 1, 2, 3, 4, 5, 500000000))},
		{"timestamp with space into time.Time", one[time.Time]("timestamp", `"2024-01-02 03:04:05"`, utc(2024, 1, 2, 3, 4, 5, 0))},
		{"timestamp into string keeps text", one[string]("timestamp", `"2024-01-02 03:04:05"`, "2024-01-02 03:04:05")},
		{"timestamp into Timestamp", one[Timestamp]("timestamp", `"2024-01-02 03:04:05"`, Timestamp{utc(2024, 1, 2, 3, 4, 5, 0)})},
		{"timestamptz into time.Time", oneTime("timestamptz", `"2024-01-02T03:04:05.123456+00:00"`, utc(2024, 1, 2, 3, 4, 5, 123456000))},
		{"timestamptz legacy into time.Time", oneTime("timestamptz", `"2024-01-02 03:04:05+00"`, utc(2024, 1, 2, 3, 4, 5, 0))},
		{"timestamptz offset into time.Time", oneTime("timestamptz", `"2024-01-02 08:34:05+05:30"`, utc(2024, 1, 2, 3, 4, 5, 0))},
		{"date into time.Time", one[time.Time]("date", `"2024-01-02"`, utc(2024, 1, 2, 0, 0, 0, 0))},
		{"date into string", one[string]("date", `"2024-01-02"`, "2024-01-02")},
		{"time into string", one[string]("time", `"12:00:00"`, "12:00:00")},
		{"bytea into Bytea", one[Bytea]("bytea", `"0102ff"`, Bytea{1, 2, 255})},
		{"bytea legacy into Bytea", one[Bytea]("bytea", `"\\x0102ff"`, Bytea{1, 2, 255})},
		{"_int4 native", one[[]int32]("_int4", `[1,2,3]`, []int32{1, 2, 3})},
		{"_int4 literal", one[[]int32]("_int4", `"{1,2,3}"`, []int32{1, 2, 3})},
		{"_int4 empty literal", one[[]int32]("_int4", `"{}"`, []int32{})},
		{"_int4 strings", one[[]int32]("_int4", `["1","2"]`, []int32{1, 2})},
		{"_int4 into []string", one[[]string]("_int4", `[1,2]`, []string{"1", "2"})},
		{"_text native", one[[]string]("_text", `["a","b"]`, []string{"a", "b"})},
		{"_text literal", one[[]string]("_text", `"{\"a b\",c}"`, []string{"a b", "c"})},
		{"_text with NULL", one[[]*string]("_text", `"{a,NULL}"`, []*string{str("a"), nil})},
		{"_bool literal", one[[]bool]("_bool", `"{t,f}"`, []bool{true, false})},
		{"_int8 nested literal", one[[][]int64]("_int8", `"{{1,2},{3,4}}"`, [][]int64{{1, 2}, {3, 4}})},
		{"_float8 literal", one[[]float64]("_float8", `"{1.5,-2}"`, []float64{1.5, -2})},
		{"_jsonb", one[[]obj]("_jsonb", `[{"a":1},{"a":2}]`, []obj{{A: 1}, {A: 2}})},
		{"_timestamptz legacy", oneTimes("_timestamptz", `["2024-01-02 03:04:05+00"]`, []time.Time{utc(2024, 1, 2, 3, 4, 5, 0)})},
		{"null", one[*int64]("int8", `null`, (*int64)(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want, err := tt.run()
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func one[V any](typ, raw string, want V) func() (any, any, error) {
	return func() (any, any, error) {
		got, err := decodeValue[V](typ, raw)
		return got, want, err
	}
}

// oneTime compares instants, since a parsed offset is a different Location.
func oneTime(typ, raw string, want time.Time) func() (any, any, error) {
	return func() (any, any, error) {
		got, err := decodeValue[time.Time](typ, raw)
		return got.UTC(), want, err
	}
}

func oneTimes(typ, raw string, want []time.Time) func() (any, any, error) {
	return func() (any, any, error) {
		got, err := decodeValue[[]time.Time](typ, raw)
		for i := range got {
			got[i] = got[i].UTC()
		}
		return got, want, err
	}
}

func TestDecodeValueErrorsNameTheColumn(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
	}{
		{"text into int", func() error { _, err := decodeValue[int32]("int4", `"abc"`); return err }},
		{"fraction into int", func() error { _, err := decodeValue[int32]("int4", `1.5`); return err }},
		{"overflow", func() error { _, err := decodeValue[int8]("int4", `300`); return err }},
		{"text into bool", func() error { _, err := decodeValue[bool]("bool", `"maybe"`); return err }},
		{"bad timestamp", func() error { _, err := decodeValue[time.Time]("timestamptz", `"infinity"`); return err }},
		{"bad array literal", func() error { _, err := decodeValue[[]int]("_int4", `"{1,2"`); return err }},
		{"unknown type", func() error { _, err := decodeValue[int]("mood", `"happy"`); return err }},
		{"bad bytea", func() error { _, err := decodeValue[Bytea]("bytea", `"zz"`); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrDecode)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "data.record", de.Field)
			assert.Equal(t, "v", de.Column)
		})
	}

	_, err := mapValue("bytea", `"zz"`)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "v", de.Column)
	_, err = mapValue("_int4", `"{1,"`)
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "v", de.Column)
}

func TestDecodeConvertsOnlyRejectedColumns(t *testing.T) {
	// seq arrives as a string and is converted; id is a string field and
	// keeps its text; at is a timestamp kept as text.
	type row struct {
		ID  string `json:"id"`
		Seq int    `json:"seq"`
		At  string `json:"at"`
	}
	var c Change[row]
	payload := changePayload(`[{"name":"id","type":"int8"},{"name":"seq","type":"int4"},{"name":"at","type":"timestamp"}]`,
		`{"id":"007","seq":"5","at":"2024-01-01 00:00:00"}`)
	require.NoError(t, Decode(payload, &c))
	assert.Equal(t, row{ID: "007", Seq: 5, At: "2024-01-01 00:00:00"}, c.New)
}

func TestDecodeOldRowErrorField(t *testing.T) {
	payload := []byte(`{"ids":[1],"data":{"schema":"public","table":"t","commit_timestamp":null,"type":"DELETE","columns":[{"name":"id","type":"int4"}],"old_record":{"id":"x"},"errors":null}}`)
	var c Change[struct {
		ID int `json:"id"`
	}]
	err := Decode(payload, &c)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "data.old_record", de.Field)
	assert.Equal(t, "id", de.Column)
}

func TestDecodeServerErrors(t *testing.T) {
	payload := []byte(`{"ids":[1],"data":{"schema":"public","table":"t","commit_timestamp":null,"type":"INSERT","columns":[],"record":{},"errors":["Error 401: Unauthorized"]}}`)
	var c Change[map[string]any]
	require.NoError(t, Decode(payload, &c))
	assert.Equal(t, []string{"Error 401: Unauthorized"}, c.Errors)
	assert.True(t, c.CommitTimestamp.IsZero())
	assert.Empty(t, c.Columns)
	assert.Equal(t, map[string]any{}, c.New)
}

func TestDecodeMalformedPayloads(t *testing.T) {
	tests := []struct{ name, payload, field string }{
		{"not json", `{`, "payload"},
		{"not an object", `[1]`, "payload"},
		{"trailing data", `{"ids":[],"data":{"type":"INSERT"}} x`, "payload"},
		{"missing type", `{"ids":[1],"data":{"schema":"public"}}`, "data.type"},
		{"missing data", `{"ids":[1]}`, "data.type"},
		{"unknown type", `{"ids":[1],"data":{"type":"TRUNCATE"}}`, "data.type"},
		{"lower-case type", `{"ids":[1],"data":{"type":"insert"}}`, "data.type"},
		{"type not a string", `{"ids":[1],"data":{"type":1}}`, "data.type"},
		{"ids not ints", `{"ids":["a"],"data":{"type":"INSERT"}}`, "ids"},
		{"schema not a string", `{"ids":[1],"data":{"type":"INSERT","schema":5}}`, "data.schema"},
		{"table not a string", `{"ids":[1],"data":{"type":"INSERT","table":{}}}`, "data.table"},
		{"bad commit timestamp", `{"ids":[1],"data":{"type":"INSERT","commit_timestamp":"yesterday"}}`, "data.commit_timestamp"},
		{"commit timestamp not a string", `{"ids":[1],"data":{"type":"INSERT","commit_timestamp":5}}`, "data.commit_timestamp"},
		{"errors not strings", `{"ids":[1],"data":{"type":"INSERT","errors":[1]}}`, "data.errors"},
		{"columns not a list", `{"ids":[1],"data":{"type":"INSERT","columns":{}}}`, "data.columns"},
		{"record not an object", `{"ids":[1],"data":{"type":"INSERT","record":[1]}}`, "data.record"},
		{"old record not an object", `{"ids":[1],"data":{"type":"DELETE","old_record":"x"}}`, "data.old_record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, decode := range []func([]byte) error{
				func(p []byte) error { var c Change[chatMessage]; return Decode(p, &c) },
				func(p []byte) error { var c Change[map[string]any]; return Decode(p, &c) },
			} {
				err := decode([]byte(tt.payload))
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrDecode)
				var de *DecodeError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, tt.field, de.Field, "%v", err)
			}
		})
	}
}

func TestDecodeEscapedNames(t *testing.T) {
	payload := []byte(`{"ids":[1],"data":{"schema":"we\"ird","table":"t\u00e9","type":"INSERT","record":{"a":1}}}`)
	var c Change[map[string]any]
	require.NoError(t, Decode(payload, &c))
	assert.Equal(t, `we"ird`, c.Schema)
	assert.Equal(t, "té", c.Table)
	assert.Equal(t, map[string]any{"a": json.Number("1")}, c.New, "no columns: values as decoded")
}

func TestEnvelopeFeedsSeveralTypes(t *testing.T) {
	var env Envelope
	require.NoError(t, ParseEnvelope([]byte(chatUpdate), &env))
	assert.True(t, env.Has(7))
	assert.False(t, env.Has(8))
	assert.JSONEq(t, `{"id":9007199254740993}`, string(env.OldRecord))

	var typed Change[chatMessage]
	require.NoError(t, DecodeEnvelope(&env, &typed))
	var generic Change[map[string]any]
	require.NoError(t, DecodeEnvelope(&env, &generic))
	assert.Equal(t, int32(43), typed.New.Seq)
	assert.Equal(t, int64(43), generic.New["seq"])
	assert.Equal(t, []int{31339675, 7}, generic.IDs)
	generic.IDs[0] = 0
	assert.Equal(t, 31339675, env.IDs[0], "DecodeEnvelope copies the ids")
}

func TestColumnsAreCachedPerList(t *testing.T) {
	var a, b Change[chatMessage]
	require.NoError(t, Decode([]byte(chatInsert), &a))
	require.NoError(t, Decode([]byte(chatUpdate), &b))
	assert.Same(t, &a.Columns[0], &b.Columns[0], "the same columns list decodes once")
}

func TestBytea(t *testing.T) {
	var b Bytea
	require.NoError(t, json.Unmarshal([]byte(`"\\xdeadbeef"`), &b))
	assert.Equal(t, Bytea{0xde, 0xad, 0xbe, 0xef}, b)
	out, err := json.Marshal(b)
	require.NoError(t, err)
	assert.Equal(t, `"\\xdeadbeef"`, string(out))
	require.NoError(t, json.Unmarshal([]byte(`null`), &b))
	assert.Nil(t, b)
	out, err = json.Marshal(Bytea(nil))
	require.NoError(t, err)
	assert.Equal(t, "null", string(out))
	assert.Error(t, json.Unmarshal([]byte(`"xyz"`), &b))
	assert.Error(t, json.Unmarshal([]byte(`5`), &b))
}

func TestTimestamp(t *testing.T) {
	var ts Timestamp
	require.NoError(t, json.Unmarshal([]byte(`"2024-02-29 23:59:59.999999"`), &ts))
	assert.Equal(t, time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC), ts.Time)
	out, err := json.Marshal(ts)
	require.NoError(t, err)
	assert.Equal(t, `"2024-02-29T23:59:59.999999Z"`, string(out))
	require.NoError(t, json.Unmarshal([]byte(`null`), &ts))
	assert.True(t, ts.IsZero())
	assert.Error(t, json.Unmarshal([]byte(`"infinity"`), &ts))
	assert.Error(t, json.Unmarshal([]byte(`1`), &ts))
}

func TestDecodeErrorMessages(t *testing.T) {
	err := &DecodeError{Field: "data.record", Column: "seq", Err: errors.New("boom")}
	assert.Equal(t, `postgres: decode data.record column "seq": boom`, err.Error())
	assert.ErrorIs(t, err, ErrDecode)
}

func TestDecodeReportsColumnWithoutFieldPath(t *testing.T) {
	// A []byte field rejects hex text with a base64 error that names no
	// field; the column is still found.
	_, err := decodeValue[[]byte]("bytea", `"0102ff"`)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "v", de.Column)
}

func TestDecodeNonObjectTarget(t *testing.T) {
	var c Change[string]
	err := Decode(changePayload(`[{"name":"v","type":"int4"}]`, `{"v":1}`), &c)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "data.record", de.Field)
	assert.Empty(t, de.Column, "no column is to blame when T cannot hold an object")

	var raw Change[json.RawMessage]
	require.NoError(t, Decode(changePayload(`[]`, `{"v":1}`), &raw))
	assert.JSONEq(t, `{"v":1}`, string(raw.New))
}

func TestDecodeManyRejectedColumnsStaysLinear(t *testing.T) {
	// Every value of a wide legacy row needs converting; each is decoded a
	// bounded number of times.
	const n = 2000
	cols := []byte("[")
	rec := []byte("{")
	for i := 0; i < n; i++ {
		if i > 0 {
			cols = append(cols, ',')
			rec = append(rec, ',')
		}
		name := "c" + strconv.Itoa(i)
		cols = append(cols, `{"name":"`+name+`","type":"int4"}`...)
		rec = append(rec, `"`+name+`":"`+strconv.Itoa(i)+`"`...)
	}
	cols = append(cols, ']')
	rec = append(rec, '}')
	var c Change[map[string]int]
	require.NoError(t, Decode(changePayload(string(cols), string(rec)), &c))
	assert.Len(t, c.New, n)
	assert.Equal(t, 1999, c.New["c1999"])
}

// TestColumnsListsAlternate: the envelope parsers recognise the last
// columns list by its text; lists that alternate, or that begin with the
// last one's text and go on, must still each be read as themselves.
func TestColumnsListsAlternate(t *testing.T) {
	a := `[{"name":"v","type":"int4"}]`
	b := `[{"name":"v","type":"text"}]`
	for i, tc := range []struct {
		columns, record string
		want            []Column
		ok              bool
	}{
		{a, `{"v":1}`, []Column{{Name: "v", Type: "int4"}}, true},
		{b, `{"v":"x"}`, []Column{{Name: "v", Type: "text"}}, true},
		{a, `{"v":2}`, []Column{{Name: "v", Type: "int4"}}, true},
		{a + `]`, `{"v":3}`, nil, false},              // the last list's text, then garbage
		{a[:len(a)-1] + `,1]`, `{"v":4}`, nil, false}, // a list the last one's text is not a prefix of
		{a, `{"v":5}`, []Column{{Name: "v", Type: "int4"}}, true},
	} {
		for _, parse := range []func([]byte, *Envelope) error{ParseEnvelope, ScanEnvelope} {
			var env Envelope
			err := parse(changePayload(tc.columns, tc.record), &env)
			if !tc.ok {
				assert.ErrorIs(t, err, ErrDecode, "case %d", i)
				continue
			}
			require.NoError(t, err, "case %d", i)
			assert.Equal(t, tc.want, env.Columns, "case %d", i)
			require.NoError(t, env.CheckRows())
		}
	}
}

// A value a field rejects is quoted as it was sent, alone: not the rest of
// the row after it (segmentio's excerpt runs to the end of its input, which
// for the one-column probe is the value and the object's closing brace).
func TestDecodeErrorQuotesTheValueAlone(t *testing.T) {
	type order struct {
		ID     int     `json:"id"`
		Amount float64 `json:"amount"`
	}
	for _, tc := range []struct {
		name, columns, record, want string
	}{
		{"text into a number", `[{"name":"id","type":"int8"},{"name":"amount","type":"float8"}]`, `{"id":1,"amount":"lots"}`,
			`postgres: decode data.record column "amount": json: cannot unmarshal string "lots" into Go struct field postgres.order.amount of type float64`},
		{"a number out of range, column unknown", `[]`, `{"id":99999999999999999999,"amount":1}`,
			`postgres: decode data.record column "id": json: cannot unmarshal number 99999999999999999999 (out of range) into Go struct field postgres.order.id of type int`},
		{"a number out of range, column typed", `[{"name":"id","type":"int8"}]`, `{"id":99999999999999999999,"amount":1}`,
			`postgres: decode data.record column "id": json: cannot unmarshal number 99999999999999999999 (out of range) into Go struct field postgres.order.id of type int`},
		{"a long value is cut", `[{"name":"amount","type":"float8"}]`, `{"amount":"` + strings.Repeat("x", 100) + `"}`,
			`postgres: decode data.record column "amount": json: cannot unmarshal string "` + strings.Repeat("x", 32) + `..." into Go struct field postgres.order.amount of type float64`},
		{"an object", `[{"name":"amount","type":"jsonb"}]`, `{"amount":{"a":1}}`,
			`postgres: decode data.record column "amount": json: cannot unmarshal object into Go struct field postgres.order.amount of type float64`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Change[order]
			err := Decode(changePayload(tc.columns, tc.record), &c)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}
