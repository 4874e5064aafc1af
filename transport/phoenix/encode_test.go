package phoenix

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEncodeTextDetails(t *testing.T) {
	m := Message{Topic: "realtime:\"q\"", Event: "é\n", Ref: "1"}
	out, binary, err := V2.Encode(nil, &m)
	require.NoError(t, err)
	assert.False(t, binary)
	assert.Equal(t, `[null,"1","realtime:\"q\"","é\n",{}]`, string(out), "nil payload is {}, strings are escaped")

	out, _, err = V1.Encode(nil, &m)
	require.NoError(t, err)
	assert.Equal(t, `{"topic":"realtime:\"q\"","event":"é\n","payload":{},"ref":"1"}`, string(out), "no join_ref key when empty")

	m = Message{Topic: "t", Event: "e"}
	out, _, err = V1.Encode(nil, &m)
	require.NoError(t, err)
	assert.Equal(t, `{"topic":"t","event":"e","payload":{},"ref":null}`, string(out))
}

func TestEncodeModelFormBroadcastAsText(t *testing.T) {
	m := Message{JoinRef: "1", Ref: "3", Topic: "realtime:room1", Event: "broadcast", UserEvent: "cursor", Payload: []byte(`{"x":1}`)}
	out, binary, err := V2.Encode(nil, &m)
	require.NoError(t, err)
	assert.False(t, binary)
	// server.md §4.1, V2 client → server.
	assert.Equal(t, `["1","3","realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1}}]`, string(out))
	out, _, err = V1.Encode(nil, &m)
	require.NoError(t, err)
	// server.md §4.1, V1 client → server.
	assert.Equal(t, `{"topic":"realtime:room1","event":"broadcast","payload":{"type":"broadcast","event":"cursor","payload":{"x":1}},"ref":"3","join_ref":"1"}`, string(out))
}

func TestEncodeErrors(t *testing.T) {
	long := strings.Repeat("x", 256)
	cases := []struct {
		name  string
		ser   Serializer
		msg   Message
		field string
	}{
		{"v1 binary kind", V1, Message{Kind: KindUserBroadcastPush, Topic: "t"}, "kind"},
		{"v1 binary payload", V1, Message{Topic: "t", Binary: true, Payload: []byte{1}}, "payload"},
		{"v2 text binary payload", V2, Message{Topic: "t", Binary: true, Payload: []byte{1}}, "payload"},
		{"v1 invalid JSON payload", V1, Message{Topic: "t", Payload: []byte(`{"a":}`)}, "payload"},
		{"v2 two JSON values", V2, Message{Topic: "t", Payload: []byte(`{} {}`)}, "payload"},
		{"status on text", V2, Message{Topic: "t", Status: "ok"}, "status"},
		{"meta without user event", V2, Message{Topic: "t", Meta: []byte(`{}`)}, "meta"},
		{"user event on non-broadcast", V2, Message{Topic: "t", Event: "x", UserEvent: "u"}, "user_event"},
		{"user broadcast bad meta", V1, Message{Topic: "t", Event: "broadcast", UserEvent: "u", Meta: []byte(`{`)}, "meta"},
		{"unknown kind", V2, Message{Kind: Kind(9)}, "kind"},
		{"push topic 256", v2Client, Message{Kind: KindPush, Topic: long}, "topic"},
		{"push event 256", v2Client, Message{Kind: KindPush, Event: long}, "event"},
		{"push ref 256", v2Client, Message{Kind: KindPush, Ref: long}, "ref"},
		{"push join_ref 256", v2Client, Message{Kind: KindPush, JoinRef: long}, "join_ref"},
		{"server push with ref", v2Server, Message{Kind: KindPush, Ref: "1"}, "ref"},
		{"push with status", v2Client, Message{Kind: KindPush, Status: "ok"}, "status"},
		{"push with meta", v2Client, Message{Kind: KindPush, Meta: []byte(`{}`)}, "meta"},
		{"push with user event", v2Client, Message{Kind: KindPush, UserEvent: "u"}, "user_event"},
		{"reply status 256", v2Server, Message{Kind: KindReply, Status: long}, "status"},
		{"reply wrong event", v2Server, Message{Kind: KindReply, Event: "x"}, "event"},
		{"broadcast with ref", v2Server, Message{Kind: KindBroadcast, Ref: "1"}, "ref"},
		{"broadcast with join_ref", v2Server, Message{Kind: KindBroadcast, JoinRef: "1"}, "join_ref"},
		{"kind 3 user event 256", v2Client, Message{Kind: KindUserBroadcastPush, UserEvent: long}, "user_event"},
		{"kind 3 meta 256", v2Client, Message{Kind: KindUserBroadcastPush, Meta: []byte(`{"a":"` + long + `"}`)}, "meta"},
		{"kind 3 meta not object", v2Client, Message{Kind: KindUserBroadcastPush, Meta: []byte(`[]`)}, "meta"},
		{"kind 3 bad JSON payload", v2Client, Message{Kind: KindUserBroadcastPush, Payload: []byte(`nope`)}, "payload"},
		{"kind 3 wrong event", v2Client, Message{Kind: KindUserBroadcastPush, Event: "x"}, "event"},
		{"kind 3 with status", v2Client, Message{Kind: KindUserBroadcastPush, Status: "ok"}, "status"},
		{"kind 4 with ref", v2Server, Message{Kind: KindUserBroadcast, Ref: "1"}, "ref"},
		{"kind 4 topic 256", v2Server, Message{Kind: KindUserBroadcast, Topic: long}, "topic"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("prefix")
			out, binary, err := c.ser.Encode(dst, &c.msg)
			var ee *EncodeError
			require.ErrorAs(t, err, &ee)
			assert.ErrorIs(t, err, ErrEncode)
			assert.NotErrorIs(t, err, ErrMalformed)
			assert.Equal(t, c.field, ee.Field)
			assert.Contains(t, ee.Error(), c.field)
			assert.False(t, binary)
			assert.Equal(t, "prefix", string(out), "dst is returned unchanged")
		})
	}
}

func TestEncodeFieldLimitIsBytesNotRunes(t *testing.T) {
	// 85 three-byte runes = 255 bytes: allowed. One more byte: rejected.
	topic := strings.Repeat("日", 85)
	require.Len(t, topic, 255)
	m := Message{Kind: KindBroadcast, Topic: topic, Event: "e", Payload: []byte{1}}
	out, _, err := V2.Encode(nil, &m)
	require.NoError(t, err)
	var back Message
	require.NoError(t, V2.Decode(&back, out, true))
	assert.Equal(t, topic, back.Topic)

	m.Topic += "x"
	_, _, err = V2.Encode(nil, &m)
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "topic", ee.Field)
	assert.Contains(t, ee.Reason, "256 bytes")
}

func TestBinaryUserBroadcastOption(t *testing.T) {
	js := NewV2(WithBinaryUserBroadcasts(true))
	// Not a broadcast, or a payload realtime-js would not convert: text.
	for _, m := range []Message{
		{Topic: "t", Event: "phx_join", Payload: []byte(`{"event":"x"}`)},
		{Topic: "t", Event: "broadcast", Payload: []byte(`{"type":"broadcast","event":1}`)},
		{Topic: "t", Event: "broadcast", Payload: []byte(`[1]`)},
		{Topic: "t", Event: "broadcast", Payload: []byte(`{"type":"broadcast"}`)},
	} {
		out, binary, err := js.Encode(nil, &m)
		require.NoError(t, err)
		assert.False(t, binary, string(m.Payload))
		assert.Equal(t, byte('['), out[0])
	}
	// Null or absent payload becomes {}; the escaped event is decoded.
	m := Message{JoinRef: "1", Ref: "2", Topic: "t", Event: "broadcast", Payload: []byte(`{"event":"\u0061b","payload":null,"type":"broadcast"}`)}
	out, binary, err := js.Encode(nil, &m)
	require.NoError(t, err)
	require.True(t, binary)
	var back Message
	require.NoError(t, v2Server.Decode(&back, out, true))
	requireSameMessage(t, Message{Kind: KindUserBroadcastPush, JoinRef: "1", Ref: "2", Topic: "t", Event: "broadcast", UserEvent: "ab", Payload: []byte(`{}`)}, back)

	// On the server side a model-form broadcast becomes kind 4.
	srv := NewV2(WithSide(ServerSide), WithBinaryUserBroadcasts(true))
	m = Message{Topic: "realtime:room1", Event: "broadcast", UserEvent: "cursor", Meta: []byte(`{"replayed":true,"id":"abc"}`), Payload: []byte(`{"y":2}`)}
	out, binary, err = srv.Encode(nil, &m)
	require.NoError(t, err)
	assert.True(t, binary)
	assert.Equal(t, bin(unhex(t, "04 0e 06 1c 01"), "realtime:room1", "cursor", `{"replayed":true,"id":"abc"}`, `{"y":2}`), out)
	// ... but a JSON payload object stays text there.
	m = Message{Topic: "t", Event: "broadcast", Payload: []byte(`{"type":"broadcast","event":"x","payload":{}}`)}
	_, binary, err = srv.Encode(nil, &m)
	require.NoError(t, err)
	assert.False(t, binary)

	// Limits still apply.
	m = Message{Topic: "t", Event: "broadcast", Payload: []byte(`{"event":"` + strings.Repeat("e", 256) + `"}`)}
	_, _, err = js.Encode(nil, &m)
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "user_event", ee.Field)
}

func TestSideAndVersion(t *testing.T) {
	assert.Equal(t, "1.0.0", V1.Version())
	assert.Equal(t, "2.0.0", V2.Version())
	assert.Equal(t, ClientSide, V2.Side())
	assert.Equal(t, ServerSide, v2Server.Side())
	assert.Equal(t, "client", ClientSide.String())
	assert.Equal(t, "server", ServerSide.String())
	for k, name := range []string{"json", "push", "reply", "broadcast", "user_broadcast_push", "user_broadcast"} {
		assert.Equal(t, name, Kind(k).String())
	}
	assert.Equal(t, "unknown", Kind(200).String())
}
