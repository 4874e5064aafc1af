package source_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/transport"
)

func TestPrivateChannel(t *testing.T) {
	s := rtServer(t)
	c1 := chConnect(t, s)
	c2 := chConnect(t, s)
	c3 := chConnect(t, s)
	priv := chNew(t, c1, "room", source.WithPrivate())
	pub := chNew(t, c2, "room")
	privPeer := chNew(t, c3, "room", source.WithPrivate())
	gotPriv := messageLog(t, priv, source.Broadcasts[chat](priv, "*"))
	gotPub := messageLog(t, pub, source.Broadcasts[chat](pub, "*"))
	chSubscribe(t, priv)
	chSubscribe(t, pub)
	chSubscribe(t, privPeer)
	private := map[bool]int{}
	for _, j := range inFrames(s, "realtime:room", "phx_join") {
		private[decodeJoin(t, j).Config.Private]++
	}
	assert.Equal(t, map[bool]int{true: 2, false: 1}, private, `"private":true on the wire`)

	// Public and private channels of one name do not hear each other: the
	// public message, sent first, never reaches the private channel, and
	// the private ones never reach the public channel.
	require.NoError(t, pub.Send(chCtx(t), "m", chat{Text: "public"}))
	require.NoError(t, privPeer.Send(chCtx(t), "m", chat{Text: "private"}))
	p := gotPriv.waitN(t, 1, "private message", anyBroadcast[chat])
	assert.Equal(t, "private", p.Payload.Text)
	require.NoError(t, privPeer.Send(chCtx(t), "m", chat{Text: "private 2"}))
	require.NoError(t, priv.Send(chCtx(t), "m", chat{Text: "private 3"}))
	gotPriv.waitN(t, 2, "second private message", anyBroadcast[chat])
	assert.Equal(t, 2, gotPriv.count(anyBroadcast[chat]))
	assert.Equal(t, 0, gotPub.count(anyBroadcast[chat]), "the public channel heard a private broadcast")
}

func TestBroadcastReplay(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	since := time.UnixMilli(1_719_999_999_000)

	_, err := c.Channel("room", source.WithBroadcastReplay(since, 10))
	require.ErrorIs(t, err, source.ErrInvalidChannel, "replay is for private channels only")

	ch := chNew(t, c, "room", source.WithPrivate(), source.WithBroadcastReplay(since, 10))
	chSubscribe(t, ch)
	j := decodeJoin(t, inFrames(s, "realtime:room", "phx_join")[0])
	assert.True(t, j.Config.Private)
	require.NotNil(t, j.Config.Broadcast.Replay)
	assert.Equal(t, int64(1_719_999_999_000), j.Config.Broadcast.Replay.Since, "since is in ms since the epoch")
	assert.Equal(t, 10, j.Config.Broadcast.Replay.Limit)

	// Every rejoin asks for the replay again.
	st := statusLog(t, ch)
	s.Faults().CrashChannels("realtime:room")
	waitStatus(t, st, source.StatusSubscribed, 2)
	j2 := decodeJoin(t, inFrames(s, "realtime:room", "phx_join")[1])
	require.NotNil(t, j2.Config.Broadcast.Replay)
}

func TestReplayedBroadcastMeta(t *testing.T) {
	// The emulator stores nothing to replay; a replayed message as the
	// server sends it carries meta {"replayed":true,"id":...}.
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPrivate(), source.WithBroadcastReplay(time.Time{}, 0))
	got := messageLog(t, ch, source.Broadcasts[chat](ch, "*"))
	chSubscribe(t, ch)
	j := decodeJoin(t, inFrames(s, "realtime:room", "phx_join")[0])
	require.NotNil(t, j.Config.Broadcast.Replay)
	assert.Zero(t, j.Config.Broadcast.Replay.Limit, "limit 0 leaves the server's default")
	assert.Zero(t, j.Config.Broadcast.Replay.Since, "the zero time replays from the start")
	jr := inFrames(s, "realtime:room", "phx_join")[0].Msg.JoinRef
	inject(s, jr, "", "realtime:room", "broadcast",
		`{"type":"broadcast","event":"m","payload":{"text":"old"},"meta":{"id":"0c1d2e3f","replayed":true}}`)
	b := got.waitN(t, 1, "replayed", anyBroadcast[chat])
	assert.Equal(t, "old", b.Payload.Text)
	assert.JSONEq(t, `{"id":"0c1d2e3f","replayed":true}`, string(b.Meta))
}

func TestServerDisconnectsReconnectAndRejoin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    transport.StatusCode
		message bool // "Server requested disconnect" first
	}{
		{"1012 with system message", transport.StatusServiceRestart, true},
		{"1001", transport.StatusGoingAway, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rtServer(t)
			c := chConnect(t, s)
			ch := chNew(t, c, "room")
			st := statusLog(t, ch)
			systems := messageLog(t, ch, ch.Systems())
			chSubscribe(t, ch)

			s.Faults().CloseAll(tc.code)
			ev := waitStatus(t, st, source.StatusChannelError, 1)
			require.ErrorIs(t, ev.Err, source.ErrSocketClosed)
			var ce *transport.CloseError
			require.ErrorAs(t, ev.Err, &ce)
			assert.Equal(t, tc.code, ce.Code)
			waitStatus(t, st, source.StatusSubscribed, 2)

			joins := inFrames(s, "realtime:room", "phx_join")
			require.Len(t, joins, 2)
			assert.NotEqual(t, joins[0].Conn, joins[1].Conn, "rejoined on a new socket")
			assert.NotEqual(t, joins[0].Msg.JoinRef, joins[1].Msg.JoinRef)
			if tc.message {
				sys := systems.waitN(t, 1, "disconnect notice", func(source.SystemEvent) bool { return true })
				assert.Equal(t, source.SystemEvent{Extension: "system", Status: "ok", Message: "Server requested disconnect"}, sys)
			}
			assert.Equal(t, 0, st.count(isStatus(source.StatusClosed)), "a disconnect never closes the channel")
		})
	}
}
