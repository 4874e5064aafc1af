package phoenix_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

var lazy = phoenix.NewV2(phoenix.WithLazyPayloads())

func TestLazyPayloadsDecodeValidFramesLikeStrict(t *testing.T) {
	for _, frame := range []string{
		`["6","6","realtime:room1","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]`,
		`[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1}}] `,
		`[null,"8","phoenix","heartbeat",{}]`,
		" [ \"1\" , null , \"t\" , \"e\" , [1,2] \n] \n",
		`[null,null,"t","e","a string"]`,
		`[null,null,"t","e",-12.5]`,
		`[null,null,"t","e",null]`,
	} {
		var strict, got phoenix.Message
		require.NoError(t, phoenix.V2.Decode(&strict, []byte(frame), false), frame)
		require.NoError(t, lazy.Decode(&got, []byte(frame), false), frame)
		assert.Equal(t, strict, got, frame)
	}
}

func TestLazyPayloadsStillCheckTheEnvelope(t *testing.T) {
	for _, frame := range []string{
		``, `{}`, `[1,null,"t","e",{}]`, `[null,null,"t",{}]`, `[null,null,"t","e",{}`,
		`[null,null,"t","e",]`, `[null,null,"t","e",}]`,
	} {
		var m phoenix.Message
		err := lazy.Decode(&m, []byte(frame), false)
		assert.ErrorIs(t, err, phoenix.ErrMalformed, frame)
		assert.Equal(t, phoenix.Message{}, m, frame)
	}
}

func TestLazyPayloadsLeavePayloadCheckingToTheConsumer(t *testing.T) {
	var m phoenix.Message
	require.NoError(t, lazy.Decode(&m, []byte(`[null,"3","realtime:x","phx_reply",{"status":"ok",]`), false))
	_, _, err := phoenix.ParseReply(m.Payload)
	assert.ErrorIs(t, err, phoenix.ErrMalformed, "the consumer reports the bad payload")

	// Extra trailing elements (which the server never sends) end up in the
	// payload, which then fails to decode.
	require.NoError(t, lazy.Decode(&m, []byte(`[null,"3","realtime:x","phx_reply",{"status":"ok"},"extra"]`), false))
	assert.Equal(t, `{"status":"ok"},"extra"`, string(m.Payload))
	_, _, err = phoenix.ParseReply(m.Payload)
	assert.ErrorIs(t, err, phoenix.ErrMalformed)
}

func BenchmarkDecodeV2LazyPostgresChange(b *testing.B) {
	frame, err := os.ReadFile("testdata/postgres_change_v2.json")
	require.NoError(b, err)
	frame = bytes.TrimSpace(frame)
	var m phoenix.Message
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if err := lazy.Decode(&m, frame, false); err != nil {
			b.Fatal(err)
		}
	}
}

func TestV1LazyDecodesValidFramesLikeStrict(t *testing.T) {
	for _, frame := range []string{
		`{"topic":"realtime:room1","event":"phx_reply","payload":{"status":"ok","response":{"postgres_changes":[]}},"ref":"6","join_ref":"6"}`,
		`{"payload":{"type":"broadcast","event":"c","payload":{"x":"a \"}\" b\\"}},"event":"broadcast","topic":"t","ref":null}`,
		` { "topic" : "phoenix" , "event" : "heartbeat" , "payload" : {} , "ref" : "8" } `,
		`{"topic":"t","event":"e","payload":[1,[2,{"a":"]"}]],"ref":null}`,
		`{"topic":"t","event":"e","payload":-12.5e3,"ref":null}`,
		`{"topic":"t","event":"e","payload":null,"ref":null,"x":{"y":[true]}}`,
		`{"event":"postgres_changes","payload":{"a":"}\\\"]"},"ref":"1","topic":"realtime:a\\\"}"}`,
		`{"topic":"t","event":"e","ref":null,"payload":[1,{"b":"]"}]}`,
		` {"topic":"t" , "payload" : {"x":1} , "event":"e" ,"ref": null , "join_ref":"2" } `,
		`{"topic":"t","event":"e","payload":{"x":1},"ref":null,"n":-1.5e+3,"b":true,"f":false}`,
	} {
		var strict, got phoenix.Message
		require.NoError(t, phoenix.V1.Decode(&strict, []byte(frame), false), frame)
		require.NoError(t, phoenix.V1Lazy.Decode(&got, []byte(frame), false), frame)
		assert.Equal(t, strict, got, frame)
	}
}

func TestV1LazyChecksTheEnvelopeAndLeavesThePayloadToTheConsumer(t *testing.T) {
	for _, frame := range []string{
		``, `[]`, `{"topic":"t","event":"e","payload":{},"ref":null`, `{"topic":"t","event":"e","payload":,"ref":null}`,
		`{"topic":"t","event":"e","payload":{"a":"b}`, `{"topic":"t","event":"e","payload":{}}`, `{"topic":1,"event":"e","payload":{},"ref":null}`,
		`{"topic":"t","event":"e","payload":{} x,"ref":null}`,
	} {
		var m phoenix.Message
		err := phoenix.V1Lazy.Decode(&m, []byte(frame), false)
		assert.ErrorIs(t, err, phoenix.ErrMalformed, frame)
		assert.Equal(t, phoenix.Message{}, m, frame)
	}
	// A member with an object value after the payload (never sent by the server) ends up in the payload.
	var m phoenix.Message
	require.NoError(t, phoenix.V1Lazy.Decode(&m, []byte(`{"topic":"t","event":"e","payload":{"status":"ok","response":{}},"x":{},"ref":"3"}`), false))
	assert.Equal(t, `{"status":"ok","response":{}},"x":{}`, string(m.Payload))
	assert.Equal(t, "3", m.Ref)
	_, _, err := phoenix.ParseReply(m.Payload)
	assert.ErrorIs(t, err, phoenix.ErrMalformed)

	frame := `{"topic":"realtime:x","event":"phx_reply","payload":{"status":"ok",},"ref":"3"}`
	require.Error(t, phoenix.V1.Decode(&m, []byte(frame), false))
	require.NoError(t, phoenix.V1Lazy.Decode(&m, []byte(frame), false))
	_, _, err = phoenix.ParseReply(m.Payload)
	assert.ErrorIs(t, err, phoenix.ErrMalformed, "the consumer reports the bad payload")
}
