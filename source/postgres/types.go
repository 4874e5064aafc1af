package postgres

import (
	"encoding/hex"
	"errors"
	"time"

	sjson "github.com/segmentio/encoding/json"
)

// Bytea is the value of a bytea column. It decodes the hex text the server
// sends ("0102ff", or "\\x0102ff" from older servers) and encodes as
// PostgreSQL's hex form "\\x0102ff". Use it instead of []byte, which JSON
// decoding would read as base64.
type Bytea []byte

// UnmarshalJSON reads null or a hex string.
func (b *Bytea) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*b = nil
		return nil
	}
	var s string
	if err := sjson.Unmarshal(data, &s); err != nil {
		return err
	}
	v, err := decodeHex(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalJSON writes the hex form "\\x...".
func (b Bytea) MarshalJSON() ([]byte, error) {
	if b == nil {
		return []byte("null"), nil
	}
	out := make([]byte, 0, 2*len(b)+5)
	out = append(out, `"\\x`...)
	out = hex.AppendEncode(out, b)
	return append(out, '"'), nil
}

// Timestamp is a time.Time that decodes every text form PostgreSQL gives
// timestamp, timestamptz and date values: with or without a zone (no zone
// means UTC), with "T" or a space, with offsets such as "+00" or "+05:30",
// or a date alone. It encodes as RFC 3339, like time.Time.
type Timestamp struct {
	time.Time
}

var errTimestamp = errors.New("not a PostgreSQL timestamp")

// UnmarshalJSON reads null (the zero time) or a timestamp string.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := sjson.Unmarshal(data, &s); err != nil {
		return err
	}
	v, ok := parseTime(s)
	if !ok {
		return errTimestamp
	}
	t.Time = v
	return nil
}
