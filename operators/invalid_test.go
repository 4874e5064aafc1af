package operators_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
)

// Every operator given an invalid argument panics where the pipeline is built, with a message naming the
// operator and the argument (issue 10, point 5: no silent pipelines).
func TestInvalidArgumentsPanicAtConstruction(t *testing.T) {
	src := stream.Of(1)
	ok := func(v int) int { return v }
	var nilCtx context.Context
	tests := []struct {
		op, arg string
		build   func()
	}{
		{"Debounce", "d", func() { operators.Debounce(src, 0) }},
		{"Debounce", "d", func() { operators.Debounce(src, -time.Second) }},
		{"Throttle", "d", func() { operators.Throttle(src, 0) }},
		{"Throttle", "d", func() { operators.Throttle(src, -time.Millisecond) }},
		{"Sample", "d", func() { operators.Sample(src, 0) }},
		{"Sample", "d", func() { operators.Sample(src, -1) }},
		{"BufferTime", "d", func() { operators.BufferTime(src, 0) }},
		{"BufferTime", "d", func() { operators.BufferTime(src, -time.Hour) }},
		{"Timeout", "d", func() { operators.Timeout(src, 0) }},
		{"Timeout", "d", func() { operators.Timeout(src, -time.Second) }},
		{"BufferCount", "n", func() { operators.BufferCount(src, 0) }},
		{"BufferCount", "n", func() { operators.BufferCount(src, -3) }},
		{"Take", "n", func() { operators.Take(src, -1) }},
		{"Skip", "n", func() { operators.Skip(src, -1) }},
		{"Filter", "keep", func() { operators.Filter(src, nil) }},
		{"Map", "f", func() { operators.Map[int, int](src, nil) }},
		{"Tap", "fn", func() { operators.Tap(src, nil) }},
		{"MapErr", "f", func() { operators.MapErr[int, int](src, nil) }},
		{"SkipErrors", "report", func() {
			operators.MapErr(src, func(v int) (int, error) { return v, nil }, operators.SkipErrors(nil))
		}},
		{"Scan", "f", func() { operators.Scan[int, int](src, 0, nil) }},
		{"Reduce", "f", func() { operators.Reduce[int, int](src, 0, nil) }},
		{"Distinct", "key", func() { operators.Distinct[int, int](src, nil) }},
		{"DistinctUntilChanged", "key", func() { operators.DistinctUntilChanged[int, int](src, nil) }},
		{"FlatMap", "f", func() { operators.FlatMap[int, int](src, nil) }},
		{"ConcatMap", "f", func() { operators.ConcatMap[int, int](src, nil) }},
		{"TakeUntilContext", "until", func() { operators.TakeUntilContext(src, nilCtx) }},
		{"RetryWithBackoff", "b", func() { operators.RetryWithBackoff(src, nil) }},
		{"RetryWithBackoff", "b", func() { operators.RetryWithBackoff(src, operators.BackoffFunc(nil)) }},
	}
	for _, tc := range tests {
		t.Run(tc.op+"/"+tc.arg, func(t *testing.T) {
			var msg string
			func() {
				defer func() { msg = fmt.Sprint(recover()) }()
				tc.build()
			}()
			require.NotEqual(t, "<nil>", msg, "no panic at construction")
			assert.Contains(t, msg, "operators."+tc.op+": invalid argument "+tc.arg+":")
		})
	}

	// Valid boundary values do not panic.
	assert.NotPanics(t, func() {
		operators.Take(src, 0)
		operators.Skip(src, 0)
		operators.BufferCount(src, 1)
		operators.Debounce(src, time.Nanosecond)
		operators.Map(src, ok)
		operators.RetryWithBackoff(src, operators.StepBackoff(nil))
	})
}

func ExampleThrottle_invalid() {
	defer func() { fmt.Println(recover()) }()
	operators.Throttle(stream.Of(1), 0)
	// Output: operators.Throttle: invalid argument d: non-positive duration 0s
}
