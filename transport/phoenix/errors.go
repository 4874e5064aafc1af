package phoenix

import (
	"errors"
	"fmt"

	"github.com/rxrealtime/rxrealtime/transport/internal/jsonscan"
)

// ErrMalformed is wrapped by every decode error: the frame does not follow
// the serializer's format. A malformed frame is reported and skipped; it does
// not end the connection.
var ErrMalformed = errors.New("phoenix: malformed frame")

// MaxDepth is how deeply JSON arrays and objects from the server may nest,
// in every payload this module decodes: frames, replies, presence state and
// diffs, postgres rows (into structs and maps), jsonb values and strings
// re-parsed as JSON, broadcast payloads decoded into a user's type. Past it
// the value is refused with an error wrapping [ErrTooDeep], before any
// decoder recurses, and the message fails alone: the socket and every other
// channel carry on.
//
// Why 1,000: a Go decoder recurses once per level, and a goroutine stack
// that overflows kills the process (it cannot be recovered). Measured on
// the decoders this module uses, each level costs 0.25 to 1 KiB of stack,
// so 1,000 levels stay within about 1 MiB, while a 5 MiB frame of nested
// brackets would ask for gigabytes. No Realtime payload comes near it
// (presence metas, rows and broadcasts nest a handful of levels); it is
// the limit of Jackson and of CPython's recursion, and a tenth of
// encoding/json's.
const MaxDepth = jsonscan.MaxDepth

// ErrTooDeep is wrapped by every error about server input that nests deeper
// than [MaxDepth].
var ErrTooDeep = errors.New("phoenix: JSON nested deeper than 1000 levels (MaxDepth)")

// CheckDepth returns a [*PayloadError] wrapping [ErrTooDeep] if a container
// in data nests deeper than [MaxDepth], and nil otherwise; it checks nothing
// else (brackets inside strings are not counted). It is the guard for JSON
// that no frame decoder has walked (a JSON document held in a string, a
// binary frame's payload) before it reaches a decoder that recurses. It does
// not allocate and makes one pass over data.
func CheckDepth(data []byte) error {
	if err := jsonscan.CheckDepth(data); err != nil {
		return payloadScanErr("value", err, "")
	}
	return nil
}

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

	tooDeep bool // refused for nesting deeper than MaxDepth
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

// Unwrap makes errors.Is(err, ErrMalformed) true, and errors.Is(err,
// ErrTooDeep) for a frame refused for its nesting.
func (e *DecodeError) Unwrap() []error { return unwrapMalformed(e.tooDeep) }

func unwrapMalformed(tooDeep bool) []error {
	if tooDeep {
		return []error{ErrMalformed, ErrTooDeep}
	}
	return []error{ErrMalformed}
}

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

	tooDeep bool // refused for nesting deeper than MaxDepth
}

// Error implements error.
func (e *PayloadError) Error() string {
	return fmt.Sprintf("phoenix: malformed %s payload at byte %d: %s", e.Shape, e.Offset, e.Reason)
}

// Unwrap makes errors.Is(err, ErrMalformed) true, and errors.Is(err,
// ErrTooDeep) for a payload refused for its nesting.
func (e *PayloadError) Unwrap() []error { return unwrapMalformed(e.tooDeep) }
