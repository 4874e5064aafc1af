package phoenix

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// golden is one frame from /work/shared/protocol (client.md §1–§4 and
// server.md §1.5, §1.7, §3.2, §4.1) with the Message it stands for.
type golden struct {
	name    string
	source  string
	enc     Serializer // encodes msg to exactly frame (nil: decode only)
	dec     Serializer // decodes frame to msg
	binary  bool
	frame   []byte
	msg     Message
	comment string
}

func goldenFrames(t testing.TB) []golden {
	joinConfig := `{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},"private":false}}`
	pgRecord := `{"ids":[31339675],"data":{` +
		`"schema":"public","table":"todos","commit_timestamp":"2024-01-01T12:34:56.789Z","type":"UPDATE",` +
		`"columns":[{"name":"id","type":"int8"},{"name":"done","type":"bool"},{"name":"tags","type":"_text"}],` +
		`"record":{"id":1,"done":true,"tags":["a","b"]},` +
		`"old_record":{"id":1},` +
		`"errors":null}}`
	pgInsert := `{"ids":[30636876],` +
		`"data":{"schema":"public","table":"test","commit_timestamp":"2026-08-21T12:00:00.123Z","type":"INSERT",` +
		`"columns":[{"name":"id","type":"int4"},{"name":"details","type":"text"}],` +
		`"record":{"id":1,"details":"test"},"errors":null}}`
	return []golden{
		// ---- vsn 1.0.0 (client.md §2.1, server.md §1.5, §4.1)
		{
			name: "v1 join", source: "client.md §2.1 [captured] (config filled in for the elided {...})",
			enc: V1, dec: V1,
			frame: []byte(`{"topic":"realtime:send","event":"phx_join","payload":` + joinConfig + `,"ref":"6","join_ref":"6"}`),
			msg:   Message{Topic: "realtime:send", Event: "phx_join", Payload: []byte(joinConfig), Ref: "6", JoinRef: "6"},
		},
		{
			name: "v1 broadcast push", source: "client.md §2.1 [captured]",
			enc: V1, dec: V1,
			frame: []byte(`{"topic":"realtime:send","event":"broadcast","payload":{"type":"broadcast","event":"ev","payload":{"a":1}},"ref":"7","join_ref":"6"}`),
			msg:   Message{Topic: "realtime:send", Event: "broadcast", Payload: []byte(`{"type":"broadcast","event":"ev","payload":{"a":1}}`), Ref: "7", JoinRef: "6"},
		},
		{
			name: "v1 heartbeat in", source: "server.md §1.5",
			enc: V1, dec: V1,
			frame: []byte(`{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"5"}`),
			msg:   Message{Topic: "phoenix", Event: "heartbeat", Payload: []byte(`{}`), Ref: "5"},
		},
		{
			name: "v1 heartbeat reply", source: "server.md §1.5",
			enc: V1, dec: V1,
			frame: []byte(`{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"5"}`),
			msg:   Message{Topic: "phoenix", Event: "phx_reply", Payload: []byte(`{"status":"ok","response":{}}`), Ref: "5"},
		},
		{
			name: "v1 broadcast in", source: "server.md §4.1",
			enc: V1, dec: V1,
			frame: []byte(`{"topic":"realtime:room1","event":"broadcast","payload":{"type":"broadcast","event":"cursor","payload":{"x":1}},"ref":"3","join_ref":"1"}`),
			msg:   Message{Topic: "realtime:room1", Event: "broadcast", Payload: []byte(`{"type":"broadcast","event":"cursor","payload":{"x":1}}`), Ref: "3", JoinRef: "1"},
		},
		{
			name: "v1 broadcast out (ref null)", source: "server.md §4.1",
			enc: V1, dec: V1,
			frame: []byte(`{"topic":"realtime:room1","event":"broadcast","payload":{"type":"broadcast","event":"cursor","payload":{"x":1}},"ref":null}`),
			msg:   Message{Topic: "realtime:room1", Event: "broadcast", Payload: []byte(`{"type":"broadcast","event":"cursor","payload":{"x":1}}`)},
		},

		// ---- vsn 2.0.0 text (client.md §1.3, §1.8, §1.10, §2.2, §3.11, §4.1; server.md §1.5, §3.2, §4.1)
		{
			name: "v2 heartbeat", source: "client.md §1.3 [captured], server.md §1.5",
			enc: V2, dec: V2,
			frame: []byte(`[null,"8","phoenix","heartbeat",{}]`),
			msg:   Message{Topic: "phoenix", Event: "heartbeat", Payload: []byte(`{}`), Ref: "8"},
		},
		{
			name: "v2 heartbeat reply", source: "client.md §1.3, server.md §1.5",
			enc: V2, dec: V2,
			frame: []byte(`[null,"8","phoenix","phx_reply",{"status":"ok","response":{}}]`),
			msg:   Message{Topic: "phoenix", Event: "phx_reply", Payload: []byte(`{"status":"ok","response":{}}`), Ref: "8"},
		},
		{
			name: "v2 join", source: "client.md §1.8 [captured] (config filled in)",
			enc: V2, dec: V2,
			frame: []byte(`["6","6","realtime:room1","phx_join",` + joinConfig + `]`),
			msg:   Message{JoinRef: "6", Ref: "6", Topic: "realtime:room1", Event: "phx_join", Payload: []byte(joinConfig)},
		},
		{
			name: "v2 access_token push", source: "client.md §1.10 [captured]",
			enc: V2, dec: V2,
			frame: []byte(`["6","15","realtime:room1","access_token",{"access_token":"manual-token-2"}]`),
			msg:   Message{JoinRef: "6", Ref: "15", Topic: "realtime:room1", Event: "access_token", Payload: []byte(`{"access_token":"manual-token-2"}`)},
		},
		{
			name: "v2 join reply", source: "client.md §2.2 (postgres_changes list filled in)",
			enc: V2, dec: V2,
			frame: []byte(`["6","6","realtime:room1","phx_reply",{"status":"ok","response":{"postgres_changes":[{"id":31339675,"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1"}]}}]`),
			msg: Message{JoinRef: "6", Ref: "6", Topic: "realtime:room1", Event: "phx_reply",
				Payload: []byte(`{"status":"ok","response":{"postgres_changes":[{"id":31339675,"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1"}]}}`)},
		},
		{
			name: "v2 fastlane broadcast", source: "client.md §2.2, server.md §4.1",
			enc: V2, dec: V2,
			frame: []byte(`[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1}}]`),
			msg:   Message{Topic: "realtime:room1", Event: "broadcast", Payload: []byte(`{"type":"broadcast","event":"cursor","payload":{"x":1}}`)},
		},
		{
			name: "v2 broadcast push", source: "server.md §4.1",
			enc: V2, dec: V2,
			frame: []byte(`["1","3","realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1}}]`),
			msg:   Message{JoinRef: "1", Ref: "3", Topic: "realtime:room1", Event: "broadcast", Payload: []byte(`{"type":"broadcast","event":"cursor","payload":{"x":1}}`)},
		},
		{
			name: "v2 postgres_changes update", source: "client.md §3.11 [server src]",
			enc: V2, dec: V2,
			frame: []byte(`[null,null,"realtime:room1","postgres_changes",` + pgRecord + `]`),
			msg:   Message{Topic: "realtime:room1", Event: "postgres_changes", Payload: []byte(pgRecord)},
		},
		{
			name: "v2 postgres_changes insert", source: "server.md §3.2",
			enc: V2, dec: V2,
			frame: []byte(`[null,null,"realtime:test","postgres_changes",` + pgInsert + `]`),
			msg:   Message{Topic: "realtime:test", Event: "postgres_changes", Payload: []byte(pgInsert)},
		},
		{
			name: "v2 presence_state", source: "client.md §4.1",
			enc: V2, dec: V2,
			frame: []byte(`["6",null,"realtime:room1","presence_state",{"user-1":{"metas":[{"phx_ref":"F1","name":"alice"}]}}]`),
			msg:   Message{JoinRef: "6", Topic: "realtime:room1", Event: "presence_state", Payload: []byte(`{"user-1":{"metas":[{"phx_ref":"F1","name":"alice"}]}}`)},
		},
		{
			name: "v2 presence_diff", source: "client.md §4.1",
			enc: V2, dec: V2,
			frame: []byte(`[null,null,"realtime:room1","presence_diff",{"joins":{"user-2":{"metas":[{"phx_ref":"F2","name":"bob"}]}},"leaves":{}}]`),
			msg:   Message{Topic: "realtime:room1", Event: "presence_diff", Payload: []byte(`{"joins":{"user-2":{"metas":[{"phx_ref":"F2","name":"bob"}]}},"leaves":{}}`)},
		},

		// ---- vsn 2.0.0 binary (client.md §2.3, §2.4; server.md §1.7)
		{
			name: "kind 0 push client→server", source: "client.md §2.3 [captured, phoenix 1.8.16]",
			enc: v2Client, dec: v2Server, binary: true,
			frame: bin(unhex(t, "00 01 01 0c 03"), "3", "4", "realtime:phx", "bin", "\x09\x08\x07"),
			msg:   Message{Kind: KindPush, Binary: true, JoinRef: "3", Ref: "4", Topic: "realtime:phx", Event: "bin", Payload: []byte{9, 8, 7}},
		},
		{
			name: "kind 0 push server→client", source: "client.md §2.3 table, server.md §1.7 (Phoenix encode!)",
			enc: v2Server, dec: v2Client, binary: true,
			frame: bin(unhex(t, "00 01 0c 03"), "3", "realtime:phx", "bin", "\x09\x08\x07"),
			msg:   Message{Kind: KindPush, Binary: true, JoinRef: "3", Topic: "realtime:phx", Event: "bin", Payload: []byte{9, 8, 7}},
		},
		{
			name: "kind 1 reply", source: "client.md §2.3 table, server.md §1.7",
			enc: v2Server, dec: v2Client, binary: true,
			frame: bin(unhex(t, "01 01 01 0c 02"), "3", "4", "realtime:phx", "ok", "\x01\x02"),
			msg:   Message{Kind: KindReply, Binary: true, JoinRef: "3", Ref: "4", Topic: "realtime:phx", Event: "phx_reply", Status: "ok", Payload: []byte{1, 2}},
		},
		{
			name: "kind 2 broadcast", source: "client.md §2.3 table, server.md §1.7",
			enc: v2Server, dec: v2Client, binary: true,
			frame: bin(unhex(t, "02 0c 03"), "realtime:phx", "bin", "\x09\x08\x07"),
			msg:   Message{Kind: KindBroadcast, Binary: true, Topic: "realtime:phx", Event: "bin", Payload: []byte{9, 8, 7}},
		},
		{
			name: "kind 3 JSON broadcast", source: "client.md §2.4 [captured] hex dump",
			enc: v2Client, dec: v2Server, binary: true,
			frame: unhex(t, "0301010e06000136377265616c74696d653a726f6f6d31637572736f727b2278223a357d"),
			msg: Message{Kind: KindUserBroadcastPush, JoinRef: "6", Ref: "7", Topic: "realtime:room1", Event: "broadcast",
				UserEvent: "cursor", Payload: []byte(`{"x":5}`)},
		},
		{
			name: "kind 3 binary broadcast", source: "client.md §2.4 [captured]",
			enc: v2Client, dec: v2Server, binary: true,
			frame: bin(unhex(t, "03 01 01 0d 03 00 00"), "6", "8", "realtime:send", "bin", "\x01\x02\x03"),
			msg: Message{Kind: KindUserBroadcastPush, Binary: true, JoinRef: "6", Ref: "8", Topic: "realtime:send", Event: "broadcast",
				UserEvent: "bin", Payload: []byte{1, 2, 3}},
		},
		{
			name: "kind 3 with persist metadata", source: "client.md §2.4 [captured]",
			enc: v2Client, dec: v2Server, binary: true,
			frame: bin(unhex(t, "03 01 01 0d 03 16 01"), "1", "2", "realtime:room", "msg", `{"persist":{"ttl":60}}`, `{"hi":"é"}`),
			msg: Message{Kind: KindUserBroadcastPush, JoinRef: "1", Ref: "2", Topic: "realtime:room", Event: "broadcast",
				UserEvent: "msg", Meta: []byte(`{"persist":{"ttl":60}}`), Payload: []byte(`{"hi":"é"}`)},
		},
		{
			name: "kind 4 replayed broadcast", source: "client.md §2.4 [captured]",
			enc: v2Server, dec: v2Client, binary: true,
			frame: bin(unhex(t, "04 0e 06 1c 01"), "realtime:room1", "cursor", `{"replayed":true,"id":"abc"}`, `{"y":2}`),
			msg: Message{Kind: KindUserBroadcast, Topic: "realtime:room1", Event: "broadcast", UserEvent: "cursor",
				Meta: []byte(`{"replayed":true,"id":"abc"}`), Payload: []byte(`{"y":2}`)},
		},
	}
}

func TestGoldenDecode(t *testing.T) {
	for _, g := range goldenFrames(t) {
		t.Run(g.name, func(t *testing.T) {
			var m Message
			require.NoError(t, g.dec.Decode(&m, g.frame, g.binary), g.source)
			requireSameMessage(t, g.msg, m, g.source)
		})
	}
}

func TestGoldenEncode(t *testing.T) {
	for _, g := range goldenFrames(t) {
		if g.enc == nil {
			continue
		}
		t.Run(g.name, func(t *testing.T) {
			prefix := []byte("keep:")
			out, binary, err := g.enc.Encode(prefix, &g.msg)
			require.NoError(t, err, g.source)
			assert.Equal(t, g.binary, binary)
			assert.Equal(t, "keep:", string(out[:5]), "Encode appends to dst")
			assert.Equal(t, g.frame, out[5:], "%s\nwant %q\ngot  %q", g.source, g.frame, out[5:])
		})
	}
}

// TestGoldenKind4AsJSON checks that a kind 4 frame, decoded and written as
// text, gives the JSON broadcast realtime-js hands to its callback
// (client.md §2.4) and the server sends to V1 sockets (server.md §4.1).
func TestGoldenKind4AsJSON(t *testing.T) {
	frame := bin(unhex(t, "04 0e 06 1c 01"), "realtime:room1", "cursor", `{"replayed":true,"id":"abc"}`, `{"y":2}`)
	var m Message
	require.NoError(t, V2.Decode(&m, frame, true))
	m.Kind = KindJSON
	out, binary, err := V2.Encode(nil, &m)
	require.NoError(t, err)
	assert.False(t, binary)
	assert.Equal(t, `[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"y":2},"meta":{"replayed":true,"id":"abc"}}]`, string(out))

	out, _, err = V1.Encode(nil, &m)
	require.NoError(t, err)
	assert.Equal(t, `{"topic":"realtime:room1","event":"broadcast","payload":{"type":"broadcast","event":"cursor","payload":{"y":2},"meta":{"replayed":true,"id":"abc"}},"ref":null}`, string(out))

	event, userPayload, meta, err := ParseBroadcast([]byte(`{"type":"broadcast","event":"cursor","payload":{"y":2},"meta":{"replayed":true,"id":"abc"}}`))
	require.NoError(t, err)
	assert.Equal(t, m.UserEvent, event)
	assert.Equal(t, string(m.Payload), string(userPayload))
	assert.Equal(t, string(m.Meta), string(meta))
}

// TestGoldenRealtimeJSBroadcastRule checks WithBinaryUserBroadcasts against
// the captured realtime-js kind 3 frames: the same broadcast push, given as
// a realtime-js style JSON payload or in model form, is byte-identical.
func TestGoldenRealtimeJSBroadcastRule(t *testing.T) {
	js := NewV2(WithBinaryUserBroadcasts(true))
	cases := []struct {
		name  string
		msg   Message
		frame []byte
	}{
		{
			name: "payload with event (client.md §2.4 hex dump)",
			msg: Message{JoinRef: "6", Ref: "7", Topic: "realtime:room1", Event: "broadcast",
				Payload: []byte(`{"type":"broadcast","event":"cursor","payload":{"x":5}}`)},
			frame: unhex(t, "0301010e06000136377265616c74696d653a726f6f6d31637572736f727b2278223a357d"),
		},
		{
			name: "model form",
			msg: Message{JoinRef: "6", Ref: "7", Topic: "realtime:room1", Event: "broadcast",
				UserEvent: "cursor", Payload: []byte(`{"x":5}`)},
			frame: unhex(t, "0301010e06000136377265616c74696d653a726f6f6d31637572736f727b2278223a357d"),
		},
		{
			name: "persist kept as metadata (client.md §2.4)",
			msg: Message{JoinRef: "1", Ref: "2", Topic: "realtime:room", Event: "broadcast",
				Payload: []byte(`{"type":"broadcast","event":"msg","payload":{"hi":"é"},"persist":{"ttl":60}}`)},
			frame: bin(unhex(t, "03 01 01 0d 03 16 01"), "1", "2", "realtime:room", "msg", `{"persist":{"ttl":60}}`, `{"hi":"é"}`),
		},
		{
			name: "binary model form (client.md §2.4)",
			msg: Message{JoinRef: "6", Ref: "8", Topic: "realtime:send", Event: "broadcast",
				UserEvent: "bin", Binary: true, Payload: []byte{1, 2, 3}},
			frame: bin(unhex(t, "03 01 01 0d 03 00 00"), "6", "8", "realtime:send", "bin", "\x01\x02\x03"),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, binary, err := js.Encode(nil, &c.msg)
			require.NoError(t, err)
			assert.True(t, binary)
			assert.Equal(t, c.frame, out)
		})
	}
}
