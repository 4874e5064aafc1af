package realtimetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// errNotObject reports a value that must be a JSON object but is not.
var errNotObject = errors.New("not a JSON object")

// field is one key of a JSON object, in its original order.
type field struct {
	name string
	raw  json.RawMessage
}

// record is a JSON object that keeps its key order.
type record []field

// get returns the raw value of name.
func (r record) get(name string) (json.RawMessage, bool) {
	for i := range r {
		if r[i].name == name {
			return r[i].raw, true
		}
	}
	return nil, false
}

// appendJSON appends r as a JSON object, keeping only the fields keep
// accepts (all if keep is nil).
func (r record) appendJSON(dst []byte, keep func(string) bool) []byte {
	dst = append(dst, '{')
	first := true
	for _, f := range r {
		if keep != nil && !keep(f.name) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, f.name)
		dst = append(dst, ':')
		dst = append(dst, f.raw...)
	}
	return append(dst, '}')
}

// toRecord converts a user value (json.RawMessage, []byte, string holding
// JSON, map, struct...) to an ordered JSON object. nil gives a nil record.
func toRecord(v any) (record, error) {
	var raw []byte
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	return parseObject(raw)
}

// parseObject parses a JSON object into a record, keeping key order and the
// values' raw (compacted) text. JSON null gives a nil record.
func parseObject(raw []byte) (record, error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	r := record{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, val); err != nil {
			return nil, err
		}
		// A repeated key keeps the last value, as JSON decoders do.
		replaced := false
		for i := range r {
			if r[i].name == name {
				r[i].raw = buf.Bytes()
				replaced = true
			}
		}
		if !replaced {
			r = append(r, field{name: name, raw: buf.Bytes()})
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after object")
	}
	return r, nil
}

// canonicalJSON renders a JSON value with sorted object keys and no
// whitespace, for hashing.
func canonicalJSON(raw []byte) ([]byte, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v) // encoding/json sorts map keys
}

// inspectJSON renders a JSON value as Elixir's inspect/1 renders the term
// Jason decodes it to: %{"k" => "v"}, [1, 2], nil, true, "s".
func inspectJSON(raw []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	var b strings.Builder
	inspectValue(&b, v)
	return b.String()
}

func inspectValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("nil")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case json.Number:
		b.WriteString(x.String())
	case string:
		b.WriteString(inspectString(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			inspectValue(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("%{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(inspectString(k))
			b.WriteString(" => ")
			inspectValue(b, x[k])
		}
		b.WriteByte('}')
	}
}
