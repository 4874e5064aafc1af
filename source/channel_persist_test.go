package source_test

import (
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// kind3 renders a kind 3 user broadcast push (client.md §2.4).
func kind3(joinRef, ref, topic, event, meta string, enc byte, payload []byte) []byte {
	b := []byte{3, byte(len(joinRef)), byte(len(ref)), byte(len(topic)), byte(len(event)), byte(len(meta)), enc}
	b = append(b, joinRef+ref+topic+event+meta...)
	return append(b, payload...)
}

func TestSendPersistWire(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPrivate(), source.WithBroadcastAck())
	chSubscribe(t, ch)

	type hi struct {
		Hi string `json:"hi"`
	}
	require.NoError(t, ch.Send(chCtx(t), "msg", hi{"é"}, source.PersistTTL(time.Minute)))
	require.NoError(t, ch.Send(chCtx(t), "msg", hi{"é"}, source.Persist()))
	require.NoError(t, ch.Send(chCtx(t), "bin", []byte{1, 2, 3}, source.PersistTTL(1500*time.Millisecond)))
	require.NoError(t, ch.Send(chCtx(t), "live", hi{"x"}))

	pushes := waitIn(t, s, "realtime:room", "broadcast", 4)
	jr := inFrames(s, "realtime:room", "phx_join")[0].Msg.JoinRef

	// client.md §2.4, captured from realtime-js with persist:{ttl:60}:
	// 03 01 01 0d 03 16 01 | "1" "2" "realtime:room" "msg" {"persist":{"ttl":60}} {"hi":"é"}
	golden, err := hex.DecodeString("0301010d031601")
	require.NoError(t, err)
	f := pushes[0]
	require.True(t, f.Binary)
	assert.Equal(t, golden[3:], f.Data[3:7], "topic, event and metadata lengths, JSON encoding")
	assert.Equal(t, kind3(jr, f.Msg.Ref, "realtime:room", "msg", `{"persist":{"ttl":60}}`, 1, []byte(`{"hi":"é"}`)), f.Data)
	assert.Equal(t, kind3(jr, pushes[1].Msg.Ref, "realtime:room", "msg", `{"persist":true}`, 1, []byte(`{"hi":"é"}`)), pushes[1].Data)
	assert.Equal(t, kind3(jr, pushes[2].Msg.Ref, "realtime:room", "bin", `{"persist":{"ttl":2}}`, 0, []byte{1, 2, 3}), pushes[2].Data,
		"a TTL is rounded up to whole seconds")
	assert.Equal(t, kind3(jr, pushes[3].Msg.Ref, "realtime:room", "live", "", 1, []byte(`{"hi":"x"}`)), pushes[3].Data)

	// The server stored the three persisted ones and acked each with its id.
	stored := s.StoredBroadcasts("room")
	require.Len(t, stored, 3)
	assert.Equal(t, time.Minute, stored[0].ExpiresAt.Sub(stored[0].InsertedAt))
	assert.True(t, stored[1].ExpiresAt.IsZero())
	assert.Equal(t, 2*time.Second, stored[2].ExpiresAt.Sub(stored[2].InsertedAt))
	ack := waitOut(t, s, func(m phoenix.Message) bool { return m.Event == phoenix.EventReply && m.Ref == pushes[0].Msg.Ref })
	assert.JSONEq(t, `{"status":"ok","response":{"id":"`+stored[0].ID+`"}}`, string(ack.Msg.Payload))
}

func TestSendPersistRefused(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	pub := chNew(t, c, "pub")
	priv := chNew(t, c, "priv", source.WithPrivate())
	chSubscribe(t, pub)
	chSubscribe(t, priv)

	err := pub.Send(chCtx(t), "m", chat{}, source.Persist())
	require.ErrorIs(t, err, source.ErrPersistUnsupported)
	assert.Contains(t, err.Error(), "public channel")
	for _, ttl := range []time.Duration{0, -time.Second, 999 * time.Millisecond} {
		require.ErrorIs(t, priv.Send(chCtx(t), "m", chat{}, source.PersistTTL(ttl)), source.ErrPersistUnsupported, "ttl %v", ttl)
	}

	v1 := chConnect(t, s, source.WithSerializer(phoenix.V1))
	v1priv := chNew(t, v1, "priv", source.WithPrivate())
	chSubscribe(t, v1priv)
	err = v1priv.Send(chCtx(t), "m", chat{}, source.Persist())
	require.ErrorIs(t, err, source.ErrPersistUnsupported)
	assert.Contains(t, err.Error(), "1.0.0")

	// Nothing went out; a later send without persist does.
	assert.Empty(t, inFrames(s, "realtime:pub", "broadcast"))
	assert.Empty(t, inFrames(s, "realtime:priv", "broadcast"))
	require.NoError(t, priv.Send(chCtx(t), "m", chat{}))
	waitIn(t, s, "realtime:priv", "broadcast", 1)
	assert.Empty(t, s.StoredBroadcasts("priv"))
}

func isReplayed[T any](b source.Broadcast[T]) bool { return b.Replayed }

func TestBroadcastReplayEndToEnd(t *testing.T) {
	s := rtServer(t)
	// An old stored message, before since.
	_, err := s.StoreBroadcast(realtimetest.StoredBroadcast{Topic: "room", Event: "msg",
		Payload: []byte(`{"from":"old","text":"0"}`), InsertedAt: time.Now().Add(-time.Hour)})
	require.NoError(t, err)

	sender := chConnect(t, s)
	out := chNew(t, sender, "room", source.WithPrivate(), source.WithBroadcastAck())
	chSubscribe(t, out)
	since := time.Now().Add(-time.Minute)
	for _, text := range []string{"1", "2", "3"} {
		require.NoError(t, out.Send(chCtx(t), "msg", chat{From: "a", Text: text}, source.Persist()))
	}
	require.NoError(t, out.Send(chCtx(t), "msg", chat{From: "a", Text: "not stored"}))
	require.NoError(t, out.Send(chCtx(t), "file", []byte{7, 7}, source.Persist()))
	stored := s.StoredBroadcasts("room")
	require.Len(t, stored, 5)

	// A new private channel replaying since a minute ago, at most 3: the
	// latest three stored after since, oldest first, marked replayed.
	rx := chConnect(t, s)
	in := chNew(t, rx, "room", source.WithPrivate(), source.WithBroadcastReplay(since, 3))
	msgs := messageLog(t, in, source.Broadcasts[chat](in, "msg"))
	files := messageLog(t, in, source.Broadcasts[[]byte](in, "file"))
	chSubscribe(t, in)

	vals := msgs.waitUntil(t, "two replayed", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= 2 })
	want := []source.Broadcast[chat]{
		{Event: "msg", Payload: chat{From: "a", Text: "2"}, ID: stored[2].ID, Replayed: true,
			Meta: json.RawMessage(`{"id":"` + stored[2].ID + `","replayed":true}`)},
		{Event: "msg", Payload: chat{From: "a", Text: "3"}, ID: stored[3].ID, Replayed: true,
			Meta: json.RawMessage(`{"id":"` + stored[3].ID + `","replayed":true}`)},
	}
	assert.Equal(t, want, vals[:2])
	f := files.waitN(t, 1, "replayed binary", isReplayed[[]byte])
	assert.Equal(t, []byte{7, 7}, f.Payload)
	assert.Equal(t, stored[4].ID, f.ID)

	// On the wire: the join asked since (ms) and limit; the server answered
	// with text pushes carrying the join_ref, then a kind 4 frame.
	join := inFrames(s, "realtime:room", "phx_join")[1]
	j := decodeJoin(t, join)
	require.NotNil(t, j.Config.Broadcast.Replay)
	assert.Equal(t, since.UnixMilli(), j.Config.Broadcast.Replay.Since)
	assert.Equal(t, 3, j.Config.Broadcast.Replay.Limit)
	jr := join.Msg.JoinRef
	first := waitOut(t, s, func(m phoenix.Message) bool {
		return m.Topic == "realtime:room" && m.Event == phoenix.EventBroadcast && m.JoinRef == jr
	})
	assert.Equal(t, `["`+jr+`",null,"realtime:room","broadcast",{"event":"msg","meta":{"id":"`+stored[2].ID+
		`","replayed":true},"payload":{"from":"a","text":"2"},"type":"broadcast"}]`, string(first.Data))
	bin := waitOut(t, s, func(m phoenix.Message) bool {
		return m.Kind == phoenix.KindUserBroadcast && m.UserEvent == "file" && string(m.Meta) != ""
	})
	assert.Equal(t, `{"id":"`+stored[4].ID+`","replayed":true}`, string(bin.Msg.Meta))

	// A live broadcast after the join is not marked.
	require.NoError(t, out.Send(chCtx(t), "msg", chat{From: "a", Text: "live"}))
	live := msgs.waitN(t, 3, "live", anyBroadcast[chat])
	assert.Equal(t, source.Broadcast[chat]{Event: "msg", Payload: chat{From: "a", Text: "live"}}, live)
	assert.Equal(t, 2, msgs.count(isReplayed[chat]), "exactly the two expected messages were replayed")
}

func TestDatabaseBroadcastCarriesID(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPrivate())
	got := messageLog(t, ch, source.Broadcasts[chat](ch, "*"))
	chSubscribe(t, ch)
	const id = "2d4c6e8a-1b3d-4f5a-9c7e-0a2b4c6d8e0f"
	_, err := s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "room", Event: "db", Payload: []byte(`{"text":"x"}`), Private: true, ID: id})
	require.NoError(t, err)
	b := got.waitN(t, 1, "db broadcast", anyBroadcast[chat])
	assert.Equal(t, id, b.ID)
	assert.False(t, b.Replayed)
}
