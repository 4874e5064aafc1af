package source_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// The channel state machine's transitions (client.md §3.5).

func TestStaleJoinRefMessagesAreDropped(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPresence("me"))
	st := statusLog(t, ch)
	msgs := messageLog(t, ch, ch.Messages())
	chSubscribe(t, ch)
	require.Equal(t, 1, s.Faults().CrashChannels("realtime:room"))
	waitStatus(t, st, source.StatusSubscribed, 2)

	joins := inFrames(s, "realtime:room", "phx_join")
	require.Len(t, joins, 2)
	old, cur := joins[0].Msg.JoinRef, joins[1].Msg.JoinRef
	require.NotEqual(t, old, cur)

	before, _ := msgs.snapshot()
	// What an earlier join of this topic may still produce: its
	// duplicate-join or leave phx_close ([old, old, ...]), a phx_error,
	// channel pushes and replies. All must be dropped.
	inject(s, old, old, "realtime:room", "phx_close", `{}`)
	inject(s, old, old, "realtime:room", "phx_error", `{}`)
	inject(s, old, "", "realtime:room", "system",
		`{"extension":"system","status":"error","message":"Token has expired 1 seconds ago","channel":"room"}`)
	inject(s, old, "", "realtime:room", "presence_state", `{"ghost":{"metas":[{"phx_ref":"G1"}]}}`)
	inject(s, old, "99", "realtime:room", "phx_reply", `{"status":"ok","response":{}}`)
	// A message of the current join marks the end.
	inject(s, cur, "", "realtime:room", "marker", `{}`)

	msgs.waitN(t, 1, "marker", func(m phoenix.Message) bool { return m.Event == "marker" })
	after, _ := msgs.snapshot()
	for _, m := range after[len(before):] {
		assert.NotEqual(t, old, m.JoinRef, "stale message %s %s delivered", m.Event, m.Payload)
	}
	cur2, _ := ch.Status()
	assert.Equal(t, source.StatusSubscribed, cur2.Status)
	assert.Equal(t, 0, st.count(isStatus(source.StatusClosed)))
	state, err := source.PresenceState[map[string]any](ch)
	require.NoError(t, err)
	assert.NotContains(t, state, "ghost")

	// The same phx_close with the current join_ref closes the channel.
	inject(s, cur, cur, "realtime:room", "phx_close", `{}`)
	waitStatus(t, st, source.StatusClosed, 1)
	<-ch.Done()
}

func TestFastlaneMessagesWithoutJoinRefAreDelivered(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	msgs := messageLog(t, ch, ch.Messages())
	chSubscribe(t, ch)
	inject(s, "", "", "realtime:room", "broadcast", `{"type":"broadcast","event":"e","payload":{}}`)
	msgs.waitN(t, 1, "fan-out broadcast", func(m phoenix.Message) bool { return m.Event == "broadcast" })
}

func TestErroredChannelsRejoinOnSocketOpen(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	// Rejoin backoff of an hour: only a socket open can rejoin in time.
	ch := chNew(t, c, "room", source.WithRejoinBackoff(operators.StepBackoff{time.Hour}))
	st := statusLog(t, ch)
	s.Faults().RejectJoins("RealtimeRestarting: Realtime is restarting, please standby")
	go func() { _ = ch.Subscribe(chCtx(t)) }()
	waitStatus(t, st, source.StatusChannelError, 1)
	s.Faults().Reset()

	s.Faults().DropAll()
	waitStatus(t, st, source.StatusSubscribed, 1)
	joins := inFrames(s, "realtime:room", "phx_join")
	require.Len(t, joins, 2)
	assert.NotEqual(t, joins[0].Conn, joins[1].Conn, "the rejoin came with the new socket")
}

func TestRejoinBackoffSchedule(t *testing.T) {
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second},
		[]time.Duration{source.DefaultRejoinBackoff.Next(1), source.DefaultRejoinBackoff.Next(2),
			source.DefaultRejoinBackoff.Next(3), source.DefaultRejoinBackoff.Next(4), source.DefaultRejoinBackoff.Next(5)},
		"phoenix.js's 1, 2, 5, 10 s")

	s := rtServer(t)
	c := chConnect(t, s)
	var (
		mu       sync.Mutex
		attempts []int
	)
	scaled := operators.BackoffFunc(func(n int) time.Duration { // the default, 100 times faster
		mu.Lock()
		attempts = append(attempts, n)
		mu.Unlock()
		return source.DefaultRejoinBackoff.Next(n) / 100
	})
	ch := chNew(t, c, "room", source.WithRejoinBackoff(scaled))
	st := statusLog(t, ch)
	s.Faults().RejectJoins("RealtimeRestarting: Realtime is restarting, please standby")
	go func() { _ = ch.Subscribe(chCtx(t)) }()
	waitStatus(t, st, source.StatusChannelError, 5)
	s.Faults().Reset()
	waitStatus(t, st, source.StatusSubscribed, 1)
	mu.Lock()
	got := append([]int(nil), attempts...)
	mu.Unlock()
	require.GreaterOrEqual(t, len(got), 5)
	assert.Equal(t, []int{1, 2, 3, 4, 5}, got[:5], "each failed join takes the next step")

	// Joins were spaced by at least the schedule's delays.
	joins := inFrames(s, "realtime:room", "phx_join")
	for i := 1; i < 5; i++ {
		gap := joins[i].Time.Sub(joins[i-1].Time)
		assert.GreaterOrEqual(t, gap, source.DefaultRejoinBackoff.Next(i)/100, "gap before join %d", i+1)
	}

	// A successful join resets the counter: the next error rejoins after
	// the first step again.
	mu.Lock()
	attempts = nil
	mu.Unlock()
	s.Faults().CrashChannels("realtime:room")
	waitStatus(t, st, source.StatusSubscribed, 2)
	mu.Lock()
	assert.Equal(t, []int{1}, attempts)
	mu.Unlock()
}

func TestJoinErrorDelayDoesNotBlockOtherChannels(t *testing.T) {
	// The real server waits 5 s before a join error, holding the whole
	// socket. Scaled down: 300 ms. A public channel is refused (the tenant
	// is private-only: a permanent refusal), a private one on the same
	// socket is not.
	const delay = 300 * time.Millisecond
	s := rtServer(t, realtimetest.WithPrivateOnly(), realtimetest.WithJoinErrorDelay(delay))
	c := chConnect(t, s, source.WithHeartbeat(time.Second, 2*time.Second))
	bad := chNew(t, c, "public", source.WithRejoinBackoff(operators.StepBackoff{time.Hour}))
	good := chNew(t, c, "private", source.WithPrivate(), source.WithBroadcastSelf(), source.WithBroadcastAck(), source.WithJoinTimeout(2*time.Second))
	badSt := statusLog(t, bad)

	go func() { _ = bad.Subscribe(chCtx(t)) }()
	waitIn(t, s, "realtime:public", "phx_join", 1)
	// The refused join is pending on the server: the other channel's join
	// must not wait for it on the client side.
	chSubscribe(t, good)
	ev := waitStatus(t, badSt, source.StatusClosed, 1)
	var je *source.JoinError
	require.ErrorAs(t, ev.Err, &je)
	assert.Equal(t, "PrivateOnly", je.Code)

	// The refused channel does not rejoin; the other works meanwhile, and
	// the socket was never dropped by a heartbeat timeout.
	got := messageLog(t, good, source.Broadcasts[map[string]int](good, "n"))
	require.NoError(t, good.Send(chCtx(t), "n", map[string]int{"v": 1}))
	got.waitN(t, 1, "own broadcast", func(source.Broadcast[map[string]int]) bool { return true })
	assert.Len(t, inFrames(s, "realtime:public", "phx_join"), 1)
	assert.Len(t, s.Clients(), 1)
	joins := inFrames(s, "realtime:private", "phx_join")
	require.Len(t, joins, 1)
	assert.Equal(t, inFrames(s, "realtime:public", "phx_join")[0].Conn, joins[0].Conn)
}

func TestSubscribeBeforeConnect(t *testing.T) {
	s := rtServer(t)
	tokens := 0
	c, err := source.New(s.URL(), chClientOpts(source.WithAccessToken(func(context.Context) (string, error) {
		tokens++ // called on the supervisor goroutine only before the join
		return "tok-provider", nil
	}))...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close(chCtx(t))) })
	ch := chNew(t, c, "room")
	done := make(chan error, 1)
	go func() { done <- ch.Subscribe(chCtx(t)) }()
	// Nothing is dialled before Connect; the join waits for the socket.
	require.NoError(t, c.Connect(chCtx(t)))
	require.NoError(t, <-done)
	joins := inFrames(s, "realtime:room", "phx_join")
	require.Len(t, joins, 1)
	j := decodeJoin(t, joins[0])
	require.NotNil(t, j.AccessToken, "the first join carries the provider's token")
	assert.Equal(t, "tok-provider", *j.AccessToken)
}

func TestUnsubscribeRacingSubscribeLeavesNothingJoined(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	for i := 0; i < 30; i++ {
		ch := chNew(t, c, "race")
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = ch.Subscribe(chCtx(t)) }()
		go func() { defer wg.Done(); require.NoError(t, ch.Unsubscribe(chCtx(t))) }()
		wg.Wait()
		<-ch.Done()
		last, ok := ch.Status()
		require.True(t, ok)
		assert.Equal(t, source.StatusClosed, last.Status)
	}
	// Every join that went out was left: after a round trip the server
	// holds no channel for the topic.
	probe := chNew(t, c, "probe")
	chSubscribe(t, probe)
	conn := inFrames(s, "realtime:probe", "phx_join")[0].Conn
	for _, topic := range s.Topics(conn) {
		assert.NotEqual(t, "realtime:race", topic)
	}
	joins := len(inFrames(s, "realtime:race", "phx_join"))
	leaves := len(inFrames(s, "realtime:race", "phx_leave"))
	assert.Equal(t, joins, leaves, "one leave per join")
}

func TestChannelNameIsUniquePerClient(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	_, err := c.Channel("room")
	require.ErrorIs(t, err, source.ErrDuplicateChannel)
	_, err = c.Channel("realtime:room")
	require.ErrorIs(t, err, source.ErrDuplicateChannel, "the realtime: prefix names the same topic")
	chSubscribe(t, ch)
	_, err = c.Channel("room")
	require.ErrorIs(t, err, source.ErrDuplicateChannel)
	require.NoError(t, ch.Unsubscribe(chCtx(t)))

	// The name is free again, and the new channel has a live stream of
	// its own (not the completed one of the old channel).
	again := chNew(t, c, "realtime:room", source.WithBroadcastSelf())
	assert.Equal(t, "room", again.Name())
	assert.Equal(t, "realtime:room", again.Topic())
	got := messageLog(t, again, source.Broadcasts[map[string]int](again, "*"))
	chSubscribe(t, again)
	require.NoError(t, again.Send(chCtx(t), "n", map[string]int{"v": 2}))
	b := got.waitN(t, 1, "broadcast", func(source.Broadcast[map[string]int]) bool { return true })
	assert.Equal(t, 2, b.Payload["v"])
}

func TestChannelInvalidOptions(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	for name, tc := range map[string]struct {
		name string
		opts []source.ChannelOption
	}{
		"empty name":            {"", nil},
		"empty topic name":      {"realtime:", nil},
		"replay on public":      {"r", []source.ChannelOption{source.WithBroadcastReplay(time.Now(), 10)}},
		"negative replay limit": {"r", []source.ChannelOption{source.WithPrivate(), source.WithBroadcastReplay(time.Now(), -1)}},
		"zero join timeout":     {"r", []source.ChannelOption{source.WithJoinTimeout(0)}},
		"nil rejoin backoff":    {"r", []source.ChannelOption{source.WithRejoinBackoff(nil)}},
	} {
		_, err := c.Channel(tc.name, tc.opts...)
		assert.ErrorIs(t, err, source.ErrInvalidChannel, name)
	}
	// None of them took the name.
	chNew(t, c, "r")
}
