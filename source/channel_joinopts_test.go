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
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

var todos = postgres.Binding{Event: postgres.Update, Schema: "public", Table: "todos", Filter: postgres.Eq("id", 1)}

// outFrames returns the frames the server sent on topic, in order.
func outFrames(s *realtimetest.Server, topic string) []realtimetest.Frame {
	var out []realtimetest.Frame
	for _, f := range s.Frames() {
		if f.Dir == realtimetest.Out && f.Msg.Topic == topic {
			out = append(out, f)
		}
	}
	return out
}

func TestReplicationReadyJoinAndSystemMessage(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithReplicationReady(), source.WithPostgresChanges(todos), source.WithPresence("u1"))
	systems := messageLog(t, ch, ch.Systems())
	chSubscribe(t, ch)
	require.NoError(t, ch.WaitReplicationReady(chCtx(t)))

	// The join carries broadcast.replication_ready (client.md §3.2 shape).
	join := waitIn(t, s, "realtime:room", "phx_join", 1)[0]
	jr := join.Msg.JoinRef
	assert.Equal(t, `["`+jr+`","`+jr+`","realtime:room","phx_join",{"config":{"broadcast":{"ack":false,"self":false,"replication_ready":true},`+
		`"presence":{"key":"u1","enabled":true},"postgres_changes":[{"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1"}],"private":false}}]`, string(join.Data))

	// The server's self-messages in server.md §2.5 order: reply, postgres
	// subscription, replication ready, presence_state.
	waitOut(t, s, func(m phoenix.Message) bool { return m.Event == phoenix.EventPresenceState })
	var got []string
	for _, f := range outFrames(s, "realtime:room") {
		got = append(got, string(f.Data))
	}
	require.Len(t, got, 4)
	assert.Contains(t, got[0], `"phx_reply"`)
	assert.Equal(t, `["`+jr+`",null,"realtime:room","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"room"}]`, got[1])
	assert.Equal(t, `["`+jr+`",null,"realtime:room","system",{"extension":"system","status":"ok","message":"Replication connection established","channel":"room"}]`, got[2])
	assert.Contains(t, got[3], `"presence_state"`)

	ev := systems.waitN(t, 1, "replication ready", source.SystemEvent.ReplicationReady)
	assert.Equal(t, source.SystemEvent{Extension: "system", Status: "ok", Message: "Replication connection established", Channel: "room"}, ev)
	assert.False(t, ev.PostgresReady())
}

func TestReplicationReadyNotRequested(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	j := waitIn(t, s, "realtime:room", "phx_join", 1)[0]
	assert.NotContains(t, string(j.Data), "replication_ready")
	require.ErrorIs(t, ch.WaitReplicationReady(chCtx(t)), source.ErrInvalidChannel)
	for _, f := range outFrames(s, "realtime:room") {
		assert.NotContains(t, string(f.Data), "Replication connection")
	}
}

func TestReplicationReadyLateAndTimeout(t *testing.T) {
	s := rtServer(t, realtimetest.WithReplicationReadyTimeout(700*time.Millisecond))
	s.Faults().SetReplicationDown(true)
	c := chConnect(t, s)

	// Replication comes up after a while: the wait ends with the message.
	late := chNew(t, c, "late", source.WithReplicationReady())
	chSubscribe(t, late)
	ctx, cancel := context.WithTimeout(chCtx(t), 200*time.Millisecond)
	require.ErrorIs(t, late.WaitReplicationReady(ctx), context.DeadlineExceeded, "not ready while replication is down")
	cancel()
	s.Faults().SetReplicationDown(false)
	start := time.Now()
	require.NoError(t, late.WaitReplicationReady(chCtx(t)))
	assert.Less(t, time.Since(start), time.Second, "the server checks every 500 ms")
	require.NoError(t, late.Unsubscribe(chCtx(t)))

	// It never comes up: the server shuts the channel down; the wait fails
	// with the server's reason.
	s.Faults().SetReplicationDown(true)
	never := chNew(t, c, "never", source.WithReplicationReady())
	chSubscribe(t, never)
	err := never.WaitReplicationReady(chCtx(t))
	require.ErrorIs(t, err, source.ErrChannelClosed)
	var cr *source.CloseReason
	require.True(t, errors.As(err, &cr), "%v", err)
	assert.Equal(t, "Replication connection was not established in time", cr.Message)
	sys := waitOut(t, s, func(m phoenix.Message) bool { return m.Topic == "realtime:never" && m.Event == phoenix.EventSystem })
	assert.JSONEq(t, `{"extension":"system","status":"error","message":"Replication connection was not established in time","channel":"never"}`, string(sys.Msg.Payload))
}

func TestPostgresChangesWaitHoldsTheJoinReply(t *testing.T) {
	s := rtServer(t)
	s.Faults().DelayPostgres(700 * time.Millisecond)
	c := chConnect(t, s)
	// chFast's join timeout is 500 ms: shorter than the wait, so only
	// realtime-js's rule (max(timeout, wait + 10 s)) keeps it from timing out.
	ch := chNew(t, c, "room", source.WithPostgresChanges(todos), source.WithPostgresChangesWait(2*time.Second))
	st := statusLog(t, ch)
	chSubscribe(t, ch)

	join := waitIn(t, s, "realtime:room", "phx_join", 1)[0]
	jr := join.Msg.JoinRef
	assert.Equal(t, `["`+jr+`","`+jr+`","realtime:room","phx_join",{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},`+
		`"postgres_changes":[{"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1"}],"private":false,`+
		`"postgres_changes_options":{"wait":true,"timeout":2000}}}]`, string(join.Data))

	out := outFrames(s, "realtime:room")
	require.GreaterOrEqual(t, len(out), 1)
	assert.Equal(t, phoenix.EventReply, out[0].Msg.Event)
	assert.GreaterOrEqual(t, out[0].Time.Sub(join.Time), 700*time.Millisecond, "the server held the reply until Postgres was ready")
	sys := waitOut(t, s, func(m phoenix.Message) bool { return m.Topic == "realtime:room" && m.Event == phoenix.EventSystem })
	assert.Greater(t, sys.Seq, out[0].Seq, "Subscribed to PostgreSQL follows the reply")

	waitStatus(t, st, source.StatusSubscribed, 1)
	vals, _ := st.snapshot()
	assert.Equal(t, []string{"JOINING", "SUBSCRIBED"}, statusNames(vals), "no TIMED_OUT while the server waits")
	assert.Len(t, inFrames(s, "realtime:room", "phx_join"), 1)
}

func TestPostgresChangesWaitTimeoutRejoins(t *testing.T) {
	s := rtServer(t)
	s.Faults().DelayPostgres(time.Hour)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPostgresChanges(todos), source.WithPostgresChangesWait(200*time.Millisecond))
	st := statusLog(t, ch)
	go func() { _ = ch.Subscribe(chCtx(t)) }()

	ev := waitStatus(t, st, source.StatusChannelError, 1)
	var je *source.JoinError
	require.ErrorAs(t, ev.Err, &je)
	assert.Equal(t, "PostgresChangesSubscribeTimeout", je.Code)
	assert.Equal(t, "Timed out after 200ms waiting for the postgres_changes subscription", je.Message)
	reply := waitOut(t, s, func(m phoenix.Message) bool { return m.Topic == "realtime:room" && m.Event == phoenix.EventReply })
	assert.JSONEq(t, `{"status":"error","response":{"reason":"PostgresChangesSubscribeTimeout: Timed out after 200ms waiting for the postgres_changes subscription"}}`,
		string(reply.Msg.Payload))

	// Postgres comes back: the next rejoin is held no longer and succeeds.
	s.Faults().DelayPostgres(0)
	waitStatus(t, st, source.StatusSubscribed, 1)
	assert.Zero(t, st.count(isStatus(source.StatusTimedOut)))
}

func TestPostgresChangesWaitOptionsOnTheWire(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	// No timeout: the server's default applies, and none is sent.
	ch := chNew(t, c, "a", source.WithPostgresChanges(todos), source.WithPostgresChangesWait(0))
	chSubscribe(t, ch)
	assert.Contains(t, string(waitIn(t, s, "realtime:a", "phx_join", 1)[0].Data), `"postgres_changes_options":{"wait":true}}`)
	// Without bindings the server does not wait; realtime-js still sends the options.
	nob := chNew(t, c, "b", source.WithPostgresChangesWait(time.Second))
	chSubscribe(t, nob)
	assert.Contains(t, string(waitIn(t, s, "realtime:b", "phx_join", 1)[0].Data), `"postgres_changes_options":{"wait":true,"timeout":1000}}`)
	// A negative wait is refused up front.
	_, err := c.Channel("c", source.WithPostgresChangesWait(-time.Second))
	require.ErrorIs(t, err, source.ErrInvalidChannel)
}

func TestPostgresChangesWaitWithClientWait(t *testing.T) {
	// Both waits: SUBSCRIBED after the held reply and the system message.
	s := rtServer(t)
	s.Faults().DelayPostgres(300 * time.Millisecond)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPostgresChanges(todos), source.WithPostgresChangesWait(0), source.WithWaitForPostgres())
	chSubscribe(t, ch)
	waitOut(t, s, func(m phoenix.Message) bool { return m.Topic == "realtime:room" && m.Event == phoenix.EventSystem })
}
