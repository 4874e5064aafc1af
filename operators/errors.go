package operators

import (
	"errors"
	"fmt"
	"time"
)

// badArg panics with a message naming the operator and its bad argument: a pipeline built with an invalid
// argument is a programmer error, reported where it is built (as time.NewTicker(0) does), never a stream that
// fails later or, worse, quietly ends.
func badArg(op, arg, format string, args ...any) {
	panic(fmt.Sprintf("operators.%s: invalid argument %s: %s", op, arg, fmt.Sprintf(format, args...)))
}

func checkDuration(op string, d time.Duration) {
	if d <= 0 {
		badArg(op, "d", "non-positive duration %v", d)
	}
}

func checkFunc(op, arg string, isNil bool) {
	if isNil {
		badArg(op, arg, "nil function")
	}
}

// ErrTimeout is matched (errors.Is) by the *TimeoutError that ends a Timeout stream.
var ErrTimeout = errors.New("operators: timeout")

// TimeoutError ends a Timeout stream whose source stayed silent too long.
type TimeoutError struct {
	After time.Duration // the configured timeout
}

// Error describes the timeout.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("operators: no value within %v", e.After)
}

// Unwrap returns ErrTimeout.
func (e *TimeoutError) Unwrap() error { return ErrTimeout }

// ErrSourceCompleted is the cause given to OnRetry and kept in RetryExhaustedError when the source completed
// without error and RetryOnComplete(true) made it retry.
var ErrSourceCompleted = errors.New("operators: source completed")

// ErrRetryExhausted is matched (errors.Is) by a *RetryExhaustedError.
var ErrRetryExhausted = errors.New("operators: retries exhausted")

// RetryExhaustedError ends a RetryWithBackoff stream whose MaxAttempts ran out. It unwraps to both
// ErrRetryExhausted and the last cause, so errors.Is/As see through it.
type RetryExhaustedError struct {
	Attempts int   // retries performed since the last reset (= MaxAttempts)
	Last     error // cause of the last failure (ErrSourceCompleted for a clean end)
}

// Error describes the exhaustion and its last cause.
func (e *RetryExhaustedError) Error() string {
	return fmt.Sprintf("operators: retries exhausted after %d attempts: %v", e.Attempts, e.Last)
}

// Unwrap returns ErrRetryExhausted and the last cause.
func (e *RetryExhaustedError) Unwrap() []error { return []error{ErrRetryExhausted, e.Last} }
