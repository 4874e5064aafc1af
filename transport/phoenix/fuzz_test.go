package phoenix

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// textFieldsValid reports whether the decoded strings are valid UTF-8; the
// encoder replaces invalid bytes with U+FFFD, so only then is a re-encoded
// text message expected to decode to the same strings.
func textFieldsValid(m *Message) bool {
	return utf8.ValidString(m.JoinRef) && utf8.ValidString(m.Ref) && utf8.ValidString(m.Topic) && utf8.ValidString(m.Event)
}

// checkDecodeResult checks the contract of a failed decode.
func checkDecodeResult(t *testing.T, err error, m *Message, binary bool) {
	if err == nil {
		return
	}
	var de *DecodeError
	require.True(t, errors.As(err, &de), "error %v is not a *DecodeError", err)
	require.ErrorIs(t, err, ErrMalformed)
	require.Equal(t, binary, de.Binary)
	require.LessOrEqual(t, len(de.Frame), maxFrameExcerpt)
	require.Equal(t, Message{}, *m)
}

func seedGolden(f *testing.F, binary bool, dec Serializer) {
	for _, g := range goldenFrames(f) {
		if g.binary == binary && g.dec.Version() == dec.Version() {
			f.Add(g.frame)
		}
	}
}

func FuzzDecodeV1(f *testing.F) {
	seedGolden(f, false, V1)
	f.Add([]byte(`{"topic":"t","event":"e","payload":{},"ref":null,"join_ref":"1","x":[{}]}`))
	f.Add([]byte(`{"\u0074opic":"t\ud83d\ude00","event":"e","payload":"\"","ref":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		err := V1.Decode(&m, data, false)
		checkDecodeResult(t, err, &m, false)
		if err != nil {
			return
		}
		require.True(t, json.Valid(data), "accepted invalid JSON %q", data)
		require.True(t, json.Valid(m.Payload))
		if !textFieldsValid(&m) {
			return
		}
		frame, binary, err := V1.Encode(nil, &m)
		require.NoError(t, err)
		require.False(t, binary)
		var back Message
		require.NoError(t, V1.Decode(&back, frame, false), "%q", frame)
		requireSameMessage(t, m, back)
	})
}

func FuzzDecodeV2Text(f *testing.F) {
	seedGolden(f, false, V2)
	f.Add([]byte(`[null,null,"t","e",{},1,[2]]`))
	f.Add([]byte(`["\u00e9","\\","t\n","\ud800",[]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		err := V2.Decode(&m, data, false)
		checkDecodeResult(t, err, &m, false)
		if err != nil {
			return
		}
		require.True(t, json.Valid(data), "accepted invalid JSON %q", data)
		require.True(t, json.Valid(m.Payload))
		if !textFieldsValid(&m) {
			return
		}
		frame, binary, err := V2.Encode(nil, &m)
		require.NoError(t, err)
		require.False(t, binary)
		var back Message
		require.NoError(t, V2.Decode(&back, frame, false), "%q", frame)
		requireSameMessage(t, m, back)
	})
}

func FuzzDecodeV2Binary(f *testing.F) {
	seedGolden(f, true, V2)
	f.Add([]byte{4, 1, 1, 2, 0, 't', 'e', '{', '}'})
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Each side decodes what the other side encodes.
		for _, pair := range [][2]*V2Serializer{{v2Client, v2Server}, {v2Server, v2Client}} {
			dec, enc := pair[0], pair[1]
			var m Message
			err := dec.Decode(&m, data, true)
			checkDecodeResult(t, err, &m, true)
			if err != nil {
				continue
			}
			frame, binary, err := enc.Encode(nil, &m)
			require.NoError(t, err, "%+v", m)
			require.True(t, binary)
			if len(frame) == len(data) {
				// Nothing was trimmed: the binary layout is canonical.
				require.Equal(t, data, frame)
			}
			var back Message
			require.NoError(t, dec.Decode(&back, frame, true))
			requireSameMessage(t, m, back)
		}
	})
}

// FuzzDecodeV2TextLazy checks the lazy decoder against the strict one: it
// never panics, fails with the same error contract, and on every frame the
// strict decoder accepts without extra trailing elements it yields the
// same message.
func FuzzDecodeV2TextLazy(f *testing.F) {
	seedGolden(f, false, V2)
	f.Add([]byte(`[null,null,"t","e",{"a":[1,{"b":"]"}]}]`))
	f.Add([]byte(` [ "1" , null , "t" , "e" , "x" ] `))
	lazy := NewV2(WithLazyPayloads())
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		err := lazy.Decode(&m, data, false)
		checkDecodeResult(t, err, &m, false)
		var strict Message
		if V2.Decode(&strict, data, false) != nil {
			return
		}
		var arr []json.RawMessage
		if json.Unmarshal(data, &arr) != nil || len(arr) != 5 {
			return // extra trailing elements: lazy keeps them in the payload, by design
		}
		require.NoError(t, err, "lazy refused a frame strict accepts: %q", data)
		requireSameMessage(t, strict, m)
	})
}

// FuzzDecodeV1Lazy checks V1Lazy against V1: it never panics, fails with
// the same error contract, and yields the same message on every frame V1
// accepts.
func FuzzDecodeV1Lazy(f *testing.F) {
	seedGolden(f, false, V1)
	f.Add([]byte(`{"topic":"t","event":"e","payload":{"a":[1,{"b":"]\\\""}]},"ref":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		err := V1Lazy.Decode(&m, data, false)
		checkDecodeResult(t, err, &m, false)
		var strict Message
		if V1.Decode(&strict, data, false) != nil {
			return
		}
		require.NoError(t, err, "lazy refused a frame strict accepts: %q", data)
		if !bytes.Equal(strict.Payload, m.Payload) {
			// By design (V1Serializer.LazyPayloads): a member with an object or
			// array value after the payload ends up in the payload.
			require.True(t, bytes.HasPrefix(m.Payload, strict.Payload), "%q: payload %q, strict %q", data, m.Payload, strict.Payload)
			rest := bytes.TrimLeft(m.Payload[len(strict.Payload):], " \t\r\n")
			require.True(t, len(rest) > 0 && rest[0] == ',', "%q: payload %q, strict %q", data, m.Payload, strict.Payload)
			m.Payload = strict.Payload
		}
		requireSameMessage(t, strict, m)
	})
}
