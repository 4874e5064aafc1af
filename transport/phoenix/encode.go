package phoenix

import (
	"errors"
	"strconv"

	"github.com/rxrealtime/rxrealtime/transport/internal/jsonscan"
)

// maxBinaryField is the largest length a binary frame header can express.
const maxBinaryField = 255

func encodeErr(field, reason string) *EncodeError {
	return &EncodeError{Field: field, Reason: reason}
}

// fieldLen checks that a field fits a binary frame's one-byte length.
func fieldLen(field string, n int) (byte, error) {
	if n > maxBinaryField {
		return 0, encodeErr(field, "is "+strconv.Itoa(n)+" bytes; a binary frame allows at most 255")
	}
	return byte(n), nil
}

// checkJSON checks that b is one JSON value. Empty b is accepted (it is
// written as {} by the callers that allow it).
func checkJSON(field string, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, _, err := jsonscan.ValidateValue(b); err != nil {
		reason := err.Error()
		var se *jsonscan.Error
		if errors.As(err, &se) { // the scanner's reason, without its internal package's name
			reason = se.Reason + " at byte " + strconv.Itoa(se.Offset)
		}
		return encodeErr(field, "is not a single JSON value: "+reason)
	}
	return nil
}

// isUserBroadcast reports whether a KindJSON message is a user broadcast in
// model form: UserEvent set, Payload the user payload.
func isUserBroadcast(m *Message) bool { return m.UserEvent != "" }

// checkText checks that m can travel in a text frame.
func checkText(m *Message) error {
	if m.Binary {
		return encodeErr("payload", "a binary payload cannot travel in a text frame; use a binary kind with vsn 2.0.0")
	}
	if m.Status != "" {
		return encodeErr("status", "only binary replies (KindReply) carry a status field; a text reply has it in its payload")
	}
	if isUserBroadcast(m) {
		if m.Event != EventBroadcast {
			return encodeErr("user_event", "is set but the event is "+strconv.Quote(m.Event)+", not \"broadcast\"")
		}
		if err := checkJSON("payload", m.Payload); err != nil {
			return err
		}
		if err := checkJSON("meta", m.Meta); err != nil {
			return err
		}
		return nil
	}
	if m.Meta != nil {
		return encodeErr("meta", "only user broadcasts (UserEvent set, or kinds 3 and 4) carry metadata")
	}
	return checkJSON("payload", m.Payload)
}

// appendRef appends a ref as a JSON string, or null when empty.
func appendRef(dst []byte, ref string) []byte {
	if ref == "" {
		return append(dst, "null"...)
	}
	return jsonscan.AppendString(dst, ref)
}

// appendJSON appends a checked JSON value, or {} when empty.
func appendJSON(dst, v []byte) []byte {
	if len(v) == 0 {
		return append(dst, '{', '}')
	}
	return append(dst, v...)
}

// appendTextPayload appends the payload of a checked text message: the
// payload itself, or for a user broadcast in model form the broadcast
// object {"type":"broadcast","event":E,"payload":P[,"meta":M]}.
func appendTextPayload(dst []byte, m *Message) []byte {
	if !isUserBroadcast(m) {
		return appendJSON(dst, m.Payload)
	}
	dst = append(dst, `{"type":"broadcast","event":`...)
	dst = jsonscan.AppendString(dst, m.UserEvent)
	dst = append(dst, `,"payload":`...)
	dst = appendJSON(dst, m.Payload)
	if len(m.Meta) > 0 {
		dst = append(dst, `,"meta":`...)
		dst = append(dst, m.Meta...)
	}
	return append(dst, '}')
}
