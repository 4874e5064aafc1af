package source_test

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"sync/atomic"
	"testing"

	gojson "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// gobCodec is a binary codec, as a protobuf or MessagePack one would be.
type gobCodec struct{}

func (gobCodec) Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}

func (gobCodec) Unmarshal(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// countingJSON is a faster JSON library as a codec, counting its calls.
type countingJSON struct{ marshals, unmarshals atomic.Int64 }

func (c *countingJSON) Marshal(v any) ([]byte, error) {
	c.marshals.Add(1)
	return gojson.Marshal(v)
}

func (c *countingJSON) Unmarshal(data []byte, v any) error {
	c.unmarshals.Add(1)
	return gojson.Unmarshal(data, v)
}

type move struct {
	Piece    string
	From, To [2]int
}

// A binary codec's payload travels as a binary broadcast (encoding 0 in
// the kind 3 frame) and comes back decoded by the same codec.
func TestCodecBinaryBroadcastRoundTrip(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "game", source.WithBroadcastSelf(), source.WithBroadcastAck())
	codec := source.Binary(gobCodec{})
	moves := messageLog(t, ch, source.BroadcastsWith[move](ch, "move", codec))
	errs := errorLog(t, c)
	chSubscribe(t, ch)

	want := move{Piece: "knight", From: [2]int{1, 0}, To: [2]int{2, 2}}
	require.NoError(t, ch.SendWith(chCtx(t), codec, "move", want))
	got := moves.waitN(t, 1, "the move", anyBroadcast[move])
	assert.Equal(t, "move", got.Event)
	assert.Equal(t, want, got.Payload)

	f := waitIn(t, s, "realtime:game", "broadcast", 1)[0]
	require.True(t, f.Binary)
	assert.Equal(t, phoenix.KindUserBroadcastPush, f.Msg.Kind)
	assert.True(t, f.Msg.Binary, "sent as a binary payload")
	enc, err := gobCodec{}.Marshal(want)
	require.NoError(t, err)
	assert.Equal(t, enc, f.Msg.Payload, "the codec's bytes, as they are")

	// A binary payload from the database (realtime.send_binary) decodes
	// too; a JSON payload is not given to a binary codec: it is reported.
	_, err = s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "game", Event: "move", Payload: enc, Binary: true})
	require.NoError(t, err)
	moves.waitN(t, 2, "the database's move", anyBroadcast[move])
	require.NoError(t, ch.Send(chCtx(t), "move", map[string]string{"piece": "json"}))
	perr := errs.waitN(t, 1, "the JSON payload's error", isPayloadError)
	assert.Contains(t, perr.Error(), "JSON payload for a binary codec")
	require.NoError(t, ch.SendWith(chCtx(t), codec, "move", want))
	moves.waitN(t, 3, "a move after the error", anyBroadcast[move])
	assert.Equal(t, 3, moves.count(anyBroadcast[move]))
}

// A JSON codec replaces encoding/json for both directions; a binary
// payload is reported rather than given to it; output that is not JSON is
// refused before anything is sent.
func TestCodecJSONBroadcast(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithBroadcastSelf(), source.WithBroadcastAck())
	codec := &countingJSON{}
	got := messageLog(t, ch, source.BroadcastsWith[chat](ch, "msg", codec))
	errs := errorLog(t, c)
	chSubscribe(t, ch)

	require.NoError(t, ch.SendWith(chCtx(t), codec, "msg", chat{From: "a", Text: "hi"}))
	b := got.waitN(t, 1, "the message", anyBroadcast[chat])
	assert.Equal(t, chat{From: "a", Text: "hi"}, b.Payload)
	assert.Equal(t, int64(1), codec.marshals.Load())
	assert.Equal(t, int64(1), codec.unmarshals.Load())
	f := waitIn(t, s, "realtime:room", "broadcast", 1)[0]
	assert.False(t, f.Msg.Binary, "a JSON codec's payload is JSON")
	assert.JSONEq(t, `{"from":"a","text":"hi"}`, string(f.Msg.Payload))

	require.NoError(t, ch.Send(chCtx(t), "msg", []byte{1, 2}))
	perr := errs.waitN(t, 1, "the binary payload's error", isPayloadError)
	assert.Contains(t, perr.Error(), "binary payload for a JSON codec")

	err := ch.SendWith(chCtx(t), gobCodec{}, "msg", chat{From: "b"})
	require.Error(t, err, "gob output is not JSON: the codec must be wrapped with Binary")
	assert.Contains(t, err.Error(), "source.Binary")
	assert.Len(t, inFrames(s, "realtime:room", "broadcast"), 2, "nothing sent")
}

func TestCodecBinaryOverV1(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s, source.WithSerializer(phoenix.V1))
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	require.ErrorIs(t, ch.SendWith(chCtx(t), source.Binary(gobCodec{}), "move", move{}), source.ErrBinaryUnsupported)
	require.NoError(t, ch.SendWith(chCtx(t), source.JSONCodec, "msg", chat{From: "v1"}))
}

// A codec decodes postgres_changes rows too: channel-wide, client-wide,
// and per binding.
func TestCodecRows(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	codec := &countingJSON{}
	messages := source.Bind[chatMessage](postgres.Binding{Table: "messages"}).WithCodec(codec)
	reactions := source.Bind[chatReaction](postgres.Binding{Table: "reactions"})
	ch := chNew(t, c, "room", messages.Option(), reactions.Option())
	perBinding := messageLog(t, ch, messages.Changes(ch))
	builtin := messageLog(t, ch, reactions.Changes(ch))
	wide := messageLog(t, ch, source.ChangesWith[map[string]any](ch, codec))
	all := messageLog(t, ch, source.AllChangesWith[json.RawMessage](c, source.Binary(codec)))
	chSubscribe(t, ch)

	emitMessage(t, s, realtimetest.Update, chatMessage{ID: 1, Room: "lobby", Body: "hi"})
	emitReaction(t, s, chatReaction{ID: 10, MessageID: 1, Emoji: "+1"})

	m := perBinding.waitN(t, 1, "the message", anyChange[chatMessage])
	assert.Equal(t, chatMessage{ID: 1, Room: "lobby", Body: "hi"}, m.New)
	assert.Equal(t, chatMessage{ID: 1}, m.Old)
	r := builtin.waitN(t, 1, "the reaction", anyChange[chatReaction])
	assert.Equal(t, "+1", r.New.Emoji)
	w := wide.waitN(t, 2, "both", anyChange[map[string]any])
	assert.Equal(t, "+1", w.New["emoji"])
	assert.Equal(t, float64(1), w.New["message_id"], "the codec's types: no conversion by column type")
	a := all.waitN(t, 2, "both", anyChange[json.RawMessage])
	assert.JSONEq(t, `{"id":10,"message_id":1,"emoji":"+1"}`, string(a.New), "rows are JSON, even for a binary codec")
	// per binding: new + old; channel-wide: 2 + 1; client-wide: 2 + 1.
	assert.Equal(t, int64(8), codec.unmarshals.Load())
}
