package operators

import (
	"errors"
	"fmt"

	"github.com/rxrealtime/rxrealtime/stream"
)

// ErrInvalidArgument is matched (errors.Is) by the error of a stream built with a bad argument, such as a nil
// function or a negative count. Such a stream fails at once when run; operators never panic on bad input.
var ErrInvalidArgument = errors.New("operators: invalid argument")

func invalid[T any](op, msg string) stream.Stream[T] {
	return stream.Fail[T](fmt.Errorf("%w: %s: %s", ErrInvalidArgument, op, msg))
}
