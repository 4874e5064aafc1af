package operators

import (
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
