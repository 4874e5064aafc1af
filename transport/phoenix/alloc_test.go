package phoenix

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeInternsWellKnownNames(t *testing.T) {
	var m Message
	frames := []struct {
		ser    Serializer
		frame  string
		binary bool
		allocs float64
	}{
		// The topic "realtime:room1" was seen by the first decode: later ones take it from the recent cache.
		{V2, `[null,null,"realtime:room1","postgres_changes",{"ids":[1]}]`, false, 0},
		{V2, `[null,null,"realtime:room1","presence_diff",{"joins":{},"leaves":{}}]`, false, 0},
		// Topic "phoenix" and event "phx_reply" are interned, and the repeated ref "18" is cached too.
		{V2, `[null,"18","phoenix","phx_reply",{"status":"ok","response":{}}]`, false, 0},
		{V1, `{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":null}`, false, 0},
		{V2, "\x02\x07\x09phoenixbroadcast\x01", true, 0},
	}
	for _, f := range frames {
		data := []byte(f.frame)
		require.NoError(t, f.ser.Decode(&m, data, f.binary))
		allocs := testing.AllocsPerRun(200, func() {
			_ = f.ser.Decode(&m, data, f.binary)
		})
		assert.Equal(t, f.allocs, allocs, f.frame)
	}
	for _, s := range []string{EventReply, EventPostgres, EventBroadcast, EventPresenceDiff, EventPresenceState,
		EventPresence, EventSystem, EventClose, EventError, EventHeartbeat, EventJoin, EventLeave,
		EventAccessToken, TopicPhoenix, "ok", "error", "timeout", ""} {
		got, ok := intern([]byte(s))
		assert.True(t, ok, s)
		assert.Equal(t, s, got)
	}
	_, ok := intern([]byte("realtime:room1"))
	assert.False(t, ok)
}

func TestEncodeSteadyStateDoesNotAllocate(t *testing.T) {
	heartbeat := &Message{Topic: TopicPhoenix, Event: EventHeartbeat, Ref: "12345", Payload: []byte(`{}`)}
	broadcast := &Message{JoinRef: "1", Ref: "42", Topic: "realtime:room1", Event: EventBroadcast,
		Payload: []byte(`{"type":"broadcast","event":"cursor","payload":{"x":10,"y":20}}`)}
	user := &Message{JoinRef: "1", Ref: "42", Topic: "realtime:room1", Event: EventBroadcast, UserEvent: "cursor",
		Payload: []byte(`{"x":10,"y":20}`)}
	js := NewV2(WithBinaryUserBroadcasts(true))
	dst := make([]byte, 0, 512)
	for _, c := range []struct {
		ser Serializer
		m   *Message
	}{{V1, heartbeat}, {V2, heartbeat}, {V1, broadcast}, {V2, broadcast}, {V2, user}, {js, broadcast}, {js, user}} {
		allocs := testing.AllocsPerRun(200, func() {
			var err error
			dst, _, err = c.ser.Encode(dst[:0], c.m)
			if err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "%s %+v", c.ser.Version(), c.m)
	}
}
