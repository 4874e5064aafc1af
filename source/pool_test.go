package source_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// connectPool connects a pool to s and closes it with the test.
func connectPool(t *testing.T, s *realtimetest.Server, opts ...source.Option) *source.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := source.ConnectPool(ctx, s.URL(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, p.Close(ctx))
	})
	return p
}

// Issue 12, "Scale past one socket": 1,000 channels on one logical client
// against the server's default limits (100 channels per socket, 100 joins
// per second) are all SUBSCRIBED, on 10 sockets, with joins paced at the
// pool's default rate; a dropped socket rejoins only its own channels.
func TestPoolThousandChannels(t *testing.T) {
	s := newServer(t)
	p := connectPool(t, s, fast()...)
	chans := make([]*source.Channel, 1000)
	for i := range chans {
		ch, err := p.Channel(fmt.Sprintf("room-%d", i))
		require.NoError(t, err)
		chans[i] = ch
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	start := time.Now()
	subscribeAll(t, ctx, chans)
	took := time.Since(start)
	t.Logf("1,000 channels SUBSCRIBED in %v", took)

	require.Len(t, p.Sockets(), 10)
	clients := s.Clients()
	require.Len(t, clients, 10)
	for _, c := range clients {
		require.Len(t, c.Channels, 100, "conn %d", c.ID)
	}
	joins := joinsIn(s)
	require.Len(t, joins, 1000, "one join per channel: none refused, none repeated")
	burst, rate := source.DefaultPoolJoinBurst, source.DefaultPoolJoinRate
	assert.LessOrEqual(t, maxPerWindow(joins, time.Second), burst+rate+5, "joins are paced")
	assert.GreaterOrEqual(t, took, time.Duration(float64(1000-burst)/float64(rate)*0.9*float64(time.Second)))
	for _, f := range s.Frames() {
		if f.Dir == realtimetest.Out && f.Msg.Event == phoenix.EventReply {
			require.NotContains(t, string(f.Msg.Payload), `"status":"error"`, "no join refused")
		}
	}

	// Drop one socket: only its 100 channels rejoin, on its new connection.
	s.ClearFrames()
	victim := clients[3].ID
	lost := s.Topics(victim)
	require.Len(t, lost, 100)
	old := map[realtimetest.ConnID]bool{}
	for _, c := range clients {
		old[c.ID] = true
	}
	require.True(t, s.Faults().DropConn(victim))
	require.Eventually(t, func() bool {
		n := 0
		for _, ch := range chans {
			if ev, ok := ch.Status(); ok && ev.Status == source.StatusSubscribed {
				n++
			}
		}
		cl := s.Clients()
		return n == 1000 && len(cl) == 10 && !slices.ContainsFunc(cl, func(c realtimetest.ClientInfo) bool {
			return c.ID == victim || len(c.Channels) != 100
		})
	}, 10*time.Second, 20*time.Millisecond)
	perConn := map[realtimetest.ConnID][]string{}
	for _, f := range joinsIn(s) {
		perConn[f.Conn] = append(perConn[f.Conn], f.Msg.Topic)
	}
	require.Len(t, perConn, 1, "one connection rejoined: %v", perConn)
	for id, topics := range perConn {
		require.False(t, old[id], "the rejoins went out on the new connection")
		slices.Sort(topics)
		require.Equal(t, lost, topics, "exactly the dropped socket's channels rejoined")
	}
}

func TestPoolChannelsPerSocket(t *testing.T) {
	s := newServer(t)
	p := connectPool(t, s, fast(source.WithChannelsPerSocket(3))...)
	ctx := waitCtx(t)
	var chans []*source.Channel
	for i := range 7 {
		ch, err := p.Channel(fmt.Sprintf("room-%d", i))
		require.NoError(t, err)
		chans = append(chans, ch)
	}
	subscribeAll(t, ctx, chans)
	require.Len(t, p.Sockets(), 3)
	var sizes []int
	for _, c := range s.Clients() {
		sizes = append(sizes, len(c.Channels))
	}
	slices.Sort(sizes)
	require.Equal(t, []int{1, 3, 3}, sizes)

	_, err := p.Channel("room-4")
	require.ErrorIs(t, err, source.ErrDuplicateChannel, "names are unique across sockets")
	_, err = p.Channel("realtime:room-0")
	require.ErrorIs(t, err, source.ErrDuplicateChannel)

	// A channel that leaves frees room on its socket.
	require.NoError(t, chans[1].Unsubscribe(ctx))
	again, err := p.Channel("room-7")
	require.NoError(t, err)
	require.NoError(t, again.Subscribe(ctx))
	require.Len(t, p.Sockets(), 3)
	for _, c := range s.Clients() {
		topics := s.Topics(c.ID)
		if slices.Contains(topics, "realtime:room-0") {
			require.ElementsMatch(t, []string{"realtime:room-0", "realtime:room-2", "realtime:room-7"}, topics)
		}
	}
}

// A socket whose join is refused with "Too many channels" (the server's
// limit is below WithChannelsPerSocket) takes no new channel: the next one
// goes to a new socket. The refused channel stays and rejoins, and gets in
// once a channel of its socket leaves.
func TestPoolLearnsTheServerChannelLimit(t *testing.T) {
	s := newServer(t, realtimetest.WithMaxChannelsPerClient(3))
	refused := make(chan error, 16)
	p := connectPool(t, s, fast(source.WithChannelsPerSocket(10), source.WithErrorHandler(func(err error) {
		var je *source.JoinError
		if errors.As(err, &je) && je.Code == "ChannelRateLimitReached" {
			select {
			case refused <- err:
			default:
			}
		}
	}))...)
	errs := collect(t, p.Errors())
	ctx := waitCtx(t)
	fast := source.WithRejoinBackoff(operators.StepBackoff{50 * time.Millisecond})
	var chans []*source.Channel
	for i := range 3 {
		ch, err := p.Channel(fmt.Sprintf("room-%d", i), fast)
		require.NoError(t, err)
		chans = append(chans, ch)
	}
	subscribeAll(t, ctx, chans)
	fourth, err := p.Channel("room-3", fast)
	require.NoError(t, err)
	require.Len(t, p.Sockets(), 1, "the pool does not know the server's limit yet")
	go func() { _ = fourth.Subscribe(ctx) }()
	select {
	case <-refused:
	case <-ctx.Done():
		t.Fatal("no ChannelRateLimitReached")
	}
	got := errs.next(t, chWait, func(err error) bool {
		var je *source.JoinError
		return errors.As(err, &je) && je.Code == "ChannelRateLimitReached"
	})
	var se *source.SocketError
	require.ErrorAs(t, got, &se)
	require.Equal(t, 0, se.Socket)

	fifth, err := p.Channel("room-4")
	require.NoError(t, err)
	require.NoError(t, fifth.Subscribe(ctx))
	require.Len(t, p.Sockets(), 2, "the full socket took no new channel")

	require.NoError(t, chans[0].Unsubscribe(ctx))
	_, err = fourth.WaitStatus(ctx, source.StatusSubscribed)
	require.NoError(t, err, "the refused channel gets in once room is made")
}

func TestPoolStatesErrorsAndAllChanges(t *testing.T) {
	s := newServer(t)
	p, err := source.NewPool(s.URL(), fast(source.WithChannelsPerSocket(1))...)
	require.NoError(t, err)
	states := collect(t, p.States())
	type row struct {
		ID int `json:"id"`
	}
	changes := collect(t, source.PoolAllChanges[row](p))
	var chans []*source.Channel
	for _, table := range []string{"a", "b"} {
		ch, err := p.Channel(table, source.WithPostgresChanges(postgres.Binding{Event: postgres.Insert, Schema: "public", Table: table}))
		require.NoError(t, err)
		chans = append(chans, ch)
	}
	require.Len(t, p.Sockets(), 2)
	ctx := waitCtx(t)
	require.NoError(t, p.Connect(ctx))
	subscribeAll(t, ctx, chans)

	for i, table := range []string{"a", "b"} {
		n, err := s.EmitChange(realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: table,
			Columns: []realtimetest.Column{{Name: "id", Type: "int8"}}, Record: map[string]any{"id": i + 1}})
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}
	var got []string
	for range 2 {
		c := changes.next(t, chWait, func(postgres.Change[row]) bool { return true })
		got = append(got, fmt.Sprint(c.Table, c.New.ID))
	}
	require.ElementsMatch(t, []string{"a1", "b2"}, got, "changes of both sockets in one stream")

	var second realtimetest.ConnID
	for _, c := range s.Clients() {
		if slices.Contains(s.Topics(c.ID), "realtime:b") {
			second = c.ID
		}
	}
	require.True(t, s.Faults().DropConn(second))
	states.next(t, chWait, func(sc source.SocketStateChange) bool {
		return sc.Socket == 1 && sc.State == source.StateReconnecting
	})
	states.next(t, chWait, func(sc source.SocketStateChange) bool {
		return sc.Socket == 1 && sc.State == source.StateOpen
	})
	_, err = chans[1].WaitStatus(ctx, source.StatusSubscribed)
	require.NoError(t, err)

	require.NoError(t, p.Close(ctx))
	_, err = p.Channel("c")
	require.ErrorIs(t, err, source.ErrClosed)
	for range states.ch { // completes once the pool is closed
	}
	for range changes.ch {
	}
	require.Equal(t, source.StateClosed, p.Sockets()[1].State())
}

func TestPoolInvalidOptions(t *testing.T) {
	_, err := source.NewPool("ws://localhost:1/socket", source.WithChannelsPerSocket(0))
	require.ErrorIs(t, err, source.ErrInvalidOption)
	require.ErrorContains(t, err, "WithChannelsPerSocket")
}
