package phoenix

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestV1DecodeVariants(t *testing.T) {
	cases := []struct {
		in   string
		want Message
	}{
		{
			`{"ref":null,"payload":[1,{"a":"}"}],"event":"ev","join_ref":null,"topic":"t"}`,
			Message{Topic: "t", Event: "ev", Payload: []byte(`[1,{"a":"}"}]`)},
		},
		{
			" \n{ \"topic\" : \"t\" , \"extra\" : {\"x\":[1,2]} , \"event\":\"e\",\"payload\": 12 ,\"ref\":\"1\",\"join_ref\":\"2\" } \n",
			Message{Topic: "t", Event: "e", Payload: []byte(`12`), Ref: "1", JoinRef: "2"},
		},
		{
			`{"topic":"r\u00e9alt\"ime","event":"e\n","payload":"s","ref":"1","topic":"last"}`,
			Message{Topic: "last", Event: "e\n", Payload: []byte(`"s"`), Ref: "1"},
		},
		{
			`{"\u0074opic":"t","event":"e","payload":null,"ref":"1"}`,
			Message{Topic: "t", Event: "e", Payload: []byte(`null`), Ref: "1"},
		},
	}
	for _, c := range cases {
		var m Message
		require.NoError(t, V1.Decode(&m, []byte(c.in), false), c.in)
		requireSameMessage(t, c.want, m, c.in)
	}
}

func TestV1DecodeErrors(t *testing.T) {
	cases := []struct {
		in     string
		offset int
		reason string
	}{
		{``, 0, "unexpected end of frame, expected a JSON object"},
		{`[]`, 0, "expected a JSON object"},
		{`{}`, 2, `missing key "topic"`},
		{`{"topic":"t","event":"e","payload":{}}`, 38, `missing key "ref"`},
		{`{"topic":"t","event":"e","ref":"1"}`, 35, `missing key "payload"`},
		{`{"topic":1,"event":"e","payload":{},"ref":"1"}`, 9, "topic: expected a string"},
		{`{"topic":null,"event":"e","payload":{},"ref":"1"}`, 9, "topic: expected a string"},
		{`{"topic":"t","event":"e","payload":{},"ref":1}`, 44, "ref: expected a string or null"},
		{`{"topic":"t","event":"e","payload":{,"ref":"1"}`, 36, "payload: expected a string"},
		{`{"topic":"t","event":"e","payload":{},"ref":"1"} x`, 49, "unexpected data after the message"},
		{`{"topic":"t","event":"e","payload":{},"ref":"1"`, 47, "object: unexpected end of input"},
		{`{"topic":"t" "event"}`, 13, "object: expected ',' or '}' in object"},
		{"{\"topic\":\"t\x01\"}", 11, "topic: control character in string"},
		{`{"topic":"t","event":"e","payload":{},"ref":"1","x":tru}`, 52, "value of an unknown key: invalid literal"},
	}
	for _, c := range cases {
		m := Message{Topic: "stale", Payload: []byte("x")}
		err := V1.Decode(&m, []byte(c.in), false)
		var de *DecodeError
		require.ErrorAs(t, err, &de, c.in)
		assert.ErrorIs(t, err, ErrMalformed)
		assert.Equal(t, c.offset, de.Offset, c.in)
		assert.Equal(t, c.reason, de.Reason, c.in)
		assert.Equal(t, VersionV1, de.Serializer)
		assert.False(t, de.Binary)
		assert.Equal(t, Message{}, m, "a failed decode leaves a zero message")
		assert.Contains(t, de.Error(), c.reason)
	}

	var m Message
	err := V1.Decode(&m, []byte(`{}`), true)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.True(t, de.Binary)
	assert.Equal(t, "vsn 1.0.0 has no binary frames", de.Reason)
}

func TestDecodeErrorFrameExcerptIsCopiedAndBounded(t *testing.T) {
	frame := []byte(`{"topic":` + strings.Repeat("9", 200) + `}`)
	var m Message
	err := V1.Decode(&m, frame, false)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	require.Len(t, de.Frame, maxFrameExcerpt)
	assert.Equal(t, frame[:maxFrameExcerpt], de.Frame)
	frame[0] = 'X'
	assert.Equal(t, byte('{'), de.Frame[0], "the excerpt must not alias the frame")
}

func TestV2TextDecodeVariants(t *testing.T) {
	cases := []struct {
		in   string
		want Message
	}{
		{` [ null , "1" , "phoenix" , "heartbeat" , {} ] `, Message{Ref: "1", Topic: "phoenix", Event: "heartbeat", Payload: []byte(`{}`)}},
		{`["1","2","t","e",{"a":[1,2]},"extra",{"more":[]}]`, Message{JoinRef: "1", Ref: "2", Topic: "t", Event: "e", Payload: []byte(`{"a":[1,2]}`)}},
		{`[null,null,"t\u00e9","\ud83d\ude00",null]`, Message{Topic: "té", Event: "😀", Payload: []byte(`null`)}},
		{`["","","","",""]`, Message{Payload: []byte(`""`)}},
	}
	for _, c := range cases {
		var m Message
		require.NoError(t, V2.Decode(&m, []byte(c.in), false), c.in)
		requireSameMessage(t, c.want, m, c.in)
	}
}

func TestV2TextDecodeErrors(t *testing.T) {
	cases := []struct {
		in     string
		offset int
		reason string
	}{
		{``, 0, "unexpected end of frame, expected a JSON array"},
		{`{}`, 0, "expected a JSON array"},
		{`[]`, 1, "join_ref: expected a string or null"},
		{`[null,"1","t","e"]`, 17, "the array has fewer than 5 elements"},
		{`[null,"1","t"`, 13, "unexpected end of frame: the array needs 5 elements"},
		{`[null "1"]`, 6, "expected ',' in array"},
		{`[1,"1","t","e",{}]`, 1, "join_ref: expected a string or null"},
		{`[null,"1",null,"e",{}]`, 10, "topic: expected a string"},
		{`[null,"1","t",["e"],{}]`, 14, "event: expected a string"},
		{`[null,"1","t","e",]`, 18, "payload: expected a JSON value"},
		{`[null,"1","t","e",{}`, 20, "array: unexpected end of input"},
		{`[null,"1","t","e",{} 1]`, 21, "array: expected ',' or ']' in array"},
		{`[null,"1","t","e",{},]`, 21, "extra element: expected a JSON value"},
		{`[null,"1","t","e",{}]]`, 21, "unexpected data after the message"},
		{`[nul,"1","t","e",{}]`, 1, "join_ref: expected a string or null"},
		{`[null,"1\q","t","e",{}]`, 9, `ref: invalid escape sequence in string`},
	}
	for _, c := range cases {
		var m Message
		err := V2.Decode(&m, []byte(c.in), false)
		var de *DecodeError
		require.ErrorAs(t, err, &de, c.in)
		assert.ErrorIs(t, err, ErrMalformed)
		assert.Equal(t, c.offset, de.Offset, c.in)
		assert.Equal(t, c.reason, de.Reason, c.in)
		assert.Equal(t, VersionV2, de.Serializer)
		assert.Equal(t, Message{}, m)
	}
}

func TestV2BinaryDecodeErrors(t *testing.T) {
	cases := []struct {
		name   string
		side   *V2Serializer
		in     []byte
		offset int
		reason string
	}{
		{"empty", v2Client, nil, 0, "empty binary frame"},
		{"unknown kind", v2Client, []byte{7, 0, 0}, 0, "unknown binary kind 7"},
		{"short push header", v2Client, []byte{0, 1, 1}, 3, "binary kind 0 needs a 4-byte header, the frame has 3 bytes"},
		{"short client push header", v2Server, []byte{0, 1, 1, 1}, 4, "binary kind 0 needs a 5-byte header, the frame has 4 bytes"},
		{"push topic past end", v2Client, bin([]byte{0, 0, 9, 0}, "abc"), 4, "topic of 9 bytes runs past the end of the frame (7 bytes)"},
		{"reply status past end", v2Client, bin([]byte{1, 1, 1, 1, 3}, "1", "2", "t", "o"), 8, "status of 3 bytes runs past the end of the frame (9 bytes)"},
		{"broadcast header", v2Client, []byte{2, 1}, 2, "binary kind 2 needs a 3-byte header, the frame has 2 bytes"},
		{"broadcast event past end", v2Client, bin([]byte{2, 1, 4}, "t", "ev"), 4, "event of 4 bytes runs past the end of the frame (6 bytes)"},
		{"kind 3 header", v2Server, []byte{3, 0, 0, 0, 0, 0}, 6, "binary kind 3 needs a 7-byte header, the frame has 6 bytes"},
		{"kind 3 meta past end", v2Server, bin([]byte{3, 0, 0, 1, 1, 30, 1}, "t", "e", `{}`), 9, "meta of 30 bytes runs past the end of the frame (11 bytes)"},
		{"kind 3 bad encoding", v2Server, bin([]byte{3, 0, 0, 1, 1, 0, 2}, "t", "e", `{}`), 6, "unknown payload encoding 2 (0 is binary, 1 is JSON)"},
		{"kind 3 bad JSON payload", v2Server, bin([]byte{3, 0, 0, 1, 1, 0, 1}, "t", "e", `{"a":}`), 14, "payload: expected a JSON value"},
		{"kind 3 empty JSON payload", v2Server, bin([]byte{3, 0, 0, 1, 1, 0, 1}, "t", "e"), 9, "payload: unexpected end of input"},
		{"kind 4 meta not JSON", v2Client, bin([]byte{4, 1, 1, 3, 1}, "t", "e", `{x}`, `{}`), 8, "meta: expected a string"},
		{"kind 4 meta not object", v2Client, bin([]byte{4, 1, 1, 3, 1}, "t", "e", `[1]`, `{}`), 7, "meta: expected a JSON object"},
		{"kind 4 trailing after JSON", v2Client, bin([]byte{4, 1, 1, 0, 1}, "t", "e", `{} {}`), 10, "payload: unexpected data after JSON value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := Message{Topic: "stale"}
			err := c.side.Decode(&m, c.in, true)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.True(t, de.Binary)
			assert.Equal(t, c.offset, de.Offset)
			assert.Equal(t, c.reason, de.Reason)
			assert.Equal(t, Message{}, m)
		})
	}
}

func TestV2BinaryDecodeVariants(t *testing.T) {
	var m Message
	// Kind 4 with a binary payload and no metadata.
	require.NoError(t, V2.Decode(&m, bin([]byte{4, 1, 2, 0, 0}, "t", "ev", "\x00\xff"), true))
	requireSameMessage(t, Message{Kind: KindUserBroadcast, Binary: true, Topic: "t", Event: "broadcast", UserEvent: "ev", Payload: []byte{0, 0xff}}, m)

	// Empty payloads decode as nil.
	require.NoError(t, V2.Decode(&m, bin([]byte{2, 1, 1}, "t", "e"), true))
	assert.Nil(t, m.Payload)
	assert.True(t, m.Binary)

	// A JSON user payload is trimmed to the value.
	require.NoError(t, V2.Decode(&m, bin([]byte{4, 1, 1, 0, 1}, "t", "e", " [1] "), true))
	assert.Equal(t, "[1]", string(m.Payload))

	// Payload aliases the frame (zero copy).
	frame := bin([]byte{2, 1, 1}, "t", "e", "abc")
	require.NoError(t, V2.Decode(&m, frame, true))
	frame[len(frame)-1] = 'Z'
	assert.Equal(t, "abZ", string(m.Payload))
}

func TestDecodeAliasesTextPayload(t *testing.T) {
	frame := []byte(`[null,null,"t","e",{"a":1}]`)
	var m Message
	require.NoError(t, V2.Decode(&m, frame, false))
	frame[len(frame)-3] = '2'
	assert.Equal(t, `{"a":2}`, string(m.Payload))
	assert.Equal(t, len(m.Payload), cap(m.Payload), "payload capacity is clipped so appends cannot clobber the frame")
}

func TestDecodeErrorIsNotEncodeError(t *testing.T) {
	var m Message
	err := V2.Decode(&m, []byte(`x`), false)
	assert.True(t, errors.Is(err, ErrMalformed))
	assert.False(t, errors.Is(err, ErrEncode))
}
