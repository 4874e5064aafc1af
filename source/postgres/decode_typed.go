package postgres

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
	sjson "github.com/segmentio/encoding/json"
)

// decodeTypedRow decodes a row straight into dst. Only if that fails does it
// look for the values dst rejects: it decodes each value alone (an object of
// one key, which leaves every other field of a struct untouched), converts
// each rejected one by its column type (see the package documentation), and
// decodes the row again. Each value is decoded a bounded number of times, so
// the work stays linear in the size of the row. A value still rejected after
// conversion is reported with its column in the [*DecodeError].
func decodeTypedRow[T any](raw []byte, t *table, dst *T) *DecodeError {
	// The fast path uses goccy/go-json: on rows with escaped and non-ASCII
	// text (chat messages) it decodes in about half segmentio's time
	// (bench: BenchmarkThroughput). segmentio stays for the slow path,
	// whose type errors name the JSON key, and so the column. raw was
	// walked by phoenix.Skip (checkRows or ParseEnvelope), which bounds its
	// nesting: neither decoder needs another pass over it (see depth.go).
	if gojson.Unmarshal(raw, dst) == nil {
		return nil
	}
	var zero, empty T
	*dst = zero
	err := sjson.Unmarshal(raw, dst)
	if err == nil {
		return nil
	}
	var fields map[string]sjson.RawMessage
	if sjson.Unmarshal(raw, &fields) != nil || fields == nil || sjson.Unmarshal([]byte("{}"), &empty) != nil {
		// Not an object, or T cannot hold one: no column to blame.
		return &DecodeError{Err: valueError(err, raw)}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the same column every time
	probe := new(T)
	var buf []byte
	changed := false
	for _, k := range keys {
		v := fields[k]
		buf = appendObject(buf[:0], k, v)
		*probe = zero
		perr := sjson.Unmarshal(buf, probe)
		if perr == nil {
			continue
		}
		// The value as it was sent is the one to report, even when its conversion fails too.
		perr = valueError(perr, v)
		ct, known := t.typeOf(k)
		if !known {
			return &DecodeError{Column: k, Err: perr}
		}
		nv, ok, cerr := convertRaw(ct, v)
		if cerr != nil {
			return &DecodeError{Column: k, Err: cerr}
		}
		if !ok {
			return &DecodeError{Column: k, Err: perr}
		}
		buf = appendObject(buf[:0], k, nv)
		*probe = zero
		if sjson.Unmarshal(buf, probe) != nil {
			return &DecodeError{Column: k, Err: perr}
		}
		fields[k] = nv
		changed = true
	}
	if !changed {
		return &DecodeError{Err: fieldError(err, fields)}
	}
	buf = buf[:0]
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendMember(buf, k, fields[k])
	}
	buf = append(buf, '}')
	*dst = zero
	if err := sjson.Unmarshal(buf, dst); err != nil {
		return &DecodeError{Err: fieldError(err, fields)}
	}
	return nil
}

// valueError is err, the error of decoding a JSON text in which the value v
// was rejected, with a type error's text about v alone. segmentio's type
// errors quote the decoder's input from the value to the end (at most 32
// bytes of it): for a row, the value, the columns after it and the closing
// brace. It reports the value as encoding/json does (string, number,
// object...), with the text of a string or number, cut at 32 bytes, and
// keeps the overflow of a number. Other errors are returned as they are.
func valueError(err error, v []byte) error {
	var te *sjson.UnmarshalTypeError
	v = bytes.TrimLeft(v, " \t\r\n")
	if !errors.As(err, &te) || len(v) == 0 {
		return err
	}
	out := *te
	out.Value = describeValue(v, strings.HasSuffix(te.Value, " overflows"))
	return &out
}

// fieldError is valueError for an error of decoding a whole row, whose
// value is the row's member the type error names (fields), if any.
func fieldError(err error, fields map[string]sjson.RawMessage) error {
	var te *sjson.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	name, _, _ := strings.Cut(te.Field, ".")
	if v, ok := fields[name]; ok && name != "" {
		return valueError(err, v)
	}
	return err
}

// maxValueExcerpt bounds the text of a value quoted in a decoding error.
const maxValueExcerpt = 32

// describeValue describes a JSON value for a type error: its kind, and the
// text of a string or a number.
func describeValue(v []byte, overflow bool) string {
	switch c := v[0]; {
	case c == '"':
		var s string
		if sjson.Unmarshal(v, &s) != nil {
			return "string"
		}
		if len(s) > maxValueExcerpt {
			cut := maxValueExcerpt
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			s = s[:cut] + "..."
		}
		return "string " + strconv.Quote(s)
	case c == '-' || (c >= '0' && c <= '9'):
		n := string(v)
		if len(n) > maxValueExcerpt {
			n = n[:maxValueExcerpt] + "..."
		}
		if overflow {
			return "number " + n + " (out of range)"
		}
		return "number " + n
	case c == 't' || c == 'f':
		return "bool"
	case c == '[':
		return "array"
	case c == '{':
		return "object"
	}
	return "null"
}

// appendObject writes the JSON object {k: v}.
func appendObject(b []byte, k string, v []byte) []byte {
	b = append(b, '{')
	b = appendMember(b, k, v)
	return append(b, '}')
}

func appendMember(b []byte, k string, v []byte) []byte {
	b = sjson.AppendEscape(b, k, 0)
	b = append(b, ':')
	return append(b, v...)
}

// convertRaw rewrites one JSON value of a column into the form a Go field of
// the natural type for that column accepts, or toggles it between number or
// JSON and string. It reports false if there is nothing to rewrite, and an
// error wrapping phoenix.ErrTooDeep for JSON text (a json or jsonb value sent
// as a string) nested deeper than phoenix.MaxDepth.
func convertRaw(ct colType, raw []byte) ([]byte, bool, error) {
	if ct.array {
		return convertRawArray(ct.kind, raw)
	}
	return convertRawScalar(ct.kind, raw)
}

func convertRawScalar(k kind, raw []byte) ([]byte, bool, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, false, nil
	}
	if raw[0] != '"' {
		switch {
		case k == kindInt || k == kindFloat || k == kindNumeric:
			if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
				return sjson.AppendEscape(nil, string(raw), 0), true, nil // number -> string
			}
		case k == kindJSON:
			return sjson.AppendEscape(nil, string(raw), 0), true, nil // JSON -> string
		}
		return nil, false, nil
	}
	var s string
	if sjson.Unmarshal(raw, &s) != nil {
		return nil, false, nil
	}
	return textToJSON(k, s, false)
}

// textToJSON converts the text of a value of kind k to the JSON its natural
// Go type reads. With quoteOther it quotes text it cannot convert instead of
// reporting false. The error is jsonText's, for JSON text too deep to read.
func textToJSON(k kind, s string, quoteOther bool) ([]byte, bool, error) {
	switch k {
	case kindInt, kindFloat, kindNumeric:
		if t := strings.TrimSpace(s); isJSONNumber(t) {
			return []byte(t), true, nil
		}
	case kindBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true":
			return []byte("true"), true, nil
		case "f", "false":
			return []byte("false"), true, nil
		}
	case kindJSON:
		b, ok, err := jsonText(s)
		if err != nil || ok {
			return b, ok, err
		}
	case kindTimestamp, kindTimestamptz, kindDate:
		if tm, ok := parseTime(strings.TrimSpace(s)); ok {
			return sjson.AppendEscape(nil, tm.Format(time.RFC3339Nano), 0), true, nil
		}
	}
	if quoteOther {
		return sjson.AppendEscape(nil, s, 0), true, nil
	}
	return nil, false, nil
}

func convertRawArray(k kind, raw []byte) ([]byte, bool, error) {
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if sjson.Unmarshal(raw, &s) != nil {
			return nil, false, nil
		}
		elems, err := parseArrayLiteral(s)
		if err != nil {
			return nil, false, nil
		}
		b, err := appendLiteralElems(nil, k, elems)
		if err != nil {
			return nil, false, err
		}
		return b, true, nil
	case len(raw) > 0 && raw[0] == '[':
		var elems []sjson.RawMessage
		if sjson.Unmarshal(raw, &elems) != nil {
			return nil, false, nil
		}
		changed := false
		for i, e := range elems {
			convert := convertRawScalar
			if len(e) > 0 && e[0] == '[' {
				convert = convertRawArray // a nested dimension
			}
			v, ok, err := convert(k, e)
			if err != nil {
				return nil, false, err
			}
			if ok {
				elems[i], changed = v, true
			}
		}
		if !changed {
			return nil, false, nil
		}
		b := []byte{'['}
		for i, e := range elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e...)
		}
		return append(b, ']'), true, nil
	}
	return nil, false, nil
}

// appendLiteralElems writes the elements of a parsed array literal as a JSON
// array, converting each by the element kind.
func appendLiteralElems(b []byte, k kind, elems []any) ([]byte, error) {
	b = append(b, '[')
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		switch x := e.(type) {
		case nil:
			b = append(b, "null"...)
		case []any:
			b, err = appendLiteralElems(b, k, x)
		case string:
			var v []byte
			v, _, err = textToJSON(k, x, true)
			b = append(b, v...)
		}
		if err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}
