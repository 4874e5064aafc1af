package postgres

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	sjson "github.com/segmentio/encoding/json"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// decodeMapRow decodes a row into a map and converts every value by its
// column type (see the package documentation).
func decodeMapRow(raw []byte, t *table, dst *map[string]any) *DecodeError {
	var m map[string]any
	// raw was walked by phoenix.Skip (checkRows or ParseEnvelope), which
	// bounds its nesting: no second pass here (see depth.go).
	if _, err := sjson.Parse(raw, &m, sjson.UseNumber); err != nil {
		return &DecodeError{Err: err}
	}
	for k, v := range m {
		ct, ok := t.typeOf(k)
		if !ok || v == nil {
			continue
		}
		nv, err := convertValue(ct, v)
		if err != nil {
			return &DecodeError{Column: k, Err: err}
		}
		m[k] = nv
	}
	*dst = m
	return nil
}

func convertValue(ct colType, v any) (any, error) {
	if !ct.array {
		return convertScalar(ct.kind, v)
	}
	switch x := v.(type) {
	case []any:
		return convertElems(ct.kind, x)
	case string:
		elems, err := parseArrayLiteral(x)
		if err != nil {
			return nil, err
		}
		return convertElems(ct.kind, elems)
	}
	return v, nil
}

func convertElems(k kind, elems []any) ([]any, error) {
	for i, e := range elems {
		var err error
		if sub, ok := e.([]any); ok {
			elems[i], err = convertElems(k, sub)
		} else if e != nil {
			elems[i], err = convertScalar(k, e)
		}
		if err != nil {
			return nil, err
		}
	}
	return elems, nil
}

var errBytea = errors.New("bytea value is not hex")

func convertScalar(k kind, v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		switch k {
		case kindInt:
			if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
				return i, nil
			}
		case kindFloat:
			if f, err := strconv.ParseFloat(string(x), 64); err == nil {
				return f, nil
			}
		}
	case string:
		switch k {
		case kindInt:
			t := strings.TrimSpace(x)
			if i, err := strconv.ParseInt(t, 10, 64); err == nil {
				return i, nil
			}
			if isJSONNumber(t) {
				return json.Number(t), nil
			}
		case kindFloat:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
		case kindNumeric:
			if t := strings.TrimSpace(x); isJSONNumber(t) {
				return json.Number(t), nil
			}
		case kindBool:
			switch x {
			case "t", "true":
				return true, nil
			case "f", "false":
				return false, nil
			}
		case kindJSON:
			if t := strings.TrimSpace(x); t != "" && (t[0] == '{' || t[0] == '[') {
				// Nothing has walked the string's text as JSON: bound it
				// before the parser recurses into it.
				b := []byte(t)
				if err := phoenix.CheckDepth(b); err != nil {
					return nil, err
				}
				var out any
				if rest, err := sjson.Parse(b, &out, sjson.UseNumber); err == nil && len(rest) == 0 {
					return out, nil
				}
			}
		case kindTimestamp:
			return strings.Replace(x, " ", "T", 1), nil
		case kindBytea:
			b, err := decodeHex(x)
			if err != nil {
				return nil, err
			}
			return b, nil
		}
	}
	return v, nil
}

// decodeHex reads bytea hex output, with or without the \x prefix.
func decodeHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(s, `\x`)
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, errBytea
	}
	return b, nil
}
