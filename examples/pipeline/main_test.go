package main

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Example runs the whole pipeline example against the embedded server.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// search: "gopher" (7 keystrokes, 1 search)
	// room 7: [1:"hi"]
	// room 7: [1:"hi" 3:"hello"]
	// room 7: [1:"hi (edited)" 3:"hello"]
	// room 7: [1:"hi (edited)"]
}

// TestRunUnderRace keeps the example in the race-enabled suite.
func TestRunUnderRace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, &discard{}); err != nil {
		t.Fatal(err)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
