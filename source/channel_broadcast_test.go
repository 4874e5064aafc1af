package source_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/source/rest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

type chat struct {
	From string `json:"from"`
	Text string `json:"text"`
}

func anyBroadcast[T any](source.Broadcast[T]) bool { return true }

func TestBroadcastSelfAndAck(t *testing.T) {
	s := rtServer(t)
	c1 := chConnect(t, s)
	c2 := chConnect(t, s)
	acked := chNew(t, c1, "room", source.WithBroadcastSelf(), source.WithBroadcastAck())
	plain := chNew(t, c2, "room")
	gotAcked := messageLog(t, acked, source.Broadcasts[chat](acked, "msg"))
	gotPlain := messageLog(t, plain, source.Broadcasts[chat](plain, "msg"))
	chSubscribe(t, acked)
	chSubscribe(t, plain)

	// With ack, Send returns after the server's reply to that push.
	require.NoError(t, acked.Send(chCtx(t), "msg", chat{From: "a", Text: "1"}))
	push := waitIn(t, s, "realtime:room", "broadcast", 1)[0]
	waitOut(t, s, func(m phoenix.Message) bool {
		return m.Event == phoenix.EventReply && m.Ref == push.Msg.Ref && m.Topic == "realtime:room"
	})
	// With self, the sender receives its own broadcast.
	b := gotAcked.waitN(t, 1, "own broadcast", anyBroadcast[chat])
	assert.Equal(t, source.Broadcast[chat]{Event: "msg", Payload: chat{From: "a", Text: "1"}}, b)
	gotPlain.waitN(t, 1, "a's broadcast", anyBroadcast[chat])

	// Without self the sender does not: a sees b's message, b never sees
	// its own.
	require.NoError(t, plain.Send(chCtx(t), "msg", chat{From: "b", Text: "2"}))
	gotAcked.waitN(t, 2, "b's broadcast", anyBroadcast[chat])
	require.NoError(t, acked.Send(chCtx(t), "msg", chat{From: "a", Text: "3"}))
	vals := gotAcked.waitUntil(t, "three", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= 3 })
	assert.Equal(t, []string{"1", "2", "3"}, []string{vals[0].Payload.Text, vals[1].Payload.Text, vals[2].Payload.Text})
	plainVals := gotPlain.waitUntil(t, "a's second", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= 2 })
	assert.Equal(t, []string{"1", "3"}, []string{plainVals[0].Payload.Text, plainVals[1].Payload.Text})

	// Without ack nothing is acknowledged: no reply to b's push (refs are
	// unique per socket, so a reply with its ref would be the ack).
	var plainConn realtimetest.ConnID
	for _, j := range inFrames(s, "realtime:room", "phx_join") {
		if !decodeJoin(t, j).Config.Broadcast.Ack {
			plainConn = j.Conn
		}
	}
	var bPush realtimetest.Frame
	for _, f := range inFrames(s, "realtime:room", "broadcast") {
		if f.Conn == plainConn {
			bPush = f
		}
	}
	require.NotZero(t, bPush.Seq)
	for _, f := range s.Frames() {
		if f.Dir == realtimetest.Out && f.Msg.Event == phoenix.EventReply && f.Conn == plainConn {
			assert.NotEqual(t, bPush.Msg.Ref, f.Msg.Ref, "unacked broadcast got a reply")
		}
	}
}

func TestBroadcastWireV2Binary(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s) // vsn 2.0.0 is the default
	ch := chNew(t, c, "room", source.WithBroadcastSelf())
	got := messageLog(t, ch, source.Broadcasts[json.RawMessage](ch, "*"))
	bin := messageLog(t, ch, source.Broadcasts[[]byte](ch, "*"))
	chSubscribe(t, ch)
	require.NoError(t, ch.Send(chCtx(t), "ev", map[string]int{"a": 1}))
	require.NoError(t, ch.Send(chCtx(t), "raw", []byte{0, 1, 2, 255}))

	pushes := waitIn(t, s, "realtime:room", "broadcast", 2)
	join := inFrames(s, "realtime:room", "phx_join")[0]
	for i, tc := range []struct {
		event    string
		encoding byte
		payload  []byte
	}{
		{"ev", 1, []byte(`{"a":1}`)},
		{"raw", 0, []byte{0, 1, 2, 255}},
	} {
		f := pushes[i]
		require.True(t, f.Binary, "a broadcast on vsn 2.0.0 is a binary frame")
		d := f.Data
		jr, ref, topic := join.Msg.JoinRef, f.Msg.Ref, "realtime:room"
		// kind 3: [3, len(join_ref), len(ref), len(topic), len(event), len(meta), encoding, ...fields, payload]
		require.Equal(t, byte(3), d[0], "user broadcast push is kind 3")
		assert.Equal(t, []byte{byte(len(jr)), byte(len(ref)), byte(len(topic)), byte(len(tc.event)), 0, tc.encoding}, d[1:7])
		rest := d[7:]
		assert.Equal(t, jr+ref+topic+tc.event, string(rest[:len(jr)+len(ref)+len(topic)+len(tc.event)]))
		assert.Equal(t, tc.payload, rest[len(jr)+len(ref)+len(topic)+len(tc.event):])
		assert.Equal(t, phoenix.KindUserBroadcastPush, f.Msg.Kind)
		assert.Equal(t, jr, f.Msg.JoinRef)
	}

	// The server relays them as kind 4; JSON decodes, bytes stay bytes.
	j := got.waitN(t, 1, "json broadcast", anyBroadcast[json.RawMessage])
	assert.Equal(t, "ev", j.Event)
	assert.JSONEq(t, `{"a":1}`, string(j.Payload))
	raw := bin.waitN(t, 2, "binary broadcast", anyBroadcast[[]byte])
	assert.Equal(t, "raw", raw.Event)
	assert.Equal(t, []byte{0, 1, 2, 255}, raw.Payload)
	out := waitOut(t, s, func(m phoenix.Message) bool { return m.Kind == phoenix.KindUserBroadcast && m.UserEvent == "raw" })
	assert.Equal(t, byte(4), out.Data[0])
}

func TestBroadcastWireV1JSON(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s, source.WithSerializer(phoenix.V1))
	ch := chNew(t, c, "room", source.WithBroadcastSelf(), source.WithBroadcastAck())
	got := messageLog(t, ch, source.Broadcasts[chat](ch, "msg"))
	chSubscribe(t, ch)
	require.NoError(t, ch.Send(chCtx(t), "msg", chat{From: "v1", Text: "hi"}))

	f := waitIn(t, s, "realtime:room", "broadcast", 1)[0]
	require.False(t, f.Binary, "vsn 1.0.0 has no binary frames")
	var env struct {
		Topic   string          `json:"topic"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
		Ref     string          `json:"ref"`
		JoinRef *string         `json:"join_ref"`
	}
	require.NoError(t, json.Unmarshal(f.Data, &env), "a JSON object: %s", f.Data)
	assert.Equal(t, "realtime:room", env.Topic)
	assert.Equal(t, "broadcast", env.Event)
	assert.JSONEq(t, `{"type":"broadcast","event":"msg","payload":{"from":"v1","text":"hi"}}`, string(env.Payload))
	b := got.waitN(t, 1, "own broadcast", anyBroadcast[chat])
	assert.Equal(t, chat{From: "v1", Text: "hi"}, b.Payload)
	require.ErrorIs(t, ch.Send(chCtx(t), "bin", []byte{1}), source.ErrBinaryUnsupported)
}

func TestBroadcastsTyped(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	msgs := messageLog(t, ch, source.Broadcasts[chat](ch, "MSG")) // event names match case-insensitively
	all := messageLog(t, ch, source.Broadcasts[json.RawMessage](ch, "*"))
	bytes := messageLog(t, ch, source.Broadcasts[[]byte](ch, "file"))
	errs := errorLog(t, c)
	chSubscribe(t, ch)

	api, err := rest.New(s.HTTPURL(), "anon-key")
	require.NoError(t, err)
	ctx := chCtx(t)
	// JSON with meta (the batch endpoint's id), binary (kind 4 with a raw
	// payload), and a payload that does not fit the type.
	require.NoError(t, api.BroadcastBatch(ctx, []rest.Message{{Topic: "room", Event: "msg", Payload: chat{From: "rest", Text: "batch"}, ID: "4f9a7c1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"}}))
	require.NoError(t, api.BroadcastBinary(ctx, "room", "file", []byte{0xde, 0xad}, false))
	require.NoError(t, api.Broadcast(ctx, "room", "msg", map[string]any{"text": 5}, false))
	require.NoError(t, api.Broadcast(ctx, "room", "Msg", chat{Text: "single"}, false))

	first := msgs.waitN(t, 1, "batch message", anyBroadcast[chat])
	assert.Equal(t, "msg", first.Event)
	assert.Equal(t, chat{From: "rest", Text: "batch"}, first.Payload)
	assert.JSONEq(t, `{"id":"4f9a7c1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"}`, string(first.Meta))
	second := msgs.waitN(t, 2, "single message", anyBroadcast[chat])
	assert.Equal(t, "Msg", second.Event)
	assert.Equal(t, "single", second.Payload.Text)
	assert.Nil(t, second.Meta)

	f := bytes.waitN(t, 1, "binary", anyBroadcast[[]byte])
	assert.Equal(t, []byte{0xde, 0xad}, f.Payload)
	perr := errs.waitN(t, 1, "undecodable payload", func(err error) bool {
		var pe *source.PayloadError
		return strings.Contains(err.Error(), "msg") && errorsAs(err, &pe)
	})
	assert.Contains(t, perr.Error(), "cannot decode payload")
	vals := all.waitUntil(t, "four", func(v []source.Broadcast[json.RawMessage], _ bool) bool { return len(v) >= 3 })
	assert.Len(t, vals, 3, "the binary one does not fit json.RawMessage: reported, skipped")
}

func TestRESTBroadcastStatuses(t *testing.T) {
	ctx := chCtx(t)
	t.Run("202 reaches subscribers", func(t *testing.T) {
		s := rtServer(t)
		c := chConnect(t, s)
		ch := chNew(t, c, "room")
		got := messageLog(t, ch, source.Broadcasts[chat](ch, "msg"))
		chSubscribe(t, ch)
		api, err := rest.New(s.HTTPURL(), "anon-key")
		require.NoError(t, err)
		require.NoError(t, api.Broadcast(ctx, "room", "msg", chat{Text: "over http"}, false))
		assert.Equal(t, "over http", got.waitN(t, 1, "rest broadcast", anyBroadcast[chat]).Payload.Text)
	})
	t.Run("401 bad token", func(t *testing.T) {
		s := rtServer(t, realtimetest.WithJWTSecret(testSecret))
		api, err := rest.New(s.HTTPURL(), "anon-key", rest.WithToken("not-a-jwt"))
		require.NoError(t, err)
		err = api.Broadcast(ctx, "room", "msg", chat{}, false)
		require.ErrorIs(t, err, rest.ErrUnauthorized)
		var se *rest.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusUnauthorized, se.Status)
		assert.NotContains(t, err.Error(), "not-a-jwt", "the token never shows in errors")
		good, err := rest.New(s.HTTPURL(), "anon-key", rest.WithToken(s.Token("anon", 3600e9)))
		require.NoError(t, err)
		require.NoError(t, good.Broadcast(ctx, "room", "msg", chat{}, false))
	})
	t.Run("422 payload too large", func(t *testing.T) {
		s := rtServer(t, realtimetest.WithMaxPayloadKB(1))
		api, err := rest.New(s.HTTPURL(), "anon-key")
		require.NoError(t, err)
		err = api.Broadcast(ctx, "room", "msg", chat{Text: strings.Repeat("x", 2000)}, false)
		require.ErrorIs(t, err, rest.ErrInvalid)
		var se *rest.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusUnprocessableEntity, se.Status)
	})
	t.Run("429 rate limited", func(t *testing.T) {
		s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1)) // trips after 60 events in a minute
		api, err := rest.New(s.HTTPURL(), "anon-key")
		require.NoError(t, err)
		// A batch larger than the rate is refused whole...
		err = api.BroadcastBatch(ctx, []rest.Message{{Topic: "room", Event: "a", Payload: chat{}}, {Topic: "room", Event: "b", Payload: chat{}}})
		require.ErrorIs(t, err, rest.ErrRateLimited)
		// ...and once a minute's worth of events went through, so is the rest.
		for i := 0; i < 60; i++ {
			require.NoError(t, api.Broadcast(ctx, "room", "msg", chat{}, false), "event %d", i)
		}
		err = api.Broadcast(ctx, "room", "msg", chat{}, false)
		require.ErrorIs(t, err, rest.ErrRateLimited)
		var se *rest.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusTooManyRequests, se.Status)
	})
}
