package presence

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// deepMeta returns a presence_state payload of one key whose meta has a
// member "x" holding arrays nested so that the whole payload nests depth
// levels: the payload object, the entry, the metas list and the meta are
// four of them.
func deepMeta(depth int) []byte {
	n := depth - 4
	return []byte(`{"k":{"metas":[{"phx_ref":"1","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}]}}`)
}

// deepEntry nests depth levels in an entry member that is not "metas".
func deepEntry(depth int) []byte {
	n := depth - 2
	return []byte(`{"k":{"metas":[{"phx_ref":"1"}],"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}`)
}

// deepDiff nests depth levels in a meta of a diff's joins (the diff, joins,
// entry, metas and meta are five of them), or in a diff member that is
// neither joins nor leaves.
func deepDiff(depth int, inMeta bool) []byte {
	if inMeta {
		n := depth - 5
		return []byte(`{"joins":{"k":{"metas":[{"phx_ref":"1","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}]}},"leaves":{}}`)
	}
	n := depth - 1
	return []byte(`{"joins":{},"leaves":{},"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
}

// requireTooDeep checks that err is the typed error of a presence payload
// refused for its nesting.
func requireTooDeep(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, phoenix.ErrTooDeep)
	require.ErrorIs(t, err, ErrDecode)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
}

func TestDecodeStateRefusesNestingPastMaxDepth(t *testing.T) {
	for name, gen := range map[string]func(int) []byte{"meta": deepMeta, "entry": deepEntry} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeState[json.RawMessage](gen(phoenix.MaxDepth + 1))
			requireTooDeep(t, err)
			_, err = DecodeState[map[string]any](gen(phoenix.MaxDepth + 1))
			requireTooDeep(t, err)

			// At the limit the payload decodes, and the meta is the same
			// JSON encoding/json reads.
			ok := gen(phoenix.MaxDepth)
			s, err := DecodeState[json.RawMessage](ok)
			require.NoError(t, err)
			var ref map[string]struct{ Metas []json.RawMessage }
			require.NoError(t, json.Unmarshal(ok, &ref))
			require.Len(t, s["k"], 1)
			assert.JSONEq(t, string(ref["k"].Metas[0]), string(s["k"][0].Value))
		})
	}
}

func TestDecodeDiffRefusesNestingPastMaxDepth(t *testing.T) {
	for _, inMeta := range []bool{true, false} {
		t.Run("meta="+strconv.FormatBool(inMeta), func(t *testing.T) {
			_, err := DecodeDiff[json.RawMessage](deepDiff(phoenix.MaxDepth+1, inMeta))
			requireTooDeep(t, err)
			_, err = DecodeDiff[any](deepDiff(phoenix.MaxDepth+1, inMeta))
			requireTooDeep(t, err)
			_, err = DecodeDiff[json.RawMessage](deepDiff(phoenix.MaxDepth, inMeta))
			require.NoError(t, err)
		})
	}
}

// A refused message changes nothing: the tracker keeps its state and its
// pending diffs, and takes the next message as if the refused one had not
// come.
func TestTrackerRefusesNestingPastMaxDepth(t *testing.T) {
	var tr Tracker[json.RawMessage]
	_, err := tr.HandleState("1", []byte(`{"a":{"metas":[{"phx_ref":"1"}]}}`))
	require.NoError(t, err)

	events, err := tr.HandleState("1", deepMeta(phoenix.MaxDepth+1))
	requireTooDeep(t, err)
	assert.Nil(t, events)
	events, err = tr.HandleDiff("1", deepDiff(phoenix.MaxDepth+1, true))
	requireTooDeep(t, err)
	assert.Nil(t, events)
	assert.Equal(t, []string{"a"}, sortedKeys(tr.State()))

	events, err = tr.HandleDiff("1", []byte(`{"joins":{"b":{"metas":[{"phx_ref":"2"}]}},"leaves":{}}`))
	require.NoError(t, err)
	assert.Len(t, events, 2)
	assert.Equal(t, []string{"a", "b"}, sortedKeys(tr.State()))
}

// hugeDepth is the nesting of the presence_state that killed the process
// (issue 18): a 5.2 MB payload of 2.6 million nested arrays.
const hugeDepth = 2_600_000

const subprocessEnv = "PRESENCE_DEPTH_CHILD"

// A presence_state or presence_diff nested 2.6 million levels deep is
// refused with the typed error; it used to overflow the goroutine stack,
// which kills the process. The decode runs in a child process so that a
// crash fails this test instead of the whole test binary.
func TestHugeNestingDoesNotCrash(t *testing.T) {
	if what := os.Getenv(subprocessEnv); what != "" {
		var tr Tracker[json.RawMessage]
		var err error
		if what == "state" {
			_, err = tr.HandleState("1", deepMeta(hugeDepth))
		} else {
			_, err = tr.HandleDiff("1", deepDiff(hugeDepth, true))
		}
		if errors.Is(err, phoenix.ErrTooDeep) {
			os.Stdout.WriteString("refused: " + err.Error()[:min(len(err.Error()), 200)] + "\n")
			return
		}
		t.Fatalf("want an error wrapping phoenix.ErrTooDeep, got %v", err)
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	for _, what := range []string{"state", "diff"} {
		t.Run(what, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^TestHugeNestingDoesNotCrash$", "-test.count=1")
			cmd.Env = append(os.Environ(), subprocessEnv+"="+what)
			out, err := cmd.CombinedOutput()
			tail := string(out)
			if len(tail) > 2000 {
				tail = tail[:2000]
			}
			require.NoError(t, err, "child process:\n%s", tail)
			assert.Contains(t, string(out), "refused: ")
		})
	}
}
