package phxrunner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/framesrv"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

// childEnv carries the spec to a child test process (see runChild).
const childEnv = "PHXRUNNER_CHILD_SPEC"

// TestPhxReceivesEveryChange runs phx in child processes, as the comparison
// does: phx v0.2.0 mutates a channel's binding map from callback goroutines
// while its reader iterates it, which now and then kills the process with
// "concurrent map iteration and map write". A run that dies that way is
// retried (up to 5 times) and logged; any other failure fails the test.
func TestPhxReceivesEveryChange(t *testing.T) {
	if raceEnabled {
		t.Skip("nshafer/phx v0.2.0 has data races of its own (go-peers.md §5.2); run without -race")
	}
	src, err := framesrv.Start(framesrv.WithRing(64))
	require.NoError(t, err)
	defer src.Close()
	for _, v := range []frames.Vsn{frames.V1, frames.V2} {
		for _, ch := range []int{1, 3} {
			spec := workload.Spec{Endpoint: src.Endpoint(), Vsn: v, Frames: 300, Channels: ch}
			r := runChild(t, spec)
			b, err := src.Burst(v, ch)
			require.NoError(t, err)
			assert.NoError(t, workload.Check(spec, b, r), "%s channels=%d", v, ch)
			assert.Positive(t, r.Elapsed)
		}
	}
	assert.Equal(t, "phx", Runner().Name())
}

func runChild(t *testing.T, spec workload.Spec) workload.Result {
	t.Helper()
	arg, err := json.Marshal(spec)
	require.NoError(t, err)
	for attempt := 1; attempt <= 5; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPhxChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+string(arg))
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			for line := range strings.Lines(string(out)) {
				if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
					var r workload.Result
					require.NoError(t, json.Unmarshal([]byte(rest), &r))
					return r
				}
			}
			t.Fatalf("child printed no result:\n%s", out)
		}
		if !strings.Contains(string(out), "concurrent map") {
			t.Fatalf("child failed: %v\n%s", err, out)
		}
		t.Logf("attempt %d: phx crashed on its own map race; retrying", attempt)
	}
	t.Fatal("phx crashed 5 times in a row")
	return workload.Result{}
}

// TestPhxChild is the child half of TestPhxReceivesEveryChange.
func TestPhxChild(t *testing.T) {
	arg := os.Getenv(childEnv)
	if arg == "" {
		t.Skip("only run as a child of TestPhxReceivesEveryChange")
	}
	var spec workload.Spec
	require.NoError(t, json.Unmarshal([]byte(arg), &spec))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := Runner().Run(ctx, spec)
	require.NoError(t, err)
	out, err := json.Marshal(r)
	require.NoError(t, err)
	fmt.Printf("RESULT %s\n", out)
}

func TestRowOf(t *testing.T) {
	want := frames.Rows(3)[2]
	want.Meta.Mentions = []string{"a", "b"}
	rec := map[string]any{
		"id": float64(want.ID), "room_id": want.RoomID, "author_id": want.AuthorID, "body": want.Body,
		"likes": float64(want.Likes), "pinned": want.Pinned, "created_at": want.CreatedAt.Format(time.RFC3339Nano),
		"meta": map[string]any{"client": want.Meta.Client, "edited": want.Meta.Edited, "mentions": []any{"a", "b"}},
	}
	got, err := rowOf(map[string]any{"data": map[string]any{"record": rec}})
	require.NoError(t, err)
	assert.True(t, want.CreatedAt.Equal(got.CreatedAt))
	got.CreatedAt = want.CreatedAt
	assert.Equal(t, want, got)

	for _, bad := range []any{nil, map[string]any{}, map[string]any{"data": map[string]any{"record": map[string]any{"id": "x"}}}} {
		_, err := rowOf(bad)
		assert.ErrorIs(t, err, ErrPayload)
	}
	rec["created_at"] = "yesterday"
	_, err = rowOf(map[string]any{"data": map[string]any{"record": rec}})
	assert.ErrorIs(t, err, ErrPayload)
}
