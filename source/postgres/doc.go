// Package postgres is the typed layer for Supabase Realtime postgres_changes.
//
// It is pure logic with no socket: the channel layer uses it to render the
// bindings of a join payload ([Binding], built with the filter helpers such
// as [Eq] and [In]), to match the server's join reply against those bindings
// ([MatchReply]), and to decode each postgres_changes message into a
// [Change] of the user's row type ([Decode], or [ParseEnvelope] followed by
// [DecodeEnvelope] when one message feeds several consumers).
//
// # Decoding rows
//
// The server sends rows as JSON objects whose values usually already have the
// JSON type the Go field expects (numbers for int8, strings for uuid, objects
// for jsonb). [Decode] therefore decodes the record straight into T with
// github.com/goccy/go-json, a drop-in for encoding/json that is the fastest
// of the decoders measured in bench/README.md. Only when that fails does it
// decode each value of the row alone (with github.com/segmentio/encoding/json,
// whose type errors name the column) to find the ones T rejects, and rewrite
// those by the type of their column, as the server listed it:
//
//   - int2, int4, int8, oid, float4, float8, numeric: a number sent as a JSON
//     string is written as a number, and a number is written as a string when
//     the Go field is a string;
//   - bool: "t", "f", "true", "false" become booleans;
//   - json, jsonb: a string holding JSON is written as that JSON, and an
//     object or array is written as a string when the Go field is a string;
//   - timestamp, timestamptz, date: any PostgreSQL text form ("2024-01-02
//     03:04:05+00", no zone, date only) is rewritten as RFC 3339 so it can
//     fill a time.Time; a value with no zone is read as UTC;
//   - arrays (_int4, _text, ...): a PostgreSQL array literal such as
//     "{1,2,3}" or {"a b",NULL} becomes a JSON array, each element converted
//     by the rules above.
//
// A value is never rewritten unless T rejected it, so a string field keeps
// exactly the text the server sent. A value still rejected after the rewrite
// is reported as a [*DecodeError] naming its column.
//
// Nesting is bounded everywhere by phoenix.MaxDepth, including JSON that
// arrives inside a string: a row, or a json or jsonb value sent as text,
// nested deeper is refused with a [*DecodeError] wrapping
// phoenix.ErrTooDeep (naming its column), before any decoder recurses
// into it; only that change fails.
//
// int8 values are exact when decoded into an int64 (or uint64) field:
// 9007199254740993 arrives as 9007199254740993. An interface{} field gets
// float64, as with encoding/json, and loses precision above 2^53; use int64
// or json.Number fields for int8 columns.
//
// bytea values arrive as hex text ("0102ff", or "\\x0102ff" from older
// servers). Decode them into [Bytea] or a string, never into []byte: a []byte
// field would read the hex text as base64. [Timestamp] accepts every
// PostgreSQL timestamp form on the fast path.
//
// When T is map[string]any, every value is converted by its column type, like
// realtime-js's convertChangeData but into Go types: int2/int4/int8/oid to
// int64, float4/float8 to float64, numeric to json.Number (exact), bool to
// bool, bytea to []byte, json/jsonb to decoded values with json.Number
// numbers (a string is parsed only if it holds a JSON object or array, so a
// jsonb string such as "123" stays a string, unlike in realtime-js),
// timestamp to its string with the first space replaced by "T", arrays to
// []any, and everything else as decoded by encoding/json with json.Number
// numbers. int8 9007199254740993 therefore arrives as int64(9007199254740993).
package postgres
