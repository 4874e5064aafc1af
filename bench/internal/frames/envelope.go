package frames

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrEnvelope is wrapped by the error [SplitV2] returns for a text that is
// not a vsn 2.0.0 frame.
var ErrEnvelope = errors.New("frames: malformed vsn 2.0.0 envelope")

// Envelope is a vsn 2.0.0 frame split into its header fields and the raw
// JSON of its payload, without decoding the payload. The fields alias the
// frame text, except strings that held escapes, which are decoded copies.
type Envelope struct {
	JoinRef, Ref []byte // nil for null
	Topic, Event []byte
	Payload      []byte
}

// SplitV2 splits a [join_ref,ref,topic,event,payload] frame. It scans the
// four leading scalars and returns the payload as the rest of the array, so
// the payload is only read by whoever decodes it. It does not allocate
// unless a string holds escapes.
func SplitV2(text []byte) (Envelope, error) {
	var e Envelope
	i := skipSpace(text, 0)
	if i >= len(text) || text[i] != '[' {
		return e, fmt.Errorf("%w: no opening bracket", ErrEnvelope)
	}
	i++
	fields := [4]*[]byte{&e.JoinRef, &e.Ref, &e.Topic, &e.Event}
	for n, dst := range fields {
		i = skipSpace(text, i)
		var err error
		if i, err = scalar(text, i, dst, n >= 2); err != nil {
			return e, err
		}
		i = skipSpace(text, i)
		if i >= len(text) || text[i] != ',' {
			return e, fmt.Errorf("%w: element %d not followed by a comma", ErrEnvelope, n)
		}
		i++
	}
	end := len(text)
	end = trimSpaceRight(text, end)
	if end <= i || text[end-1] != ']' {
		return e, fmt.Errorf("%w: no closing bracket", ErrEnvelope)
	}
	e.Payload = text[skipSpace(text, i):trimSpaceRight(text, end-1)]
	if len(e.Payload) == 0 {
		return e, fmt.Errorf("%w: empty payload", ErrEnvelope)
	}
	return e, nil
}

// scalar reads null (if !required) or a JSON string at text[i:].
func scalar(text []byte, i int, dst *[]byte, required bool) (int, error) {
	if i+4 <= len(text) && string(text[i:i+4]) == "null" {
		if required {
			return i, fmt.Errorf("%w: null topic or event", ErrEnvelope)
		}
		*dst = nil
		return i + 4, nil
	}
	if i >= len(text) || text[i] != '"' {
		return i, fmt.Errorf("%w: expected a string at offset %d", ErrEnvelope, i)
	}
	escaped := false
	for j := i + 1; j < len(text); j++ {
		switch c := text[j]; {
		case c == '\\':
			escaped = true
			j++
		case c == '"':
			if !escaped {
				*dst = text[i+1 : j : j]
				return j + 1, nil
			}
			var s string
			if err := json.Unmarshal(text[i:j+1], &s); err != nil {
				return i, fmt.Errorf("%w: %v", ErrEnvelope, err)
			}
			*dst = []byte(s)
			return j + 1, nil
		case c < 0x20:
			return i, fmt.Errorf("%w: control character in string", ErrEnvelope)
		}
	}
	return i, fmt.Errorf("%w: unterminated string", ErrEnvelope)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func trimSpaceRight(b []byte, end int) int {
	for end > 0 && (b[end-1] == ' ' || b[end-1] == '\t' || b[end-1] == '\n' || b[end-1] == '\r') {
		end--
	}
	return end
}
