package phoenix

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// runeGen draws runes of every UTF-8 width, including ones JSON must
// escape (quotes, backslashes, control characters).
var runeGen = rapid.OneOf(
	rapid.RuneFrom([]rune{'a', 'z', '0', ':', '-', '_', ' ', '"', '\\', '/', '\n', '\t', 0, 0x1f, 0x7f}),
	runeRange(0x80, 0x7ff),      // 2 bytes
	runeRange(0x4e00, 0x9fff),   // 3 bytes
	runeRange(0x1f300, 0x1faff), // 4 bytes
)

func runeRange(lo, hi int32) *rapid.Generator[rune] {
	return rapid.Map(rapid.Int32Range(lo, hi), func(r int32) rune { return r })
}

// textGen draws valid UTF-8 strings of any length (text frames have no
// field limit).
var textGen = rapid.StringOf(runeGen)

// fieldGen draws valid UTF-8 strings of at most 255 bytes, often exactly 255.
func fieldGen() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		target := rapid.OneOf(rapid.IntRange(0, 12), rapid.IntRange(240, 255), rapid.Just(255)).Draw(t, "bytes")
		return fillTo(t, target)
	})
}

// fillTo draws runes until exactly n bytes are used (padding with ASCII
// when the next rune does not fit).
func fillTo(t *rapid.T, n int) string {
	var b strings.Builder
	for b.Len() < n {
		r := runeGen.Draw(t, "r")
		if b.Len()+utf8.RuneLen(r) > n {
			r = 'x'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// jsonGen draws JSON values (compact, as encoding/json writes them).
var jsonGen = rapid.Custom(func(t *rapid.T) []byte {
	b, err := json.Marshal(jsonValue(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	return b
})

func jsonValue(t *rapid.T, depth int) any {
	kinds := 7
	if depth >= 3 {
		kinds = 5
	}
	switch rapid.IntRange(0, kinds-1).Draw(t, "kind") {
	case 0:
		return nil
	case 1:
		return rapid.Bool().Draw(t, "bool")
	case 2:
		return rapid.Float64().Draw(t, "num")
	case 3:
		return rapid.Int64().Draw(t, "int")
	case 4:
		return textGen.Draw(t, "str")
	case 5:
		n := rapid.IntRange(0, 4).Draw(t, "len")
		a := make([]any, n)
		for i := range a {
			a[i] = jsonValue(t, depth+1)
		}
		return a
	default:
		n := rapid.IntRange(0, 4).Draw(t, "len")
		o := make(map[string]any, n)
		for range n {
			o[textGen.Draw(t, "key")] = jsonValue(t, depth+1)
		}
		return o
	}
}

var binaryGen = rapid.SliceOfN(rapid.Byte(), 0, 64)

func roundTrip(t *rapid.T, enc, dec Serializer, m Message) {
	frame, binary, err := enc.Encode(nil, &m)
	require.NoError(t, err)
	require.Equal(t, m.Kind != KindJSON, binary)
	if !binary {
		require.True(t, utf8.Valid(frame), "text frames are valid UTF-8")
		require.True(t, json.Valid(frame), "text frames are valid JSON: %q", frame)
	}
	var got Message
	require.NoError(t, dec.Decode(&got, frame, binary), "%q", frame)
	requireSameMessage(t, m, got)
}

func TestPropertyV1RoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := Message{
			JoinRef: textGen.Draw(t, "join_ref"),
			Ref:     textGen.Draw(t, "ref"),
			Topic:   textGen.Draw(t, "topic"),
			Event:   textGen.Draw(t, "event"),
			Payload: jsonGen.Draw(t, "payload"),
		}
		roundTrip(t, V1, V1, m)
	})
}

func TestPropertyV2TextRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := Message{
			JoinRef: textGen.Draw(t, "join_ref"),
			Ref:     textGen.Draw(t, "ref"),
			Topic:   textGen.Draw(t, "topic"),
			Event:   textGen.Draw(t, "event"),
			Payload: jsonGen.Draw(t, "payload"),
		}
		roundTrip(t, V2, V2, m)
	})
}

// TestPropertyV2TextAgreesWithEncodingJSON decodes arrays written by
// encoding/json (which escapes <, >, & and more) and compares.
func TestPropertyV2TextAgreesWithEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		jr, ref := textGen.Draw(t, "join_ref"), textGen.Draw(t, "ref")
		topic, event := textGen.Draw(t, "topic"), textGen.Draw(t, "event")
		payload := json.RawMessage(jsonGen.Draw(t, "payload"))
		var jrv, refv any
		if jr != "" {
			jrv = jr
		}
		if ref != "" {
			refv = ref
		}
		frame, err := json.Marshal([]any{jrv, refv, topic, event, payload})
		require.NoError(t, err)
		var m Message
		require.NoError(t, V2.Decode(&m, frame, false))
		requireSameMessage(t, Message{JoinRef: jr, Ref: ref, Topic: topic, Event: event, Payload: payload}, m)
	})
}

func TestPropertyV2BinaryRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kind := rapid.SampledFrom([]Kind{KindPush, KindReply, KindBroadcast, KindUserBroadcastPush, KindUserBroadcast}).Draw(t, "kind")
		m := Message{Kind: kind, Topic: fieldGen().Draw(t, "topic")}
		enc, dec := v2Client, v2Server // client → server frames
		switch kind {
		case KindPush:
			m.Binary = true
			m.JoinRef = fieldGen().Draw(t, "join_ref")
			m.Event = fieldGen().Draw(t, "event")
			m.Payload = binaryGen.Draw(t, "payload")
			if rapid.Bool().Draw(t, "server→client") {
				enc, dec = v2Server, v2Client
			} else {
				m.Ref = fieldGen().Draw(t, "ref")
			}
		case KindReply:
			enc, dec = v2Server, v2Client
			m.Binary, m.Event = true, EventReply
			m.JoinRef = fieldGen().Draw(t, "join_ref")
			m.Ref = fieldGen().Draw(t, "ref")
			m.Status = fieldGen().Draw(t, "status")
			m.Payload = binaryGen.Draw(t, "payload")
		case KindBroadcast:
			enc, dec = v2Server, v2Client
			m.Binary = true
			m.Event = fieldGen().Draw(t, "event")
			m.Payload = binaryGen.Draw(t, "payload")
		case KindUserBroadcastPush, KindUserBroadcast:
			if kind == KindUserBroadcastPush {
				m.JoinRef = fieldGen().Draw(t, "join_ref")
				m.Ref = fieldGen().Draw(t, "ref")
			} else {
				enc, dec = v2Server, v2Client
			}
			m.Event = EventBroadcast
			m.UserEvent = fieldGen().Draw(t, "user_event")
			if rapid.Bool().Draw(t, "has meta") {
				m.Meta = metaGen(t)
			}
			m.Binary = rapid.Bool().Draw(t, "binary payload")
			if m.Binary {
				m.Payload = binaryGen.Draw(t, "payload")
			} else {
				m.Payload = jsonGen.Draw(t, "payload")
			}
		}
		roundTrip(t, enc, dec, m)
	})
}

// metaGen draws a JSON object of at most 255 bytes.
func metaGen(t *rapid.T) []byte {
	for {
		n := rapid.IntRange(0, 3).Draw(t, "meta members")
		o := make(map[string]any, n)
		for range n {
			o[fillTo(t, rapid.IntRange(0, 20).Draw(t, "key bytes"))] = jsonValue(t, 2)
		}
		b, err := json.Marshal(o)
		require.NoError(t, err)
		if len(b) <= maxBinaryField {
			return b
		}
	}
}

// TestPropertyBinaryFieldOver255IsRejected sets one field of a valid binary
// message to 256 bytes and expects an *EncodeError naming it.
func TestPropertyBinaryFieldOver255IsRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		long := fillTo(t, 256)
		type target struct {
			kind  Kind
			side  *V2Serializer
			field string
		}
		c := rapid.SampledFrom([]target{
			{KindPush, v2Client, "join_ref"}, {KindPush, v2Client, "ref"}, {KindPush, v2Client, "topic"}, {KindPush, v2Client, "event"},
			{KindPush, v2Server, "join_ref"}, {KindPush, v2Server, "topic"}, {KindPush, v2Server, "event"},
			{KindReply, v2Server, "join_ref"}, {KindReply, v2Server, "ref"}, {KindReply, v2Server, "topic"}, {KindReply, v2Server, "status"},
			{KindBroadcast, v2Server, "topic"}, {KindBroadcast, v2Server, "event"},
			{KindUserBroadcastPush, v2Client, "join_ref"}, {KindUserBroadcastPush, v2Client, "ref"},
			{KindUserBroadcastPush, v2Client, "topic"}, {KindUserBroadcastPush, v2Client, "user_event"}, {KindUserBroadcastPush, v2Client, "meta"},
			{KindUserBroadcast, v2Server, "topic"}, {KindUserBroadcast, v2Server, "user_event"}, {KindUserBroadcast, v2Server, "meta"},
		}).Draw(t, "target")
		m := Message{Kind: c.kind, Payload: []byte(`{}`)}
		switch c.field {
		case "join_ref":
			m.JoinRef = long
		case "ref":
			m.Ref = long
		case "topic":
			m.Topic = long
		case "event":
			m.Event = long
		case "status":
			m.Status = long
		case "user_event":
			m.UserEvent = long
		case "meta":
			b, err := json.Marshal(map[string]string{"k": fillTo(t, 256-8)})
			require.NoError(t, err)
			require.Greater(t, len(b), 255)
			m.Meta = b
		}
		out, binary, err := c.side.Encode([]byte("x"), &m)
		var ee *EncodeError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, c.field, ee.Field)
		require.False(t, binary)
		require.Equal(t, "x", string(out))
	})
}
