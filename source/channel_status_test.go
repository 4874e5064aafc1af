package source_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// One test per row of the subscribe-status table (client.md §3.4).

func TestStatusSubscribed(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)
	chSubscribe(t, ch)

	waitStatus(t, st, source.StatusSubscribed, 1)
	vals, _ := st.snapshot()
	assert.Equal(t, []string{"JOINING", "SUBSCRIBED"}, statusNames(vals))
	joins := inFrames(s, "realtime:room", "phx_join")
	require.Len(t, joins, 1)
	assert.Equal(t, joins[0].Msg.Ref, joins[0].Msg.JoinRef, "a join's join_ref is its ref")
	cur, ok := ch.Status()
	require.True(t, ok)
	assert.Equal(t, source.StatusSubscribed, cur.Status)
}

func TestStatusSubscribedAfterEveryRejoin(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)
	chSubscribe(t, ch)

	// Each way of losing the join is followed by a rejoin and SUBSCRIBED.
	faults := []struct {
		name string
		do   func()
	}{
		{"phx_error", func() { require.Equal(t, 1, s.Faults().CrashChannels("realtime:room")) }},
		{"dropped socket", func() { s.Faults().DropAll() }},
		{"close 1012", func() { s.Faults().CloseAll(transport.StatusServiceRestart) }},
		{"close 1001", func() { s.Faults().CloseAll(transport.StatusGoingAway) }},
		{"server restart", func() { require.NoError(t, s.Faults().Restart()) }},
	}
	for i, f := range faults {
		f.do()
		waitStatus(t, st, source.StatusChannelError, i+1)
		waitStatus(t, st, source.StatusSubscribed, i+2)
	}
	joins := inFrames(s, "realtime:room", "phx_join")
	require.Len(t, joins, len(faults)+1)
	seen := map[string]bool{}
	for _, j := range joins {
		assert.False(t, seen[j.Msg.JoinRef], "join_ref %s reused", j.Msg.JoinRef)
		seen[j.Msg.JoinRef] = true
		assert.Equal(t, j.Msg.Ref, j.Msg.JoinRef)
	}
	vals, _ := st.snapshot()
	want := []string{"JOINING", "SUBSCRIBED"}
	for range faults {
		want = append(want, "CHANNEL_ERROR", "JOINING", "SUBSCRIBED")
	}
	assert.Equal(t, want, statusNames(vals))
}

func TestStatusChannelErrorJoinReply(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	s.Faults().RejectJoins("ChannelRateLimitReached: Too many channels")
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	err := ch.Subscribe(ctx)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var je *source.JoinError
	require.ErrorAs(t, err, &je, "the wait's error wraps the last join error")

	ev := waitStatus(t, st, source.StatusChannelError, 2) // it keeps rejoining
	require.ErrorIs(t, ev.Err, source.ErrJoin)
	require.ErrorAs(t, ev.Err, &je)
	assert.Equal(t, "ChannelRateLimitReached", je.Code)
	assert.Equal(t, "Too many channels", je.Message)
	assert.Equal(t, "realtime:room", je.Topic)

	s.Faults().Reset()
	chSubscribe(t, ch)
	waitStatus(t, st, source.StatusSubscribed, 1)
}

func TestStatusChannelErrorPhxError(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)
	chSubscribe(t, ch)

	require.Equal(t, 1, s.Faults().CrashChannels("realtime:room"))
	ev := waitStatus(t, st, source.StatusChannelError, 1)
	require.ErrorIs(t, ev.Err, source.ErrServerError)
	waitStatus(t, st, source.StatusSubscribed, 2)
	assert.Equal(t, source.StateOpen, c.State(), "a channel error keeps the socket")
	assert.Len(t, s.Clients(), 1)
}

func TestStatusChannelErrorSocketClose(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)
	chSubscribe(t, ch)

	s.Faults().DropAll()
	ev := waitStatus(t, st, source.StatusChannelError, 1)
	require.ErrorIs(t, ev.Err, source.ErrSocketClosed)
	var ce *transport.CloseError
	require.ErrorAs(t, ev.Err, &ce)
	assert.Equal(t, transport.StatusAbnormal, ce.Code)
	waitStatus(t, st, source.StatusSubscribed, 2)
}

func TestStatusChannelErrorHeartbeatTimeout(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s, source.WithHeartbeat(50*time.Millisecond, 100*time.Millisecond))
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)
	chSubscribe(t, ch)

	s.Faults().SetHalfOpen(true)
	ev := waitStatus(t, st, source.StatusChannelError, 1)
	require.ErrorIs(t, ev.Err, source.ErrSocketClosed)
	require.ErrorIs(t, ev.Err, source.ErrHeartbeatTimeout)
	s.Faults().SetHalfOpen(false)
	waitStatus(t, st, source.StatusSubscribed, 2)
}

// halfOpenJoin subscribes ch while the server writes nothing, so the test
// can answer the join itself; it returns the join frame.
func halfOpenJoin(t *testing.T, s *realtimetest.Server, ch *source.Channel) realtimetest.Frame {
	t.Helper()
	s.Faults().SetHalfOpen(true)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), chWait)
		defer cancel()
		_ = ch.Subscribe(ctx)
	}()
	join := waitIn(t, s, ch.Topic(), "phx_join", 1)[0]
	// The server answered the join and sent its system message into the
	// void; wait until it has, then let frames through again.
	require.Eventually(t, func() bool {
		for _, cl := range s.Clients() {
			for _, chi := range cl.Channels {
				if chi.Topic == ch.Topic() {
					return true
				}
			}
		}
		return false
	}, chWait, time.Millisecond)
	s.Faults().SetHalfOpen(false)
	return join
}

func TestStatusChannelErrorBindingMismatch(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s, source.WithHeartbeat(10*time.Second, 0))
	ch := chNew(t, c, "db", source.WithPostgresChanges(postgres.Binding{Event: postgres.Insert, Table: "todos"}))
	st := statusLog(t, ch)
	join := halfOpenJoin(t, s, ch)

	// The server echoes a different table.
	inject(s, join.Msg.JoinRef, join.Msg.Ref, "realtime:db", "phx_reply",
		`{"status":"ok","response":{"postgres_changes":[{"id":1,"event":"INSERT","schema":"public","table":"other"}]}}`)
	ev := waitStatus(t, st, source.StatusChannelError, 1)
	require.ErrorIs(t, ev.Err, source.ErrBindingMismatch)
	require.ErrorIs(t, ev.Err, postgres.ErrBindingMismatch)
	closed := waitStatus(t, st, source.StatusClosed, 1)
	require.ErrorIs(t, closed.Err, source.ErrBindingMismatch)
	st.waitUntil(t, "completion", func(_ []source.StatusEvent, ended bool) bool { return ended })

	<-ch.Done()
	require.ErrorIs(t, ch.Err(), source.ErrBindingMismatch)
	err := ch.Subscribe(chCtx(t))
	require.ErrorIs(t, err, source.ErrChannelClosed)
	require.ErrorIs(t, err, source.ErrBindingMismatch)
	// The client leaves the join it refused, and does not rejoin.
	leave := waitIn(t, s, "realtime:db", "phx_leave", 1)[0]
	assert.Equal(t, join.Msg.JoinRef, leave.Msg.JoinRef)
	assert.Len(t, inFrames(s, "realtime:db", "phx_join"), 1)
	vals, _ := st.snapshot()
	assert.Equal(t, []string{"JOINING", "CHANNEL_ERROR", "CLOSED"}, statusNames(vals))
}

func TestStatusChannelErrorNoBindingsEchoed(t *testing.T) {
	// A reply without the postgres_changes list cannot give the ids, so
	// changes could never be delivered: that is a mismatch too.
	s := rtServer(t)
	c := chConnect(t, s, source.WithHeartbeat(10*time.Second, 0))
	ch := chNew(t, c, "db", source.WithPostgresChanges(postgres.Binding{Table: "todos"}))
	st := statusLog(t, ch)
	join := halfOpenJoin(t, s, ch)
	inject(s, join.Msg.JoinRef, join.Msg.Ref, "realtime:db", "phx_reply", `{"status":"ok","response":{}}`)
	ev := waitStatus(t, st, source.StatusChannelError, 1)
	require.ErrorIs(t, ev.Err, source.ErrBindingMismatch)
	<-ch.Done()
}

func TestStatusTimedOut(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s, source.WithHeartbeat(10*time.Second, 0))
	ch := chNew(t, c, "room", source.WithJoinTimeout(100*time.Millisecond))
	st := statusLog(t, ch)

	s.Faults().DropReplies(true)
	go func() { _ = ch.Subscribe(chCtx(t)) }()
	ev := waitStatus(t, st, source.StatusTimedOut, 1)
	require.ErrorIs(t, ev.Err, source.ErrJoinTimeout)

	// phoenix.js leaves the timed-out join, with its join_ref, then rejoins.
	join := inFrames(s, "realtime:room", "phx_join")[0]
	leave := waitIn(t, s, "realtime:room", "phx_leave", 1)[0]
	assert.Equal(t, join.Msg.JoinRef, leave.Msg.JoinRef)
	assert.Less(t, join.Seq, leave.Seq)
	s.Faults().DropReplies(false)
	waitStatus(t, st, source.StatusSubscribed, 1)

	joins := inFrames(s, "realtime:room", "phx_join")
	last := joins[len(joins)-1]
	assert.NotEqual(t, join.Msg.JoinRef, last.Msg.JoinRef)
	assert.Greater(t, last.Seq, leave.Seq, "the rejoin goes out after the leave of the timed-out join")
	// The server's phx_close for the left join is stale: the channel stays.
	_, err := ch.Push(chCtx(t), "ping", nil, source.NoReply())
	require.NoError(t, err)
	cur, _ := ch.Status()
	assert.Equal(t, source.StatusSubscribed, cur.Status)
	assert.Equal(t, 0, st.count(isStatus(source.StatusClosed)))
}

func TestStatusClosedByServer(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)
	chSubscribe(t, ch)

	msg := "You no longer have permission to read from this Channel topic: room"
	require.Equal(t, 1, s.Faults().ShutdownChannels("realtime:room", msg))
	ev := waitStatus(t, st, source.StatusClosed, 1)
	require.ErrorIs(t, ev.Err, source.ErrChannelClosed)
	assert.NotErrorIs(t, ev.Err, source.ErrTokenExpired)
	var cr *source.CloseReason
	require.ErrorAs(t, ev.Err, &cr)
	assert.Equal(t, msg, cr.Message)
	st.waitUntil(t, "completion", func(_ []source.StatusEvent, ended bool) bool { return ended })
	<-ch.Done()
	require.ErrorIs(t, ch.Subscribe(chCtx(t)), source.ErrChannelClosed)

	// No automatic rejoin; the socket stays up and the name is free.
	assert.Len(t, inFrames(s, "realtime:room", "phx_join"), 1)
	assert.Equal(t, source.StateOpen, c.State())
	again := chNew(t, c, "room")
	chSubscribe(t, again)
	vals, _ := st.snapshot()
	assert.Equal(t, []string{"JOINING", "SUBSCRIBED", "CLOSED"}, statusNames(vals))
}

func TestStatusClosedByUnsubscribe(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)
	chSubscribe(t, ch)

	require.NoError(t, ch.Unsubscribe(chCtx(t)))
	ev := waitStatus(t, st, source.StatusClosed, 1)
	assert.NoError(t, ev.Err)
	st.waitUntil(t, "completion", func(_ []source.StatusEvent, ended bool) bool { return ended })
	assert.NoError(t, ch.Err())

	join := inFrames(s, "realtime:room", "phx_join")[0]
	leave := waitIn(t, s, "realtime:room", "phx_leave", 1)[0]
	assert.Equal(t, join.Msg.JoinRef, leave.Msg.JoinRef)
	assert.JSONEq(t, `{}`, string(leave.Msg.Payload))
	require.Eventually(t, func() bool { return len(s.Topics(join.Conn)) == 0 }, chWait, time.Millisecond)

	require.ErrorIs(t, ch.Subscribe(chCtx(t)), source.ErrChannelClosed)
	require.NoError(t, ch.Unsubscribe(chCtx(t)), "a second Unsubscribe is a no-op")
	_, err := ch.Push(chCtx(t), "x", nil)
	require.ErrorIs(t, err, source.ErrChannelClosed)
	require.ErrorIs(t, ch.Send(chCtx(t), "x", map[string]int{"a": 1}), source.ErrChannelClosed)
	vals, _ := st.snapshot()
	assert.Equal(t, []string{"JOINING", "SUBSCRIBED", "CLOSED"}, statusNames(vals))
}

func TestStatusesReplayCurrentToLateConsumers(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	_, ok := ch.Status()
	assert.False(t, ok, "no status before Subscribe")
	chSubscribe(t, ch)

	// A consumer that starts after SUBSCRIBED still learns it.
	late := chRecord(t, ch.Statuses())
	waitStatus(t, late, source.StatusSubscribed, 1)

	require.NoError(t, ch.Unsubscribe(chCtx(t)))
	// After the end, a consumer gets the final CLOSED and completes.
	var got []source.StatusEvent
	for ev := range ch.Statuses().All(chCtx(t)) {
		got = append(got, ev)
	}
	assert.Equal(t, []string{"CLOSED"}, statusNames(got))
}

func TestStatusClientCloseEndsChannels(t *testing.T) {
	s := rtServer(t)
	c, err := source.Connect(chCtx(t), s.URL(), chClientOpts()...)
	require.NoError(t, err)
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)
	chSubscribe(t, ch)
	require.NoError(t, c.Close(chCtx(t)))
	<-ch.Done()
	vals := st.waitUntil(t, "completion", func(_ []source.StatusEvent, ended bool) bool { return ended })
	assert.Equal(t, []string{"JOINING", "SUBSCRIBED", "CLOSED"}, statusNames(vals))
	assert.Len(t, waitIn(t, s, "realtime:room", "phx_leave", 1), 1, "Close leaves joined channels")
	_, err = c.Channel("other")
	require.ErrorIs(t, err, source.ErrClosed)
}

var _ = errors.Is
var _ = phoenix.EventJoin
