package phoenix

import (
	"errors"

	"github.com/rxrealtime/rxrealtime/transport/internal/jsonscan"
)

func payloadErr(shape string, off int, reason string) *PayloadError {
	return &PayloadError{Shape: shape, Offset: off, Reason: reason}
}

func payloadScanErr(shape string, err error, what string) *PayloadError {
	var se *jsonscan.Error
	if errors.As(err, &se) {
		e := payloadErr(shape, se.Offset, what+se.Reason)
		e.tooDeep = se.TooDeep()
		return e
	}
	return payloadErr(shape, 0, what+err.Error())
}

// member is one member of a payload object: its value's bounds.
type member struct {
	start, end int
}

func (m member) present() bool { return m.end > 0 }

// scanObject walks the JSON object p and records the bounds of the values
// of the wanted keys (the last occurrence wins); other members are checked
// and skipped. Nothing is allocated for keys without escapes.
func scanObject(shape string, p []byte, keys []string, out []member) error {
	i := jsonscan.SkipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return payloadErr(shape, i, "expected a JSON object")
	}
	i = jsonscan.SkipSpace(p, i+1)
	if i < len(p) && p[i] == '}' {
		i++
	} else {
		var buf [32]byte
		for {
			key, v, err := jsonscan.Key(p, i, buf[:])
			if err != nil {
				return payloadScanErr(shape, err, "object key: ")
			}
			end, err := jsonscan.Skip(p, v)
			if err != nil {
				return payloadScanErr(shape, err, "")
			}
			for k, want := range keys {
				if string(key) == want {
					out[k] = member{v, end}
				}
			}
			var more bool
			if i, more, err = jsonscan.Next(p, end, '}'); err != nil {
				return payloadScanErr(shape, err, "")
			}
			if !more {
				break
			}
		}
	}
	if j := jsonscan.SkipSpace(p, i); j != len(p) {
		return payloadErr(shape, j, "unexpected data after the object")
	}
	return nil
}

// stringAt reads the JSON string value of a member; ok is false when the
// value is not a string.
func stringAt(p []byte, m member) (string, bool) {
	if p[m.start] != '"' {
		return "", false
	}
	raw := p[m.start+1 : m.end-1]
	for _, c := range raw {
		if c == '\\' {
			return jsonscan.Unquote(raw), true
		}
	}
	return bytesString(raw), true
}

var replyKeys = []string{"status", "response"}

// ParseReply reads the payload of a phx_reply, {"status":S,"response":R}
// with the members in any order, without decoding the response: response
// is the raw JSON of R and aliases payload (nil when the member is absent).
// Well-known statuses ("ok", "error", "timeout") do not allocate. A payload
// that is not such an object, or whose status is missing or not a string,
// is a [*PayloadError] wrapping [ErrMalformed].
func ParseReply(payload []byte) (status string, response []byte, err error) {
	var ms [2]member
	if err := scanObject("reply", payload, replyKeys, ms[:]); err != nil {
		return "", nil, err
	}
	if !ms[0].present() {
		return "", nil, payloadErr("reply", 0, `missing "status"`)
	}
	status, ok := stringAt(payload, ms[0])
	if !ok {
		return "", nil, payloadErr("reply", ms[0].start, `"status" is not a string`)
	}
	if ms[1].present() {
		response = payload[ms[1].start:ms[1].end:ms[1].end]
	}
	return status, response, nil
}

// Members of a broadcast payload object, in broadcastKeys order.
const (
	bcType = iota
	bcEvent
	bcPayload
	bcMeta
	bcPersist
	bcCount
)

var broadcastKeys = []string{"type", "event", "payload", "meta", "persist"}

// ParseBroadcast reads the payload of a user broadcast that arrived as
// JSON, {"type":"broadcast","event":E,"payload":P,"meta":M}, with the
// members in any order, without decoding P or M: userPayload and meta are
// their raw JSON and alias payload, nil when absent. "type" may be absent,
// but if present must be "broadcast"; "event" is required and must be a
// string. Other members are ignored. A payload of another shape is a
// [*PayloadError] wrapping [ErrMalformed].
func ParseBroadcast(payload []byte) (event string, userPayload, meta []byte, err error) {
	var ms [bcCount]member
	if err := scanObject("broadcast", payload, broadcastKeys, ms[:]); err != nil {
		return "", nil, nil, err
	}
	if ms[bcType].present() {
		if typ, ok := stringAt(payload, ms[bcType]); !ok || typ != EventBroadcast {
			return "", nil, nil, payloadErr("broadcast", ms[bcType].start, `"type" is not "broadcast"`)
		}
	}
	if !ms[bcEvent].present() {
		return "", nil, nil, payloadErr("broadcast", 0, `missing "event"`)
	}
	event, ok := stringAt(payload, ms[bcEvent])
	if !ok {
		return "", nil, nil, payloadErr("broadcast", ms[bcEvent].start, `"event" is not a string`)
	}
	if m := ms[bcPayload]; m.present() {
		userPayload = payload[m.start:m.end:m.end]
	}
	if m := ms[bcMeta]; m.present() {
		meta = payload[m.start:m.end:m.end]
	}
	return event, userPayload, meta, nil
}
