package source_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// series returns the traffic series of topic and event, and whether there is one.
func series(st source.Stats, topic, event string) (source.Traffic, bool) {
	for _, tr := range st.Traffic {
		if tr.Topic == topic && tr.Event == event {
			return tr, true
		}
	}
	return source.Traffic{}, false
}

// trafficAddsUp reports whether the series sum to the frame counters: every message is counted once.
func trafficAddsUp(st source.Stats) bool {
	var in, bytesIn, out, bytesOut uint64
	for _, tr := range st.Traffic {
		in, bytesIn, out, bytesOut = in+tr.MessagesIn, bytesIn+tr.BytesIn, out+tr.MessagesOut, bytesOut+tr.BytesOut
	}
	// A frame that did not decode has no topic: its bytes are in BytesIn only.
	return in == st.FramesIn-st.DecodeErrors && out == st.FramesOut && bytesOut == st.BytesOut &&
		(bytesIn == st.BytesIn || st.DecodeErrors > 0 && bytesIn < st.BytesIn)
}

// Issue 21, item 5: messages and bytes in and out by topic and event, in Stats; a broadcast counts under
// its own event name, whichever serializer framed it. Off by default.
func TestTrafficByTopicAndEvent(t *testing.T) {
	for _, v := range []phoenix.Serializer{phoenix.V1, phoenix.NewV2()} {
		t.Run(v.Version(), func(t *testing.T) {
			s := newServer(t)
			quiet := source.WithHeartbeat(time.Minute, time.Minute) // no traffic but the test's
			on := connect(t, s, fast(source.WithSerializer(v), quiet, source.WithTrafficByTopic(16, 8))...)
			off := connect(t, s, fast(source.WithSerializer(v), quiet)...)
			ctx := waitCtx(t)
			for name, c := range map[string]*source.Client{"room": on, "elsewhere": off} {
				room, err := c.Channel(name, source.WithBroadcastSelf(), source.WithBroadcastAck())
				require.NoError(t, err)
				got := collect(t, source.Broadcasts[json.RawMessage](room, "*"))
				require.NoError(t, room.Subscribe(ctx))
				for _, ev := range []string{"typing", "typing", "typing", "moved"} {
					require.NoError(t, room.Send(ctx, ev, map[string]int{"x": 1}))
				}
				for range 4 {
					got.next(t, chWait, func(source.Broadcast[json.RawMessage]) bool { return true })
				}
			}

			assert.Nil(t, off.Stats().Traffic, "off by default")
			var st source.Stats
			require.Eventually(t, func() bool {
				// The writer counts a frame once written: the last send's reply may be read first.
				st = on.Stats()
				moved, _ := series(st, "realtime:room", "moved")
				return trafficAddsUp(st) && moved.MessagesOut == 1
			}, chWait, 10*time.Millisecond, "the series sum to the frame counters")
			typing, ok := series(st, "realtime:room", "typing")
			require.True(t, ok, "%+v", st.Traffic)
			assert.Equal(t, uint64(3), typing.MessagesOut)
			assert.Equal(t, uint64(3), typing.MessagesIn)
			assert.Positive(t, typing.BytesIn)
			assert.Positive(t, typing.BytesOut)
			moved, ok := series(st, "realtime:room", "moved")
			require.True(t, ok)
			assert.Equal(t, uint64(1), moved.MessagesOut)
			assert.Equal(t, uint64(1), moved.MessagesIn)
			join, ok := series(st, "realtime:room", phoenix.EventJoin)
			require.True(t, ok)
			assert.Equal(t, uint64(1), join.MessagesOut)
			replies, ok := series(st, "realtime:room", phoenix.EventReply)
			require.True(t, ok)
			assert.Equal(t, uint64(5), replies.MessagesIn, "the join's reply and four acks")
			for _, tr := range st.Traffic {
				assert.NotEqual(t, phoenix.EventBroadcast, tr.Event, "every broadcast counted under its own event")
			}
		})
	}
}

// A Pool's traffic is its sockets' summed by topic and event.
func TestPoolTrafficIsSummedBySeries(t *testing.T) {
	s := newServer(t)
	p := connectPool(t, s, fast(source.WithChannelsPerSocket(1), source.WithTrafficByTopic(4, 4))...)
	ctx := waitCtx(t)
	for i := range 3 {
		ch, err := p.Channel(fmt.Sprintf("room-%d", i))
		require.NoError(t, err)
		require.NoError(t, ch.Subscribe(ctx))
	}
	var ps source.PoolStats
	require.Eventually(t, func() bool { // the writer counts a join once written: its reply may be read first
		ps = p.Stats()
		for i := range 3 {
			if join, _ := series(ps.Stats, fmt.Sprintf("realtime:room-%d", i), phoenix.EventJoin); join.MessagesOut != 1 {
				return false
			}
		}
		return true
	}, chWait, 10*time.Millisecond)
	require.Len(t, ps.Sockets, 3)
	want := map[[2]string]source.Traffic{}
	for _, sock := range ps.Sockets {
		for _, tr := range sock.Traffic {
			k := [2]string{tr.Topic, tr.Event}
			w := want[k]
			w.Topic, w.Event = tr.Topic, tr.Event
			w.MessagesIn += tr.MessagesIn
			w.BytesIn += tr.BytesIn
			w.MessagesOut += tr.MessagesOut
			w.BytesOut += tr.BytesOut
			want[k] = w
		}
	}
	require.Len(t, ps.Traffic, len(want))
	for i, tr := range ps.Traffic {
		assert.Equal(t, want[[2]string{tr.Topic, tr.Event}], tr)
		if i > 0 {
			prev := ps.Traffic[i-1]
			assert.True(t, prev.Topic < tr.Topic || prev.Topic == tr.Topic && prev.Event < tr.Event, "sorted")
		}
	}
}

// The writer counts a message in the series its sender found: a push answered before the writer counted
// it may have its payload reused by its caller at once (a JSON broadcast's event is read from it).
func TestTrafficDoesNotReadAnsweredPayloads(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast(source.WithSerializer(phoenix.V1), source.WithTrafficByTopic(4, 4))...)
	ctx := waitCtx(t)
	payload := make([]byte, 0, 64)
	for i := range 200 {
		payload = append(payload[:0], `{"event":"e","payload":{},"type":"broadcast"}`...)
		_, err := c.Push(ctx, "realtime:nowhere", phoenix.EventBroadcast, payload)
		var re *source.ReplyError
		require.ErrorAs(t, err, &re, "push %d: the server answers a topic never joined", i)
		copy(payload, `{"xxxxx":"y"`) // the caller's buffer is its own again
	}
	require.Eventually(t, func() bool {
		bc, _ := series(c.Stats(), "realtime:nowhere", "e")
		return bc.MessagesOut == 200
	}, chWait, 10*time.Millisecond, "every push counted under the event it was sent with")
}
