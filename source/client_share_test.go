package source_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
)

// Shared channels (Client.Share): one join for every holder of a topic with the same options; each
// holder's streams end when it lets go; the join leaves with the last holder.

// shareNew makes a holder with the fast channel options (then opts).
func shareNew(t *testing.T, c *source.Client, name string, opts ...source.ChannelOption) *source.Channel {
	t.Helper()
	h, err := c.Share(name, chFast(opts...)...)
	require.NoError(t, err)
	return h
}

// waitDone waits for ch's Done, failing the test after chWait.
func waitDone(t *testing.T, ch *source.Channel) {
	t.Helper()
	select {
	case <-ch.Done():
	case <-time.After(chWait):
		t.Fatalf("%s: Done is not closed", ch.Topic())
	}
}

// note is the payload of the broadcasts in these tests.
type note struct{ N int }

// emitNote broadcasts {"N": n} under event "note" on topic name from the database side.
func emitNote(t *testing.T, s *realtimetest.Server, name string, n int) {
	t.Helper()
	_, err := s.EmitBroadcast(realtimetest.DBBroadcast{Topic: name, Event: "note", Payload: fmt.Appendf(nil, `{"N":%d}`, n)})
	require.NoError(t, err)
}

func hasNote(n int) func(source.Broadcast[note]) bool {
	return func(b source.Broadcast[note]) bool { return b.Payload.N == n }
}

// TestSharedChannelIsOneJoin: two holders of a topic with the same options are one phx_join on the
// wire; both receive what it receives; the client lists both and counts one channel.
func TestSharedChannelIsOneJoin(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	a := shareNew(t, c, "room", source.WithBroadcastAck())
	b := shareNew(t, c, "room", source.WithBroadcastAck())
	require.NotSame(t, a, b, "each Share is a holder of its own")
	notesA := chRecord(t, source.Broadcasts[note](a, "note"))
	notesB := chRecord(t, source.Broadcasts[note](b, "note"))
	chSubscribe(t, a)
	chSubscribe(t, b)

	emitNote(t, s, "room", 1)
	notesA.waitN(t, 1, "note 1 on a", hasNote(1))
	notesB.waitN(t, 1, "note 1 on b", hasNote(1))
	require.NoError(t, b.Send(chCtx(t), "note", note{N: 2}), "a holder's send goes out under the shared join")

	joins := inFrames(s, "realtime:room", "phx_join")
	require.Len(t, joins, 1, "two holders, one join")
	sends := inFrames(s, "realtime:room", "broadcast")
	require.Len(t, sends, 1)
	assert.Equal(t, joins[0].Msg.JoinRef, sends[0].Msg.JoinRef)
	assert.Equal(t, []*source.Channel{a, b}, c.Channels(), "the client lists each holder")
	assert.Equal(t, 1, c.Stats().Channels, "and counts the join once")
	assert.Equal(t, "realtime:room", a.Topic())
	assert.Equal(t, "room", b.Name())
}

// TestSharedChannelSurvivesReleaseAndRejoinServesEveryHolder is the acceptance test of shared channels:
// one holder's release ends that holder's streams and nothing else (no leave on the wire); after a
// dropped socket and after a crashed channel process, the rejoin serves every remaining holder; the last
// release leaves the join, once.
func TestSharedChannelSurvivesReleaseAndRejoinServesEveryHolder(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	rows := source.Bind[todo](postgres.Binding{Event: postgres.Insert, Table: "todos"})
	opts := []source.ChannelOption{rows.Option(), source.WithPresence("")}
	a, b, d := shareNew(t, c, "room", opts...), shareNew(t, c, "room", opts...), shareNew(t, c, "room", opts...)

	// Every kind of stream of the holder that is released first.
	aEnds := []*chLog[any]{
		anyLog(t, a.Messages()), anyLog(t, a.Statuses()), anyLog(t, a.Systems()),
		anyLog(t, source.Broadcasts[note](a, "note")), anyLog(t, source.Changes[todo](a)),
		anyLog(t, rows.Changes(a)), anyLog(t, source.PresenceEvents[map[string]any](a)),
	}
	notesB := chRecord(t, source.Broadcasts[note](b, "note"))
	notesD := chRecord(t, source.Broadcasts[note](d, "note"))
	changesD := chRecord(t, rows.Changes(d))
	statusesB, statusesD := statusLog(t, b), statusLog(t, d)
	for _, h := range []*source.Channel{a, b, d} {
		chSubscribe(t, h)
	}
	require.Len(t, waitIn(t, s, "realtime:room", "phx_join", 1), 1)

	// a lets go: its streams end, Done closes, the join stays.
	aStatuses := statusLog(t, a)
	require.NoError(t, a.Unsubscribe(chCtx(t)))
	for i, l := range aEnds {
		l.waitUntil(t, fmt.Sprintf("a's stream %d ends", i), func(_ []any, ended bool) bool { return ended })
	}
	last := aStatuses.waitUntil(t, "a's CLOSED", func(_ []source.StatusEvent, ended bool) bool { return ended })
	assert.Equal(t, source.StatusClosed, last[len(last)-1].Status)
	assert.NoError(t, last[len(last)-1].Err)
	waitDone(t, a)
	assert.NoError(t, a.Err())
	require.NoError(t, a.Unsubscribe(chCtx(t)), "releasing twice does nothing")
	require.ErrorIs(t, a.Send(chCtx(t), "note", note{}), source.ErrChannelClosed)
	require.ErrorIs(t, a.Subscribe(chCtx(t)), source.ErrChannelClosed)
	assert.Equal(t, []*source.Channel{b, d}, c.Channels())
	emitNote(t, s, "room", 1)
	notesB.waitN(t, 1, "note 1 on b", hasNote(1))
	notesD.waitN(t, 1, "note 1 on d", hasNote(1))
	assert.Empty(t, inFrames(s, "realtime:room", "phx_leave"), "the join is not left while it has holders")

	// Faults: the socket drops, then the channel process crashes; each time one rejoin serves b and d.
	s.Faults().DropAll()
	waitStatus(t, statusesB, source.StatusSubscribed, 2)
	waitStatus(t, statusesD, source.StatusSubscribed, 2)
	emitNote(t, s, "room", 2)
	notesB.waitN(t, 1, "note 2 on b", hasNote(2))
	notesD.waitN(t, 1, "note 2 on d", hasNote(2))
	require.Equal(t, 1, s.Faults().CrashChannels("realtime:room"))
	waitStatus(t, statusesB, source.StatusSubscribed, 3)
	waitStatus(t, statusesD, source.StatusSubscribed, 3)
	emitNote(t, s, "room", 3)
	notesB.waitN(t, 1, "note 3 on b", hasNote(3))
	notesD.waitN(t, 1, "note 3 on d", hasNote(3))
	_, err := s.EmitChange(todoInsert(7, "after the rejoins"))
	require.NoError(t, err)
	assert.Equal(t, int64(7), changesD.waitN(t, 1, "change on d", func(postgres.Change[todo]) bool { return true }).New.ID)
	assert.Len(t, inFrames(s, "realtime:room", "phx_join"), 3, "one join, then one per fault, whatever the holders")

	// b lets go: still no leave. d lets go last: one leave, for the current join.
	require.NoError(t, b.Unsubscribe(chCtx(t)))
	assert.Empty(t, inFrames(s, "realtime:room", "phx_leave"))
	require.NoError(t, c.RemoveChannel(chCtx(t), d))
	leaves := inFrames(s, "realtime:room", "phx_leave")
	require.Len(t, leaves, 1, "Unsubscribe of the last holder returns after its leave's reply")
	joins := inFrames(s, "realtime:room", "phx_join")
	assert.Equal(t, joins[len(joins)-1].Msg.JoinRef, leaves[0].Msg.JoinRef)
	assert.Empty(t, c.Channels())
	assert.Zero(t, c.Stats().Channels)

	// The name is free: a new Share joins anew.
	e := shareNew(t, c, "room")
	chSubscribe(t, e)
	assert.Len(t, inFrames(s, "realtime:room", "phx_join"), 4)
}

// anyLog records any stream, for checking that it ends.
func anyLog[T any](t *testing.T, s stream.Stream[T]) *chLog[any] {
	t.Helper()
	return chRecord(t, operators.Map(s, func(v T) any { return v }))
}

// todoInsert is an INSERT into public.todos.
func todoInsert(id int64, title string) realtimetest.Change {
	return realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos",
		Columns: todoColumns, Record: map[string]any{"id": id, "title": title, "done": false}}
}

// TestShareConfigMismatch: a request whose options differ from the live shared channel's fails and names
// each differing option; the same options in another order share; a topic is shared or not.
func TestShareConfigMismatch(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	other := postgres.Binding{Event: postgres.Delete, Table: "todos"}
	live := shareNew(t, c, "room", source.WithBroadcastAck(), source.WithPresence("u1"),
		source.WithPostgresChanges(todos, other))

	_, err := c.Share("room", chFast(source.WithPresence("u2"), source.WithPostgresChanges(todos, other))...)
	require.ErrorIs(t, err, source.ErrConfigMismatch)
	var mm *source.ConfigMismatchError
	require.ErrorAs(t, err, &mm)
	assert.Equal(t, "realtime:room", mm.Topic)
	assert.Equal(t, []string{
		"WithBroadcastAck: requested off, live on",
		`WithPresence: requested key "u2", live key "u1"`,
	}, mm.Differences)
	assert.Contains(t, err.Error(), `rxrealtime: shared channel "realtime:room" is live with another configuration: WithBroadcastAck`)

	_, err = c.Share("room", chFast(source.WithBroadcastAck(), source.WithPresence("u1"), source.WithPostgresChanges(todos))...)
	require.ErrorAs(t, err, &mm)
	require.Len(t, mm.Differences, 1)
	assert.Contains(t, mm.Differences[0], "WithPostgresChanges: requested [")

	_, err = c.Share("room", source.WithBroadcastAck(), source.WithPresence("u1"), source.WithPostgresChanges(todos, other))
	require.ErrorAs(t, err, &mm, "without chFast: the join timeout and the rejoin backoff differ")
	assert.Len(t, mm.Differences, 2)
	assert.Contains(t, mm.Differences[0], "WithJoinTimeout: requested 1s, live 500ms")
	assert.Contains(t, mm.Differences[1], "WithRejoinBackoff")

	same := shareNew(t, c, "room", source.WithPostgresChanges(other, todos, todos), source.WithPresence("u1"), source.WithBroadcastAck())
	assert.Equal(t, []*source.Channel{live, same}, c.Channels(), "bindings are a set: order and repeats do not matter")

	_, err = c.Channel("room")
	require.ErrorIs(t, err, source.ErrDuplicateChannel, "a shared topic gets no channel of its own")
	assert.Contains(t, err.Error(), "Client.Share")
	chNew(t, c, "own")
	_, err = c.Share("own")
	require.ErrorIs(t, err, source.ErrDuplicateChannel, "a channel of its own is not shared")
	_, err = c.Share("room", source.WithJoinTimeout(0))
	require.ErrorIs(t, err, source.ErrInvalidChannel, "options are validated as by Channel")
}

// TestSharedChannelClosedForGoodEndsEveryHolder: a server-side close ends every holder, with its reason.
func TestSharedChannelClosedForGoodEndsEveryHolder(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	a, b := shareNew(t, c, "room"), shareNew(t, c, "room")
	logs := []*chLog[source.Broadcast[note]]{chRecord(t, source.Broadcasts[note](a, "note")), chRecord(t, source.Broadcasts[note](b, "note"))}
	chSubscribe(t, a)
	chSubscribe(t, b)
	require.Equal(t, 1, s.Faults().ShutdownChannels("realtime:room", "You no longer have permission to read from this Channel topic: room"))
	for i, h := range []*source.Channel{a, b} {
		waitDone(t, h)
		var reason *source.CloseReason
		require.ErrorAs(t, h.Err(), &reason, "holder %d", i)
		assert.Contains(t, reason.Message, "no longer have permission")
		logs[i].waitUntil(t, "the holder's stream ends", func(_ []source.Broadcast[note], ended bool) bool { return ended })
		ev, _ := h.Status()
		assert.Equal(t, source.StatusClosed, ev.Status)
		require.ErrorIs(t, h.Send(chCtx(t), "note", note{}), source.ErrChannelClosed)
		require.NoError(t, h.Unsubscribe(chCtx(t)), "nothing left to release")
	}
	assert.Empty(t, c.Channels())
	chSubscribe(t, shareNew(t, c, "room")) // the name is free
}

// TestSharedHoldersEndWithRemoveAllAndClose: RemoveAllChannels releases every holder and leaves the join
// once; Close ends every holder and leaves the join once too.
func TestSharedHoldersEndWithRemoveAllAndClose(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	a, b := shareNew(t, c, "room"), shareNew(t, c, "room")
	chSubscribe(t, a)
	chSubscribe(t, b)
	require.NoError(t, c.RemoveAllChannels(chCtx(t)))
	for _, h := range []*source.Channel{a, b} {
		waitDone(t, h)
		assert.NoError(t, h.Err())
	}
	assert.Len(t, inFrames(s, "realtime:room", "phx_leave"), 1)
	assert.Zero(t, c.Stats().Channels)

	c2, err := source.Connect(chCtx(t), s.URL(), chClientOpts()...)
	require.NoError(t, err)
	d, e := shareNew(t, c2, "other"), shareNew(t, c2, "other")
	statuses := statusLog(t, e)
	chSubscribe(t, d)
	chSubscribe(t, e)
	require.NoError(t, c2.Close(chCtx(t)))
	for _, h := range []*source.Channel{d, e} {
		waitDone(t, h)
		assert.NoError(t, h.Err())
	}
	statuses.waitUntil(t, "e's statuses end", func(_ []source.StatusEvent, ended bool) bool { return ended })
	assert.Len(t, inFrames(s, "realtime:other", "phx_leave"), 1)
}

// TestSharedHolderSubscribeAndPush: a holder pushes only once it has subscribed; a holder made while the
// channel is joined starts SUBSCRIBED; presence is the join's, seen by every holder.
func TestSharedHolderSubscribeAndPush(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	a := shareNew(t, c, "room", source.WithPresence("u1"))
	chSubscribe(t, a)
	b := shareNew(t, c, "room", source.WithPresence("u1"))
	ev, ok := b.Status()
	require.True(t, ok)
	assert.Equal(t, source.StatusSubscribed, ev.Status, "a new holder starts with the channel's status")
	require.ErrorIs(t, b.Send(chCtx(t), "note", note{}), source.ErrNotJoined, "not subscribed yet")
	_, err := b.Push(chCtx(t), "custom", nil)
	require.ErrorIs(t, err, source.ErrNotJoined)

	syncs := chRecord(t, source.PresenceEvents[map[string]any](a))
	start := time.Now()
	chSubscribe(t, b)
	assert.Less(t, time.Since(start), 100*time.Millisecond, "the join is up: Subscribe returns at once")
	require.NoError(t, b.Track(chCtx(t), map[string]any{"by": "b"}))
	syncs.waitN(t, 1, "b's track seen by a", func(e presence.Event[map[string]any]) bool {
		return e.Kind == presence.Join && e.Key == "u1"
	})
	state, err := source.PresenceState[map[string]any](b)
	require.NoError(t, err)
	require.Len(t, state["u1"], 1)
	assert.Equal(t, "b", state["u1"][0].Value["by"])
	assert.Len(t, inFrames(s, "realtime:room", "phx_join"), 1)
}

// TestSharedHolderReleasedWhileSubscribing: a holder released while its Subscribe waits (the server
// refuses the joins for now) ends that Subscribe with ErrChannelClosed; with no other holder waiting,
// the join is abandoned.
func TestSharedHolderReleasedWhileSubscribing(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	s.Faults().RejectJoins("RealtimeRestarting: Realtime is restarting, please standby")
	a, b := shareNew(t, c, "room"), shareNew(t, c, "room")
	done := make(chan error, 1)
	go func() { done <- a.Subscribe(context.Background()) }()
	waitIn(t, s, "realtime:room", "phx_join", 1)
	require.NoError(t, a.Unsubscribe(chCtx(t)))
	select {
	case err := <-done:
		require.ErrorIs(t, err, source.ErrChannelClosed)
	case <-time.After(chWait):
		t.Fatal("a's Subscribe did not end when a was released")
	}
	statusesB := statusLog(t, b)
	waitStatus(t, statusesB, source.StatusClosed, 1) // abandoned: b never subscribed
	n := len(inFrames(s, "realtime:room", "phx_join"))
	s.Faults().RejectJoins("")
	chSubscribe(t, b) // b joins anew
	assert.Greater(t, len(inFrames(s, "realtime:room", "phx_join")), n)
}

// TestShareWhileTheLastHolderLeaves: a Share that comes while the last holder's leave waits for its reply
// keeps the channel: once the leave is done the channel joins again for the holder that subscribed.
func TestShareWhileTheLastHolderLeaves(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s, source.WithHeartbeat(10*time.Second, 10*time.Second)) // no heartbeat while replies are held
	a := shareNew(t, c, "room")
	chSubscribe(t, a)
	s.Faults().DelayReplies(time.Second) // the leave's reply
	released := make(chan error, 1)
	go func() { released <- a.Unsubscribe(context.Background()) }()
	waitIn(t, s, "realtime:room", "phx_leave", 1)

	b := shareNew(t, c, "room") // during the leave
	ev, _ := b.Status()
	assert.Equal(t, source.StatusClosed, ev.Status, "b learns that the join is being left")
	notes := chRecord(t, source.Broadcasts[note](b, "note"))
	s.Faults().DelayReplies(0)
	chSubscribe(t, b) // waits for the leave, then the new join
	require.NoError(t, <-released)
	joins := inFrames(s, "realtime:room", "phx_join")
	leaves := inFrames(s, "realtime:room", "phx_leave")
	require.Len(t, joins, 2)
	require.Len(t, leaves, 1)
	assert.Less(t, leaves[0].Seq, joins[1].Seq, "the new join goes out after the leave")
	emitNote(t, s, "room", 1)
	notes.waitN(t, 1, "note 1 on b", hasNote(1))
	assert.Equal(t, []*source.Channel{b}, c.Channels())
}

// TestSharedChannelConcurrentHolders: holders come, subscribe and go on many goroutines at once; when
// all are gone the join is left and the topic is free, and every holder's streams ended.
func TestSharedChannelConcurrentHolders(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			for j := range 4 {
				h, err := c.Share("room", chFast()...)
				if err != nil {
					errs <- err
					return
				}
				ctx, cancel := context.WithCancel(context.Background())
				msgs := h.Messages().Observe(ctx)
				if (i+j)%2 == 0 {
					sctx, scancel := context.WithTimeout(ctx, chWait)
					if err := h.Subscribe(sctx); err != nil { // never closed under it: only its own goroutine releases it
						errs <- fmt.Errorf("holder %d/%d: %w", i, j, err)
					}
					scancel()
					// Subscribed: the send goes out, or waits for the next join (if another holder's release
					// is leaving the join under it).
					if err := h.Send(ctx, "note", note{N: i}); err != nil {
						errs <- fmt.Errorf("holder %d/%d send: %w", i, j, err)
					}
				}
				if err := h.Unsubscribe(chCtx(t)); err != nil {
					errs <- err
				}
				for range msgs { // ends with the holder
				}
				cancel()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Empty(t, c.Channels())
	chEventually(t, func() bool { return c.Stats().Channels == 0 }, "the shared channel is gone")
	chEventually(t, func() bool {
		return len(inFrames(s, "realtime:room", "phx_join")) == len(inFrames(s, "realtime:room", "phx_leave"))
	}, "every join is left")
	for _, ci := range s.Clients() {
		assert.Empty(t, ci.Channels, "the server has no channel of the client left")
	}
}

// TestPoolShare: a pool shares a topic on the socket that has it; the rules of Client.Share hold.
func TestPoolShare(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	p, err := source.ConnectPool(chCtx(t), s.URL(), chClientOpts(source.WithChannelsPerSocket(1))...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close(context.Background())) })
	_, err = p.Channel("filler")
	require.NoError(t, err)
	a, err := p.Share("room", chFast()...)
	require.NoError(t, err)
	b, err := p.Share("room", chFast()...)
	require.NoError(t, err)
	require.Len(t, p.Sockets(), 2, "the room went to a second socket, and its second holder with it")
	assert.Equal(t, []*source.Channel{a, b}, p.Sockets()[1].Channels())
	chSubscribe(t, a)
	chSubscribe(t, b)
	assert.Len(t, inFrames(s, "realtime:room", "phx_join"), 1)

	_, err = p.Share("room", source.WithBroadcastAck())
	require.ErrorIs(t, err, source.ErrConfigMismatch)
	_, err = p.Channel("room")
	require.ErrorIs(t, err, source.ErrDuplicateChannel)
	_, err = p.Share("filler")
	require.ErrorIs(t, err, source.ErrDuplicateChannel)
}
