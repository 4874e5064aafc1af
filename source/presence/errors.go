package presence

import (
	"errors"
	"strconv"
)

// ErrDecode is matched (errors.Is) by every [*DecodeError].
var ErrDecode = errors.New("presence: cannot decode payload")

// DecodeError reports a presence_state or presence_diff payload that cannot
// be decoded.
type DecodeError struct {
	// Key is the presence key whose entry is at fault, if any.
	Key string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *DecodeError) Error() string {
	s := "presence: decode"
	if e.Key != "" {
		s += " key " + strconv.Quote(e.Key)
	}
	return s + ": " + e.Err.Error()
}

// Is reports whether target is [ErrDecode].
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// ErrTooManyPending is returned by [Tracker.HandleDiff] when
// [MaxPendingDiffs] diffs already wait for a presence_state; the diff is
// not kept.
var ErrTooManyPending = errors.New("presence: too many diffs waiting for a presence_state")
