package source_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Issue 18: no input from the server can take the process down. These tests
// send JSON nested one level past phoenix.MaxDepth (and, in a child process,
// millions of levels) through each place the client decodes server input,
// and check that the message fails alone, with an error wrapping
// phoenix.ErrTooDeep that names the limit, and that the next one arrives.

// deepArrays returns n nested JSON arrays, [[...]].
func deepArrays(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// tooDeep is one level past the limit.
var tooDeep = deepArrays(phoenix.MaxDepth + 1)

func isTooDeep(err error) bool { return errors.Is(err, phoenix.ErrTooDeep) }

// requireNamesTheLimit checks the text of a depth error.
func requireNamesTheLimit(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, phoenix.ErrTooDeep)
	assert.Contains(t, err.Error(), strconv.Itoa(phoenix.MaxDepth))
}

var docColumns = []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "doc", Type: "jsonb"}}

// docRow is a row type whose jsonb field rejects a string, so that the
// decoder parses the JSON the string holds.
type docRow struct {
	ID  int64 `json:"id"`
	Doc []any `json:"doc"`
}

func emitDoc(t *testing.T, s *realtimetest.Server, id int, doc string) {
	t.Helper()
	require.Equal(t, 1, emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "docs",
		Columns: docColumns, Record: map[string]any{"id": id, "doc": doc}}))
}

// deepJSONBStringFailsAlone emits a change whose jsonb column is a string
// holding levels nested arrays, then a good one, and checks that map and
// struct consumers get only the good one and that the deep one is reported
// as too deep, once per consumer.
func deepJSONBStringFailsAlone(t *testing.T, levels int, opts ...source.Option) {
	s := rtServer(t)
	c := chConnect(t, s, opts...)
	errs := errorLog(t, c)
	ch := chNew(t, c, "docs", source.WithPostgresChanges(postgres.Binding{Table: "docs"}))
	maps := messageLog(t, ch, source.Changes[map[string]any](ch))
	rows := messageLog(t, ch, source.Changes[docRow](ch))
	chSubscribe(t, ch)

	emitDoc(t, s, 1, deepArrays(levels))
	emitDoc(t, s, 2, `[[1,{"a":"b"}]]`)
	want := []any{[]any{json.Number("1"), map[string]any{"a": "b"}}}

	m := maps.waitN(t, 1, "the next change, as a map", func(postgres.Change[map[string]any]) bool { return true })
	assert.Equal(t, int64(2), m.New["id"], "the deep change is not delivered")
	assert.Equal(t, want, m.New["doc"])
	r := rows.waitN(t, 1, "the next change, as a struct", func(postgres.Change[docRow]) bool { return true })
	assert.Equal(t, int64(2), r.New.ID, "the deep change is not delivered")
	assert.Equal(t, []any{[]any{1.0, map[string]any{"a": "b"}}}, r.New.Doc)

	errs.waitN(t, 2, "a depth error from each consumer", isTooDeep)
	vals, _ := errs.snapshot()
	for _, err := range vals {
		requireNamesTheLimit(t, err)
		var pe *source.PayloadError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "realtime:docs", pe.Topic)
		var de *postgres.DecodeError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "doc", de.Column)
	}
	assert.Len(t, vals, 2, "one error per consumer, nothing else: %v", vals)
}

func TestChangesJSONBStringPastTheDepthLimitFailsAlone(t *testing.T) {
	deepJSONBStringFailsAlone(t, phoenix.MaxDepth+1)
}

// At the limit, the string decodes as encoding/json decodes it.
func TestChangesJSONBStringAtTheDepthLimitDecodes(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "docs", source.WithPostgresChanges(postgres.Binding{Table: "docs"}))
	maps := messageLog(t, ch, source.Changes[map[string]any](ch))
	chSubscribe(t, ch)
	doc := deepArrays(phoenix.MaxDepth)
	emitDoc(t, s, 1, doc)
	m := maps.waitN(t, 1, "the change", func(postgres.Change[map[string]any]) bool { return true })
	var want any
	require.NoError(t, json.Unmarshal([]byte(doc), &want))
	assert.Equal(t, want, m.New["doc"])
}

// depthChild names the test a child process of the test binary runs.
const depthChild = "RXREALTIME_DEPTH_CHILD"

// The frame of issue 18: a 5.2 MB change whose jsonb string holds 2.6
// million nested arrays overflowed the decoding goroutine's stack, which
// kills the process (a fatal error, not a panic). It runs in a child
// process of the test binary, which must exit cleanly.
func TestChangesJSONBStringOfMillionsOfLevelsDoesNotCrash(t *testing.T) {
	if os.Getenv(depthChild) == t.Name() {
		deepJSONBStringFailsAlone(t, 2_600_000, source.WithMaxFrameSize(16<<20))
		return
	}
	if testing.Short() {
		t.Skip("runs a child process that decodes megabytes")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), depthChild+"="+t.Name())
	out, err := cmd.CombinedOutput()
	tail := out[max(0, len(out)-2000):]
	if i := bytes.Index(out, []byte("fatal error")); i >= 0 {
		tail = out[i:min(len(out), i+500)]
	}
	require.NoError(t, err, "the child process failed:\n%s", tail)
	assert.Contains(t, string(out), "--- PASS: "+t.Name())
}
