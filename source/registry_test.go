package source_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
)

func topics(chs []*source.Channel) []string {
	out := []string{}
	for _, ch := range chs {
		out = append(out, ch.Topic())
	}
	return out
}

func TestChannelRegistry(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	assert.Empty(t, c.Channels())
	b := chNew(t, c, "b")
	a := chNew(t, c, "a")
	idle := chNew(t, c, "idle") // never subscribed
	chSubscribe(t, a)
	chSubscribe(t, b)
	assert.Equal(t, []string{"realtime:a", "realtime:b", "realtime:idle"}, topics(c.Channels()))

	require.NoError(t, c.RemoveChannel(chCtx(t), a))
	leave := waitIn(t, s, "realtime:a", "phx_leave", 1)[0]
	assert.Equal(t, inFrames(s, "realtime:a", "phx_join")[0].Msg.JoinRef, leave.Msg.JoinRef)
	<-a.Done()
	assert.NoError(t, a.Err())
	assert.Equal(t, []string{"realtime:b", "realtime:idle"}, topics(c.Channels()))
	require.NoError(t, c.RemoveChannel(chCtx(t), a), "removing twice does nothing")
	chNew(t, c, "a") // the name is free again

	other := chConnect(t, s)
	require.ErrorIs(t, other.RemoveChannel(chCtx(t), b), source.ErrInvalidChannel)
	require.ErrorIs(t, other.RemoveChannel(chCtx(t), nil), source.ErrInvalidChannel)

	require.NoError(t, c.RemoveAllChannels(chCtx(t)))
	assert.Empty(t, c.Channels())
	waitIn(t, s, "realtime:b", "phx_leave", 1)
	assert.Empty(t, inFrames(s, "realtime:idle", "phx_leave"), "a channel never joined sends no leave")
	<-idle.Done()

	// The client is still connected: a new channel joins on the same socket.
	assert.Equal(t, source.StateOpen, c.State())
	ch := chNew(t, c, "again")
	chSubscribe(t, ch)
	assert.Len(t, s.Clients(), 2)
}

// TestIdleDisconnectIsOptIn: without WithIdleDisconnect the socket stays
// open with no channel (heartbeats go on).
func TestIdleDisconnectIsOptIn(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	require.NoError(t, c.RemoveChannel(chCtx(t), ch))
	n := len(inFrames(s, "phoenix", "heartbeat"))
	waitIn(t, s, "phoenix", "heartbeat", n+3) // 600 ms later
	assert.Equal(t, source.StateOpen, c.State())
	assert.Len(t, s.Clients(), 1)
}

func TestIdleDisconnect(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	_, err := source.New(s.URL(), source.WithIdleDisconnect(0))
	require.ErrorIs(t, err, source.ErrInvalidOption)

	c := chConnect(t, s, source.WithIdleDisconnect(300*time.Millisecond))
	states := chRecord(t, c.States())
	errs := chRecord(t, c.Errors())
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)

	// A channel created during the delay cancels it.
	require.NoError(t, c.RemoveChannel(chCtx(t), ch))
	other := chNew(t, c, "other")
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, source.StateOpen, c.State(), "a channel exists: no disconnect")
	removing := time.Now() // the idle delay starts inside RemoveChannel: measure from before it
	require.NoError(t, c.RemoveChannel(chCtx(t), other))

	removed := removing
	states.waitN(t, 1, "idle", func(sc source.StateChange) bool { return sc.State == source.StateIdle })
	assert.GreaterOrEqual(t, time.Since(removed), 300*time.Millisecond)
	assert.Equal(t, source.StateIdle, c.State())
	chEventually(t, func() bool { return len(s.Clients()) == 0 }, "the server sees the socket closed")

	// Idle: no reconnect, no heartbeat.
	hb := len(inFrames(s, "phoenix", "heartbeat"))
	time.Sleep(500 * time.Millisecond)
	assert.Len(t, inFrames(s, "phoenix", "heartbeat"), hb)
	assert.Empty(t, s.Clients())
	evs, _ := states.snapshot()
	for _, sc := range evs {
		assert.NotEqual(t, source.StateReconnecting, sc.State, "an idle disconnect is not a connection loss")
	}

	// A channel that subscribes brings the socket back and joins.
	ch2 := chNew(t, c, "back")
	assert.Empty(t, s.Clients(), "creating a channel does not dial")
	chSubscribe(t, ch2)
	assert.Len(t, s.Clients(), 1)
	waitIn(t, s, "realtime:back", "phx_join", 1)
	states.waitN(t, 1, "open again", func(sc source.StateChange) bool { return sc.State == source.StateOpen && sc.At.After(removed) })
	evs, _ = states.snapshot()
	var names []string
	for _, sc := range evs {
		names = append(names, sc.State.String())
	}
	assert.Equal(t, []string{"idle", "connecting", "open"}, names, "no reconnecting")
	reported, _ := errs.snapshot()
	assert.Empty(t, reported, "an idle disconnect is no error")
}

// TestIdleClientCloses: Close on an idle client returns promptly and
// leaves no goroutine.
func TestIdleClientCloses(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c, err := source.Connect(chCtx(t), s.URL(), chClientOpts(source.WithIdleDisconnect(50*time.Millisecond))...)
	require.NoError(t, err)
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	require.NoError(t, c.RemoveChannel(chCtx(t), ch))
	chEventually(t, func() bool { return c.State() == source.StateIdle }, "idle")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	require.NoError(t, c.Close(ctx))
	assert.Equal(t, source.StateClosed, c.State())
}
