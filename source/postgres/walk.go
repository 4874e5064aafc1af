package postgres

// The envelope walker: one pass over a postgres_changes payload that
// descends into "data" in place, so the row is stepped over once (and
// checked) rather than once per nesting level. It is bounds-checked
// everywhere: bad input gives an error, never a panic.

import (
	"bytes"
	"errors"

	sjson "github.com/segmentio/encoding/json"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

var errTruncated = errors.New("unexpected end of JSON")

func skipSpace(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the index just past the JSON value starting at d[i],
// checking that it is well-formed.
func skipValue(d []byte, i int) (int, error) { return phoenix.Skip(d, i) }

// locateValue returns the index just past the JSON value starting at d[i]
// without checking it (phoenix.Locate): what it lets through is caught by a
// check of the value itself (checkRowJSON, or lookupTable for columns).
func locateValue(d []byte, i int) (int, error) { return phoenix.Locate(d, i) }

// walkObject calls f for each member of the object starting at d[i] with
// the member's key (raw, without quotes) and the index of its value; f
// returns the index just past the value. walkObject returns the index just
// past the object.
func walkObject(d []byte, i int, f func(key []byte, v int) (int, error)) (int, error) {
	i = skipSpace(d, i)
	if i >= len(d) || d[i] != '{' {
		return i, errors.New("expected a JSON object")
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return i, errors.New("expected an object key")
		}
		end, err := skipValue(d, i) // checks the key's escapes and characters
		if err != nil {
			return end, err
		}
		key := d[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			if err := sjson.Unmarshal(d[i:end], &k); err != nil {
				return end, err
			}
			key = []byte(k)
		}
		i = skipSpace(d, end)
		if i >= len(d) || d[i] != ':' {
			return i, errors.New("expected ':' after an object key")
		}
		if i, err = f(key, skipSpace(d, i+1)); err != nil {
			return i, err
		}
		i = skipSpace(d, i)
		if i >= len(d) {
			return i, errTruncated
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case '}':
			return i + 1, nil
		default:
			return i, errors.New("expected ',' or '}' in an object")
		}
	}
}
