package source_test

// Deep nesting from a hostile server, in every position a client decodes
// (issue 18): each case sends one frame just under the client's frame limit
// holding about 2.6 million nested arrays, and expects no crash, a bounded
// heap, a typed error (wrapping phoenix.ErrTooDeep: a *source.PayloadError
// for a payload, or a *phoenix.DecodeError from a serializer that checks a
// binary frame's payload; the push's or the join's error for a reply; for
// a frame that is nothing but nesting, a *phoenix.DecodeError) and a
// client that carries on on the same connection: the stream that failed
// delivers its next value, and a broadcast on another channel arrives.
//
// A Go decoder that recurses once per level needs hundreds of bytes of
// stack per level, so 2.6 million levels pass the 1 GB limit of a
// goroutine's stack, and a stack overflow kills the process: no recover,
// no test report. So every case runs in a child process (the test binary
// re-executed for that one subtest) and the parent asserts that it exited
// 0 having reported its typed error.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/internal/hostile"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// deepBudget is the size of every deep frame: just under the client's
// default frame limit (5 MiB), as a hostile server would send it.
const deepBudget = transport.DefaultMaxFrameSize - 4096

// nested returns prefix, then as many nested arrays as fit in deepBudget
// with prefix and suffix, then suffix.
func nested(prefix, suffix string) []byte {
	d := (deepBudget - len(prefix) - len(suffix)) / 2
	b := make([]byte, 0, len(prefix)+2*d+len(suffix))
	b = append(b, prefix...)
	b = append(b, bytes.Repeat([]byte{'['}, d)...)
	b = append(b, bytes.Repeat([]byte{']'}, d)...)
	return append(b, suffix...)
}

// deepRun is one deep case inside its child process.
type deepRun struct {
	e     *hostileEnv
	sc    *hostile.Conn
	heap  *heapWatch
	frame int
}

// send starts the heap watch and writes frame to the client.
func (d *deepRun) send(t *testing.T, frame []byte, binary bool) {
	t.Helper()
	d.watch(len(frame))
	if binary {
		require.NoError(t, d.sc.Binary(frame))
	} else {
		require.NoError(t, d.sc.Text(frame))
	}
}

// watch starts the heap watch for a frame of n bytes the server sends on
// its own (a join reply).
func (d *deepRun) watch(n int) {
	d.frame = n
	d.heap = watchHeap()
}

// payloadError waits for the error about the deep payload on topic: a
// *source.PayloadError, or a *phoenix.DecodeError from a serializer that
// checks the payload of the frame it decodes (binary frames).
func (d *deepRun) payloadError(t *testing.T, topic string) error {
	t.Helper()
	return d.e.errs.wait(t, "a *source.PayloadError on "+topic+" or a *phoenix.DecodeError", func(err error) bool {
		var pe *source.PayloadError
		var de *phoenix.DecodeError
		return errors.As(err, &pe) && pe.Topic == topic || errors.As(err, &de)
	})
}

type deepCase struct {
	name string
	// notTooDeep: the error due is a *phoenix.DecodeError, which need not
	// wrap ErrTooDeep (a frame that is not a Phoenix array is malformed
	// before it is deep). Every other case's error must wrap ErrTooDeep.
	notTooDeep bool
	srvOpts    []hostile.Option
	// run sends the deep frame with d.send (or d.watch), checks that the
	// stream it hit goes on, and returns the typed error the client gave.
	run func(t *testing.T, d *deepRun) error
}

const deepTopic = "realtime:deep"

// pgHead and pgTail surround the rows of a postgres_changes frame of type
// typ for the deep channel's binding.
func pgHead(typ string) string {
	return `[null,null,"` + deepTopic + `","postgres_changes",{"ids":[` + itoa(hostile.BindingID(0)) + `],"data":{"schema":"public","table":"t",` +
		`"commit_timestamp":"2026-01-01T00:00:00.000Z","type":"` + typ + `","columns":[{"name":"id","type":"int4"},{"name":"doc","type":"jsonb"}],`
}

const pgTail = `,"errors":null}}]`

// pgFrame is a postgres_changes frame with rows (raw JSON members).
func pgFrame(typ, rows string) string { return pgHead(typ) + rows + pgTail }

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// hostileRow is a typed row for the goccy/segmentio path of Changes.
type hostileRow struct {
	ID  int `json:"id"`
	Doc any `json:"doc"`
}

// hostileArrRow has a jsonb column typed as a slice: a jsonb value sent as
// a JSON string does not decode into it directly, so the typed decoder's
// slow path converts the string by its column type.
type hostileArrRow struct {
	ID  int   `json:"id"`
	Doc []any `json:"doc"`
}

// pgCase is a deep postgres change decoded into T: the deep frame is
// pgFrame(typ, prefix+DEEP+suffix); a good INSERT of row id 2 follows.
func pgCase[T any](typ, prefix, suffix string, id func(T) int) func(t *testing.T, d *deepRun) error {
	return func(t *testing.T, d *deepRun) error {
		ch := d.e.channel(t, "deep", source.WithPostgresChanges(postgres.Binding{Event: postgres.All, Schema: "public", Table: "t"}))
		changes := collect(t, source.Changes[T](ch))
		d.e.subscribe(t, ch)
		d.send(t, nested(pgHead(typ)+prefix, suffix+pgTail), false)
		err := d.payloadError(t, deepTopic)
		// A good change after the deep one (its doc an array, which every row type here takes).
		require.NoError(t, d.sc.Text([]byte(pgFrame("INSERT", `"record":{"id":2,"doc":[1]}`))))
		changes.next(t, hostileWait, func(c postgres.Change[T]) bool { return id(c.New) == 2 })
		return err
	}
}

func mapID(m map[string]any) int {
	switch v := m["id"].(type) {
	case int64:
		return int(v)
	case float64:
		return int(v)
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	}
	return -1
}

var deepCases = []deepCase{
	{
		name: "envelope", notTooDeep: true,
		run: func(t *testing.T, d *deepRun) error {
			d.send(t, nested("", ""), false)
			return d.e.errs.wait(t, "a *phoenix.DecodeError", func(err error) bool {
				var de *phoenix.DecodeError
				return errors.As(err, &de)
			})
		},
	},
	{
		name: "reply_response",
		run: func(t *testing.T, d *deepRun) error {
			ch := d.e.channel(t, "deep")
			d.e.subscribe(t, ch)
			push := func() <-chan error {
				done := make(chan error, 1)
				go func() {
					_, err := ch.Push(context.Background(), "hostile", []byte(`{}`))
					done <- err
				}()
				return done
			}
			ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
			defer cancel()
			first := push()
			m, err := d.sc.Await(ctx, func(m phoenix.Message) bool { return m.Event == "hostile" })
			require.NoError(t, err)
			d.send(t, nested(`["`+m.JoinRef+`","`+m.Ref+`","`+deepTopic+`","phx_reply",{"status":"ok","response":`, `}]`), false)
			var perr error
			select {
			case perr = <-first:
			case <-ctx.Done():
				t.Fatal("the push never returned")
			}
			second := push()
			m2, err := d.sc.Await(ctx, func(x phoenix.Message) bool { return x.Event == "hostile" && x.Ref != m.Ref })
			require.NoError(t, err)
			require.NoError(t, d.sc.Reply(m2, "ok", []byte(`{"fine":true}`)))
			select {
			case err := <-second:
				assert.NoError(t, err, "a push after the deep reply")
			case <-ctx.Done():
				t.Fatal("the second push never returned")
			}
			require.Error(t, perr, "a push whose reply nests 2.6M levels succeeded")
			return perr
		},
	},
	{
		name: "join_reply_response",
		srvOpts: []hostile.Option{hostile.WithJoin(func(j hostile.Join) (string, []byte) {
			if j.Topic != deepTopic {
				return hostile.OK(j)
			}
			return "ok", nested(`{"postgres_changes":[{"event":"*","schema":"public","table":"t","id":1001,"x":`, `}]}`)
		})},
		run: func(t *testing.T, d *deepRun) error {
			ch := d.e.channel(t, "deep", source.WithPostgresChanges(postgres.Binding{Event: postgres.All, Schema: "public", Table: "t"}),
				source.WithRejoinBackoff(operators.StepBackoff{time.Second}))
			d.watch(deepBudget)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err := ch.Subscribe(ctx)
			require.Error(t, err, "a join whose reply nests 2.6M levels succeeded")
			require.NoError(t, ch.Unsubscribe(waitCtx(t)))
			return err
		},
	},
	{
		name: "system_payload",
		run: func(t *testing.T, d *deepRun) error {
			ch := d.e.channel(t, "deep")
			systems := collect(t, ch.Systems())
			d.e.subscribe(t, ch)
			j := joined(t, d.sc, deepTopic)
			d.send(t, nested(`["`+j.JoinRef+`",null,"`+deepTopic+`","system",{"extension":"postgres_changes","status":"ok","message":"deep","channel":"deep","detail":`, `}]`), false)
			err := d.payloadError(t, deepTopic)
			require.NoError(t, d.sc.Text([]byte(`["`+j.JoinRef+`",null,"`+deepTopic+`","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"deep"}]`)))
			systems.next(t, hostileWait, func(ev source.SystemEvent) bool { return ev.Message == "Subscribed to PostgreSQL" })
			return err
		},
	},
	{
		name: "broadcast_json",
		run: func(t *testing.T, d *deepRun) error {
			ch := d.e.channel(t, "deep")
			got := collect(t, source.Broadcasts[map[string]any](ch, "e"))
			d.e.subscribe(t, ch)
			d.send(t, nested(`[null,null,"`+deepTopic+`","broadcast",{"type":"broadcast","event":"e","payload":{"v":`, `}}]`), false)
			err := d.payloadError(t, deepTopic)
			require.NoError(t, d.sc.Send(broadcastMsg(deepTopic, "e", `{"ok":true}`)))
			got.next(t, hostileWait, func(b source.Broadcast[map[string]any]) bool { return b.Payload["ok"] == true })
			return err
		},
	},
	{
		name: "broadcast_meta",
		run: func(t *testing.T, d *deepRun) error {
			ch := d.e.channel(t, "deep")
			got := collect(t, source.Broadcasts[map[string]any](ch, "e"))
			d.e.subscribe(t, ch)
			d.send(t, nested(`[null,null,"`+deepTopic+`","broadcast",{"type":"broadcast","event":"e","payload":{"ok":false},"meta":`, `}]`), false)
			err := d.payloadError(t, deepTopic)
			require.NoError(t, d.sc.Send(broadcastMsg(deepTopic, "e", `{"ok":true}`)))
			b := got.next(t, hostileWait, func(source.Broadcast[map[string]any]) bool { return true })
			assert.Equal(t, true, b.Payload["ok"], "the broadcast with the deep meta was delivered")
			return err
		},
	},
	{
		name: "broadcast_binary",
		run: func(t *testing.T, d *deepRun) error {
			ch := d.e.channel(t, "deep")
			got := collect(t, source.Broadcasts[map[string]any](ch, "e"))
			d.e.subscribe(t, ch)
			head := []byte{4, byte(len(deepTopic)), 1, 0, 1}
			head = append(append(head, deepTopic...), 'e')
			d.send(t, nested(string(head)+`{"v":`, `}`), true)
			err := d.payloadError(t, deepTopic)
			require.NoError(t, d.sc.Send(phoenix.Message{Topic: deepTopic, Event: phoenix.EventBroadcast, Kind: phoenix.KindUserBroadcast,
				UserEvent: "e", Payload: []byte(`{"ok":true}`)}))
			got.next(t, hostileWait, func(b source.Broadcast[map[string]any]) bool { return b.Payload["ok"] == true })
			return err
		},
	},
	{
		name: "presence_state",
		run: func(t *testing.T, d *deepRun) error {
			ch := d.e.channel(t, "deep")
			events := collect(t, source.PresenceEvents[map[string]any](ch))
			d.e.subscribe(t, ch)
			j := joined(t, d.sc, deepTopic)
			d.send(t, nested(`["`+j.JoinRef+`",null,"`+deepTopic+`","presence_state",{"deep":{"metas":[{"phx_ref":"r1","v":`, `}]}}]`), false)
			err := d.payloadError(t, deepTopic)
			require.NoError(t, d.sc.Text([]byte(`["`+j.JoinRef+`",null,"`+deepTopic+`","presence_state",{"ok":{"metas":[{"phx_ref":"r2","name":"a"}]}}]`)))
			events.next(t, hostileWait, func(ev presence.Event[map[string]any]) bool { return ev.Kind == presence.Join && ev.Key == "ok" })
			return err
		},
	},
	{
		name: "presence_diff",
		run: func(t *testing.T, d *deepRun) error {
			ch := d.e.channel(t, "deep")
			events := collect(t, source.PresenceEvents[map[string]any](ch))
			d.e.subscribe(t, ch)
			j := joined(t, d.sc, deepTopic)
			require.NoError(t, d.sc.Text([]byte(`["`+j.JoinRef+`",null,"`+deepTopic+`","presence_state",{}]`)))
			events.next(t, hostileWait, func(ev presence.Event[map[string]any]) bool { return ev.Kind == presence.Sync })
			d.send(t, nested(`[null,null,"`+deepTopic+`","presence_diff",{"joins":{"deep":{"metas":[{"phx_ref":"r1","v":`, `}]}},"leaves":{}}]`), false)
			err := d.payloadError(t, deepTopic)
			require.NoError(t, d.sc.Text([]byte(`[null,null,"`+deepTopic+`","presence_diff",{"joins":{"ok":{"metas":[{"phx_ref":"r2","name":"a"}]}},"leaves":{}}]`)))
			events.next(t, hostileWait, func(ev presence.Event[map[string]any]) bool { return ev.Kind == presence.Join && ev.Key == "ok" })
			return err
		},
	},
	{name: "pg_record", run: pgCase("INSERT", `"record":{"id":1,"x":`, `}`, mapID)},
	{name: "pg_old_record", run: pgCase("UPDATE", `"record":{"id":1},"old_record":{"id":1,"x":`, `}`, mapID)},
	{name: "pg_jsonb_value", run: pgCase("INSERT", `"record":{"id":1,"doc":`, `}`, mapID)},
	// Issue 18's second process killer: a jsonb column whose value is a
	// JSON string holding the nesting, which the map decoder re-parses.
	{name: "pg_jsonb_string", run: pgCase("INSERT", `"record":{"id":1,"doc":"`, `"}`, mapID)},
	{name: "pg_record_typed", run: pgCase("INSERT", `"record":{"id":1,"doc":`, `}`, func(r hostileRow) int { return r.ID })},
	{name: "pg_jsonb_string_typed", run: pgCase("INSERT", `"record":{"id":1,"doc":"`, `"}`, func(r hostileArrRow) int { return r.ID })},
}

// TestHostileDeepNesting runs each deep case in a child process.
func TestHostileDeepNesting(t *testing.T) {
	for _, tc := range deepCases {
		t.Run(tc.name, func(t *testing.T) {
			if !inChild(t, tc.name) {
				if tc.notTooDeep {
					runChild(t, tc.name, "*phoenix.DecodeError")
				} else {
					runChild(t, tc.name, "too-deep=true")
				}
				return
			}
			e := newHostile(t, tc.srvOpts)
			d := &deepRun{e: e, sc: e.conn(t, 1)}
			err := tc.run(t, d)
			require.NotNil(t, d.heap, "the case sent no deep frame")
			if tc.notTooDeep {
				var de *phoenix.DecodeError
				require.ErrorAs(t, err, &de)
			} else {
				require.ErrorIs(t, err, phoenix.ErrTooDeep, "the error for 2.6M levels: %v", err)
			}
			assert.Less(t, len(err.Error()), 1000, "an error prints a bounded text")
			e.alive(t, d.sc)
			e.sameConn(t)
			assertHeap(t, d.heap, d.frame, 6, 2)
			if !t.Failed() {
				childOK(tc.name, err)
			}
		})
	}
}

// nested, which builds every deep frame of the table, fills a frame to
// just under the client's limit with more than the 2.6 million levels of
// issue 18.
func TestHostileDeepFramesFitTheLimit(t *testing.T) {
	f := nested(pgHead("INSERT")+`"record":{"id":1,"doc":"`, `"}`+pgTail)
	assert.LessOrEqual(t, len(f), transport.DefaultMaxFrameSize)
	assert.Greater(t, strings.Count(string(f), "["), 2_600_000)
}
