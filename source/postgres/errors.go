package postgres

import (
	"errors"
	"strconv"
)

// ErrInvalidFilter is matched (errors.Is) by every [*FilterError].
var ErrInvalidFilter = errors.New("postgres: invalid filter")

// ErrInvalidBinding is matched (errors.Is) by every [*BindingError].
var ErrInvalidBinding = errors.New("postgres: invalid binding")

// ErrBindingMismatch is matched (errors.Is) by every [*MismatchError].
var ErrBindingMismatch = errors.New("postgres: mismatch between server and client bindings for postgres changes")

// ErrDecode is matched (errors.Is) by every [*DecodeError].
var ErrDecode = errors.New("postgres: cannot decode change")

// FilterError reports a filter that cannot be rendered into the server's
// filter syntax: an empty or unusable column name, a value of an unsupported
// type, or an operator used where the server cannot parse it.
type FilterError struct {
	// Column is the column the condition is on; it may be empty.
	Column string
	// Op is the operator, such as "eq" or "in"; it may be empty.
	Op string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *FilterError) Error() string {
	s := "postgres: invalid filter"
	if e.Column != "" {
		s += " on column " + strconv.Quote(e.Column)
	}
	if e.Op != "" {
		s += " (" + e.Op + ")"
	}
	return s + ": " + e.Reason
}

// Is reports whether target is [ErrInvalidFilter].
func (e *FilterError) Is(target error) bool { return target == ErrInvalidFilter }

// BindingError reports a [Binding] the server would reject.
type BindingError struct {
	// Field is the binding field at fault: "event", "schema", "table",
	// "filter" or "select".
	Field string
	// Reason says what is wrong.
	Reason string
	// Err is the underlying error, such as a [*FilterError]; it may be nil.
	Err error
}

// Error implements error.
func (e *BindingError) Error() string {
	s := "postgres: invalid binding " + e.Field + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is [ErrInvalidBinding].
func (e *BindingError) Is(target error) bool { return target == ErrInvalidBinding }

// Unwrap returns the underlying error.
func (e *BindingError) Unwrap() error { return e.Err }

// MismatchError reports that the server's join reply does not echo the
// client's postgres_changes bindings (realtime-js then fails the channel with
// CHANNEL_ERROR).
type MismatchError struct {
	// Index is the position of the first binding that does not match, or
	// -1 when the number of entries differs.
	Index int
	// Reason says what differs.
	Reason string
}

// Error implements error.
func (e *MismatchError) Error() string {
	s := ErrBindingMismatch.Error()
	if e.Index >= 0 {
		s += " (binding " + strconv.Itoa(e.Index) + ")"
	}
	return s + ": " + e.Reason
}

// Is reports whether target is [ErrBindingMismatch].
func (e *MismatchError) Is(target error) bool { return target == ErrBindingMismatch }

// DecodeError reports a postgres_changes payload, or a value in it, that
// cannot be decoded into the requested type.
type DecodeError struct {
	// Field is the payload field at fault, such as "data.type",
	// "data.record" or "data.old_record".
	Field string
	// Column is the table column whose value could not be decoded, when
	// known.
	Column string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *DecodeError) Error() string {
	s := "postgres: decode " + e.Field
	if e.Column != "" {
		s += " column " + strconv.Quote(e.Column)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is [ErrDecode].
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }
