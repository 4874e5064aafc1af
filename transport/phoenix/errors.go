package phoenix

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every decode error: the frame does not follow
// the serializer's format. A malformed frame is reported and skipped; it does
// not end the connection.
var ErrMalformed = errors.New("phoenix: malformed frame")

// ErrEncode is wrapped by every encode error, for instance a field longer
// than the 255 bytes a binary frame allows, or a binary payload given to a
// serializer that cannot carry it.
var ErrEncode = errors.New("phoenix: cannot encode message")

// DecodeError describes a frame that could not be decoded.
type DecodeError struct {
	// Serializer is the vsn of the serializer that failed ("1.0.0", "2.0.0").
	Serializer string
	// Binary reports whether the frame was a binary WebSocket frame.
	Binary bool
	// Offset is the byte offset in the frame where decoding failed.
	Offset int
	// Reason says what was wrong.
	Reason string
	// Frame is a prefix of the offending frame (at most 64 bytes), for logs.
	Frame []byte
}

// maxFrameExcerpt bounds DecodeError.Frame.
const maxFrameExcerpt = 64

// Error implements error.
func (e *DecodeError) Error() string {
	kind := "text"
	if e.Binary {
		kind = "binary"
	}
	return fmt.Sprintf("phoenix: malformed %s frame (vsn %s) at byte %d: %s", kind, e.Serializer, e.Offset, e.Reason)
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (e *DecodeError) Unwrap() error { return ErrMalformed }

// EncodeError describes a message that could not be encoded.
type EncodeError struct {
	// Field names the offending field ("topic", "event", "join_ref", ...).
	Field string
	// Reason says what was wrong.
	Reason string
}

// Error implements error.
func (e *EncodeError) Error() string {
	return fmt.Sprintf("phoenix: cannot encode %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrEncode) true.
func (e *EncodeError) Unwrap() error { return ErrEncode }

// PayloadError describes a payload that does not have the shape a helper
// such as [ParseReply] or [ParseBroadcast] expects. It wraps
// [ErrMalformed].
type PayloadError struct {
	// Shape names the expected payload ("reply", "broadcast").
	Shape string
	// Offset is the byte offset in the payload where parsing failed.
	Offset int
	// Reason says what was wrong.
	Reason string
}

// Error implements error.
func (e *PayloadError) Error() string {
	return fmt.Sprintf("phoenix: malformed %s payload at byte %d: %s", e.Shape, e.Offset, e.Reason)
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (e *PayloadError) Unwrap() error { return ErrMalformed }
