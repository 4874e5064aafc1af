package source_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

// joinsOf returns the phx_join frames of topic that the connection conn sent.
func joinsOf(s *realtimetest.Server, topic string, conn realtimetest.ConnID) []realtimetest.Frame {
	var out []realtimetest.Frame
	for _, f := range inFrames(s, topic, "phx_join") {
		if f.Conn == conn {
			out = append(out, f)
		}
	}
	return out
}

// A presence listener that starts after Subscribe on a channel joined
// without presence works, as in realtime-js: the channel rejoins with
// presence enabled (once), the listener gets the presence state the server
// sends the new join, and the channel's other streams carry on.
func TestLatePresenceListenerRejoinsWithPresence(t *testing.T) {
	s := rtServer(t)
	bob := chConnect(t, s, source.WithParam("client", "bob"))
	bobCh := chNew(t, bob, "lobby", source.WithPresence("bob"))
	chSubscribe(t, bobCh)
	require.NoError(t, bobCh.Track(chCtx(t), who{Name: "Bob"}))

	alice := chConnect(t, s, source.WithParam("client", "alice"))
	ch := chNew(t, alice, "lobby", source.WithBroadcastSelf()) // no WithPresence
	st := statusLog(t, ch)
	chSubscribe(t, ch)
	conn := s.ConnsWithParam("client", "alice")[0]
	require.Len(t, joinsOf(s, "realtime:lobby", conn), 1)
	assert.False(t, decodeJoin(t, joinsOf(s, "realtime:lobby", conn)[0]).Config.Presence.Enabled)

	evs := presenceLog(t, ch) // after SUBSCRIBED: a late listener
	join := evs.waitN(t, 1, "bob, from the presence state of the new join", kindKey(presence.Join, "bob"))
	assert.Equal(t, []string{"Bob"}, names(join.Presences))
	joins := joinsOf(s, "realtime:lobby", conn)
	require.Len(t, joins, 2, "one rejoin")
	assert.True(t, decodeJoin(t, joins[1]).Config.Presence.Enabled, "the rejoin enables presence")
	waitStatus(t, st, source.StatusSubscribed, 2)
	evs2, _ := st.snapshot()
	assert.Equal(t, []string{"JOINING", "SUBSCRIBED", "JOINING", "SUBSCRIBED"}, statusNames(evs2))

	// A second late listener, on a channel whose join has presence now, rejoins nothing.
	more := presenceLog(t, ch)
	got := messageLog(t, ch, source.Broadcasts[who](ch, "hi"))
	require.NoError(t, ch.Send(chCtx(t), "hi", who{Name: "after"}))
	got.waitN(t, 1, "a broadcast after the rejoin", anyBroadcast[who])
	require.NoError(t, bobCh.Track(chCtx(t), who{Name: "Bobby"}))
	more.waitN(t, 1, "bob's new meta", func(ev presence.Event[who]) bool {
		return ev.Key == "bob" && slices.Contains(names(ev.Presences), "Bobby")
	})
	assert.Len(t, joinsOf(s, "realtime:lobby", conn), 2, "no second rejoin")
}

// A listener that starts while a join without presence is on its way
// leaves that join and joins with presence; Subscribe returns once the new
// join is up.
func TestPresenceListenerDuringTheJoin(t *testing.T) {
	s := rtServer(t)
	bob := chConnect(t, s)
	bobCh := chNew(t, bob, "lobby", source.WithPresence("bob"))
	chSubscribe(t, bobCh)
	require.NoError(t, bobCh.Track(chCtx(t), who{Name: "Bob"}))

	alice := chConnect(t, s, source.WithParam("client", "alice"))
	conn := s.ConnsWithParam("client", "alice")[0]
	ch := chNew(t, alice, "lobby", source.WithJoinTimeout(2*time.Second))
	s.Faults().DelayReplies(100 * time.Millisecond) // the listener starts while the join waits for its reply
	done := make(chan error, 1)
	go func() { done <- ch.Subscribe(chCtx(t)) }()
	chEventually(t, func() bool { return len(joinsOf(s, "realtime:lobby", conn)) == 1 }, "the first join")
	evs := presenceLog(t, ch)
	require.NoError(t, <-done)
	evs.waitN(t, 1, "bob", kindKey(presence.Join, "bob"))
	joins := joinsOf(s, "realtime:lobby", conn)
	require.Len(t, joins, 2)
	assert.False(t, decodeJoin(t, joins[0]).Config.Presence.Enabled)
	assert.True(t, decodeJoin(t, joins[1]).Config.Presence.Enabled)
	assert.Len(t, inFrames(s, "realtime:lobby", "phx_leave"), 1, "the first join is left")
}
