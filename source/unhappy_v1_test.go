package source_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

type rvMsg struct {
	Text string `json:"text"`
}

// vsn 1.0.0 with V1Lazy end to end: channel names with quotes, braces and backslashes, broadcasts whose
// payloads contain the same, self broadcasts with ack, postgres changes, and heartbeats keep the socket up.
func TestUnhappyV1LazyEndToEnd(t *testing.T) {
	for _, ser := range []phoenix.Serializer{phoenix.V1Lazy, phoenix.V1} {
		t.Run(ser.Version()+lazyName(ser), func(t *testing.T) {
			s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000))
			c := chConnect(t, s, source.WithSerializer(ser))
			errs := errorLog(t, c)
			names := []string{`a"b`, `x}y`, `q\"}]`, `z\\`, `{"t":1}`, `end"`}
			for _, name := range names {
				ch := chNew(t, c, name, source.WithBroadcastSelf(), source.WithBroadcastAck())
				got := messageLog(t, ch, source.Broadcasts[rvMsg](ch, "*"))
				chSubscribe(t, ch)
				texts := []string{`he said "}"`, `\"]}`, `{"a":[1]}`, "tab\there"}
				for _, txt := range texts {
					require.NoError(t, ch.Send(chCtx(t), "m", rvMsg{Text: txt}), "%q", name)
				}
				vals := got.waitUntil(t, "broadcasts on "+name, func(v []source.Broadcast[rvMsg], _ bool) bool { return len(v) >= len(texts) })
				for i, txt := range texts {
					assert.Equal(t, txt, vals[i].Payload.Text, "%q", name)
				}
			}
			db := chNew(t, c, `db"}`, source.WithPostgresChanges(postgres.Binding{Table: "todos"}))
			changes := messageLog(t, db, source.Changes[todo](db))
			chSubscribe(t, db)
			emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos", Columns: todoColumns,
				Record: todo{ID: 7, Title: `q"}]\`}})
			chg := changes.waitN(t, 1, "change", func(postgres.Change[todo]) bool { return true })
			assert.Equal(t, `q"}]\`, chg.New.Title)
			time.Sleep(300 * time.Millisecond) // a heartbeat round trip
			assert.Equal(t, source.StateOpen, c.Stats().State)
			assert.Zero(t, c.Stats().DecodeErrors)
			vals, _ := errs.snapshot()
			assert.Empty(t, vals)
		})
	}
}

func lazyName(s phoenix.Serializer) string {
	if s == phoenix.V1Lazy {
		return "-lazy"
	}
	return ""
}
