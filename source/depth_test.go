package source_test

import (
	"bytes"
	"context"
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

// kind4 renders a vsn 2.0.0 binary user broadcast (kind 4) with a JSON
// payload, without checking it.
func kind4(topic, event, payload string) []byte {
	b := []byte{4, byte(len(topic)), byte(len(event)), 0, 1}
	b = append(b, topic...)
	b = append(b, event...)
	return append(b, payload...)
}

// Every other place that decodes server input: a message nested one level
// past the limit is reported as too deep, and the next one arrives.
func TestServerInputPastTheDepthLimitFailsAlone(t *testing.T) {
	const topic = "realtime:room"
	good := `{"from":"f","text":"next"}`
	broadcast := func(payload string) string {
		return `{"type":"broadcast","event":"msg","payload":` + payload + `}`
	}
	isNext := func(b source.Broadcast[chat]) bool { return b.Payload.Text == "next" }

	// each sends a too-deep message, then a good one, and waits for the
	// good one to arrive. It returns the depth error if it got it itself,
	// nil if it is reported on Client.Errors.
	tests := []struct {
		name string
		opts []source.ChannelOption
		each func(t *testing.T, s *realtimetest.Server, ch *source.Channel, subscribe func()) error
	}{
		{
			name: "broadcast payload (JSON text frame)",
			each: func(t *testing.T, s *realtimetest.Server, ch *source.Channel, subscribe func()) error {
				got := messageLog(t, ch, source.Broadcasts[chat](ch, "msg"))
				subscribe()
				inject(s, "", "", topic, "broadcast", broadcast(tooDeep))
				inject(s, "", "", topic, "broadcast", broadcast(good))
				got.waitN(t, 1, "the next broadcast", isNext)
				assert.Equal(t, 0, got.count(func(b source.Broadcast[chat]) bool { return !isNext(b) }))
				return nil
			},
		},
		{
			name: "broadcast meta (JSON text frame)",
			each: func(t *testing.T, s *realtimetest.Server, ch *source.Channel, subscribe func()) error {
				got := messageLog(t, ch, source.Broadcasts[chat](ch, "msg"))
				subscribe()
				inject(s, "", "", topic, "broadcast", `{"type":"broadcast","event":"msg","payload":{},"meta":{"id":`+tooDeep+`}}`)
				inject(s, "", "", topic, "broadcast", broadcast(good))
				got.waitN(t, 1, "the next broadcast", isNext)
				assert.Equal(t, 0, got.count(func(b source.Broadcast[chat]) bool { return !isNext(b) }))
				return nil
			},
		},
		{
			name: "broadcast payload decoded by a codec",
			each: func(t *testing.T, s *realtimetest.Server, ch *source.Channel, subscribe func()) error {
				got := messageLog(t, ch, source.BroadcastsWith[chat](ch, "msg", source.JSONCodec))
				subscribe()
				inject(s, "", "", topic, "broadcast", broadcast(tooDeep))
				inject(s, "", "", topic, "broadcast", broadcast(good))
				got.waitN(t, 1, "the next broadcast", isNext)
				return nil
			},
		},
		{
			name: "binary user broadcast (kind 4) with a JSON payload",
			each: func(t *testing.T, s *realtimetest.Server, ch *source.Channel, subscribe func()) error {
				got := messageLog(t, ch, source.Broadcasts[chat](ch, "msg"))
				subscribe()
				s.Faults().SendRaw(kind4(topic, "msg", tooDeep), true)
				s.Faults().SendRaw(kind4(topic, "msg", good), true)
				got.waitN(t, 1, "the next broadcast", isNext)
				assert.Equal(t, 0, got.count(func(b source.Broadcast[chat]) bool { return !isNext(b) }))
				return nil
			},
		},
		{
			name: "gap-free broadcast",
			opts: []source.ChannelOption{source.WithPrivate(), source.WithGapFreeBroadcasts()},
			each: func(t *testing.T, s *realtimetest.Server, ch *source.Channel, subscribe func()) error {
				got := messageLog(t, ch, source.Broadcasts[chat](ch, "msg"))
				subscribe()
				inject(s, "", "", topic, "broadcast", `{"type":"broadcast","event":"msg","payload":`+tooDeep+`,"meta":{"id":"1"}}`)
				inject(s, "", "", topic, "broadcast", `{"type":"broadcast","event":"msg","payload":{},"meta":{"id":`+tooDeep+`}}`)
				s.Faults().SendRaw(kind4(topic, "msg", tooDeep), true)
				inject(s, "", "", topic, "broadcast", `{"type":"broadcast","event":"msg","payload":`+good+`,"meta":{"id":"2"}}`)
				got.waitN(t, 1, "the next broadcast", isNext)
				assert.Equal(t, 0, got.count(func(b source.Broadcast[chat]) bool { return !isNext(b) }))
				return nil
			},
		},
		{
			name: "system message",
			each: func(t *testing.T, s *realtimetest.Server, ch *source.Channel, subscribe func()) error {
				systems := messageLog(t, ch, ch.Systems())
				subscribe()
				inject(s, "", "", topic, "system", `{"extension":"system","status":"ok","message":"deep","channel":"room","extra":`+tooDeep+`}`)
				inject(s, "", "", topic, "system", `{"extension":"system","status":"ok","message":"next","channel":"room"}`)
				ev := systems.waitN(t, 1, "the next system message", func(source.SystemEvent) bool { return true })
				assert.Equal(t, "next", ev.Message, "the deep one is not delivered")
				return nil
			},
		},
		{
			name: "push reply",
			each: func(t *testing.T, s *realtimetest.Server, ch *source.Channel, subscribe func()) error {
				subscribe()
				// The server does not answer unknown events: the test does.
				reply := func(n int, payload string) (source.Reply, error) {
					type result struct {
						r   source.Reply
						err error
					}
					done := make(chan result, 1)
					go func() {
						r, err := ch.Push(context.Background(), "custom", []byte(`{}`))
						done <- result{r, err}
					}()
					push := waitIn(t, s, topic, "custom", n)[n-1]
					inject(s, push.Msg.JoinRef, push.Msg.Ref, topic, "phx_reply", payload)
					res := <-done
					return res.r, res.err
				}
				_, deepErr := reply(1, `{"status":"error","response":{"reason":`+tooDeep+`}}`)
				r, err := reply(2, `{"status":"ok","response":{"n":[1]}}`)
				require.NoError(t, err)
				assert.JSONEq(t, `{"n":[1]}`, string(r.Response))
				require.Error(t, deepErr)
				return deepErr
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rtServer(t)
			c := chConnect(t, s)
			errs := errorLog(t, c)
			ch := chNew(t, c, "room", tt.opts...)
			err := tt.each(t, s, ch, func() { chSubscribe(t, ch) })
			if err == nil {
				err = errs.waitN(t, 1, "a depth error", isTooDeep)
			}
			requireNamesTheLimit(t, err)
			assert.Equal(t, source.StatusSubscribed, statusOf(t, ch), "the channel carries on")
		})
	}
}

// statusOf returns ch's current status.
func statusOf(t *testing.T, ch *source.Channel) source.Status {
	t.Helper()
	ev, ok := ch.Status()
	require.True(t, ok)
	return ev.Status
}
