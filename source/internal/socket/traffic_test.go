package socket

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func TestTrafficTableIsOffByDefault(t *testing.T) {
	assert.Nil(t, newTrafficTable(TrafficLimits{}))
	assert.Nil(t, newTrafficTable(TrafficLimits{Topics: 1}))
	s := New(Config{NewHub: func(string) *stream.Hub[phoenix.Message] { return stream.NewHub[phoenix.Message]() }})
	assert.Nil(t, s.Traffic())
}

// A broadcast counts under its own event name: a binary user broadcast's, or the "event" of a JSON one.
func TestTrafficEventOfABroadcast(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    string // "" for none
	}{
		{`{"event":"typing","payload":{"a":1},"type":"broadcast"}`, "typing"},
		{` { "type" : "broadcast" , "payload" : {"event":"inner"} , "event" : "late" }`, "late"},
		{`{"type":"broadcast","payload":{}}`, ""},
		{`{"event":"with \"escape\""}`, ""},
		{`{"event":7}`, ""},
		{`{"event":"cut`, ""},
		{`[]`, ""},
		{``, ""},
	} {
		got := jsonBroadcastEvent([]byte(tc.payload))
		if tc.want == "" {
			assert.Nil(t, got, tc.payload)
		} else {
			assert.Equal(t, tc.want, string(got), tc.payload)
		}
	}

	tt := newTrafficTable(TrafficLimits{Topics: 4, Events: 4})
	tt.in(&phoenix.Message{Topic: "realtime:r", Event: phoenix.EventBroadcast, Kind: phoenix.KindUserBroadcast, UserEvent: "bin", Binary: true}, 10)
	tt.in(&phoenix.Message{Topic: "realtime:r", Event: phoenix.EventBroadcast, Payload: []byte(`{"event":"json","payload":{}}`)}, 20)
	tt.in(&phoenix.Message{Topic: "realtime:r", Event: phoenix.EventBroadcast, Payload: []byte(`{"payload":{}}`)}, 30)
	tt.in(&phoenix.Message{Topic: "realtime:r", Event: phoenix.EventBroadcast, Payload: []byte{1, 2}, Binary: true}, 40)
	assert.Equal(t, []Traffic{
		{Topic: "realtime:r", Event: "bin", MessagesIn: 1, BytesIn: 10},
		{Topic: "realtime:r", Event: phoenix.EventBroadcast, MessagesIn: 2, BytesIn: 70},
		{Topic: "realtime:r", Event: "json", MessagesIn: 1, BytesIn: 20},
	}, tt.snapshot())
}

// Past its limits the table counts under TrafficOther: it never holds more than (topics+1)×(events+1)
// series, and loses no message.
func TestTrafficTableLimits(t *testing.T) {
	tt := newTrafficTable(TrafficLimits{Topics: 2, Events: 2})
	for _, topic := range []string{"a", "b", "c", "d"} {
		for _, event := range []string{"e1", "e2", "e3", "e4"} {
			tt.in(&phoenix.Message{Topic: topic, Event: event}, 1)
		}
	}
	for _, m := range []*phoenix.Message{{Topic: "a", Event: "e1"}, {Topic: "z", Event: "e9"}} {
		c := tt.seriesOf(m)
		c.MessagesOut++
		c.BytesOut += 5
	}
	got := tt.snapshot()
	assert.Equal(t, []Traffic{
		{Topic: TrafficOther, Event: TrafficOther, MessagesIn: 4, BytesIn: 4, MessagesOut: 1, BytesOut: 5}, // z's e9 too
		{Topic: TrafficOther, Event: "e1", MessagesIn: 2, BytesIn: 2},
		{Topic: TrafficOther, Event: "e2", MessagesIn: 2, BytesIn: 2},
		{Topic: "a", Event: TrafficOther, MessagesIn: 2, BytesIn: 2},
		{Topic: "a", Event: "e1", MessagesIn: 1, BytesIn: 1, MessagesOut: 1, BytesOut: 5},
		{Topic: "a", Event: "e2", MessagesIn: 1, BytesIn: 1},
		{Topic: "b", Event: TrafficOther, MessagesIn: 2, BytesIn: 2},
		{Topic: "b", Event: "e1", MessagesIn: 1, BytesIn: 1},
		{Topic: "b", Event: "e2", MessagesIn: 1, BytesIn: 1},
	}, got)
}

// Counting a message of a known series allocates nothing; its names are copied once, so a frame buffer
// reused by the reader cannot change them.
func TestTrafficCountsWithoutAllocating(t *testing.T) {
	tt := newTrafficTable(TrafficLimits{Topics: 8, Events: 8})
	frame := []byte(`realtime:roomtyping`)
	m := &phoenix.Message{Topic: unsafe.String(&frame[0], 13), Event: phoenix.EventBroadcast,
		Payload: []byte(`{"event":"typing","payload":{"x":1},"type":"broadcast"}`)}
	pg := &phoenix.Message{Topic: m.Topic, Event: phoenix.EventPostgres, Payload: []byte(`{}`)}
	tt.in(m, 100)
	tt.in(pg, 100)
	allocs := testing.AllocsPerRun(1000, func() {
		tt.in(m, 100)
		tt.in(pg, 100)
	})
	assert.Zero(t, allocs)
	frame[0] = 'X'
	got := tt.snapshot()
	require.Len(t, got, 2)
	assert.Equal(t, "realtime:room", got[0].Topic)
	assert.Equal(t, []uint64{1002, 1002}, []uint64{got[0].MessagesIn, got[1].MessagesIn}, "alternating series: none counted under the other")
	assert.Equal(t, []string{phoenix.EventPostgres, "typing"}, []string{got[0].Event, got[1].Event})
}

// BenchmarkTrafficIn is what the reader pays per message with the count on: a postgres change and a JSON
// broadcast of a known series.
func BenchmarkTrafficIn(b *testing.B) {
	tt := newTrafficTable(TrafficLimits{Topics: 100, Events: 32})
	pg := &phoenix.Message{Topic: "realtime:room", Event: phoenix.EventPostgres}
	bc := &phoenix.Message{Topic: "realtime:room", Event: phoenix.EventBroadcast,
		Payload: []byte(`{"event":"typing","payload":{"user":"u-42","at":1700000000},"type":"broadcast"}`)}
	for _, m := range []*phoenix.Message{pg, bc} {
		b.Run(m.Event, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tt.in(m, 900)
			}
		})
	}
}
