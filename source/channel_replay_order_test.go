package source_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

type numbered struct {
	N int `json:"n"`
}

// emitTx sends database broadcasts {"n":N} for ns on the private channel name, as realtime.send called
// for each in one transaction.
func emitTx(t *testing.T, s *realtimetest.Server, name string, ns ...int) {
	t.Helper()
	bs := make([]realtimetest.DBBroadcast, len(ns))
	for i, n := range ns {
		bs[i] = realtimetest.DBBroadcast{Topic: name, Event: "e", Payload: []byte(`{"n":` + strconv.Itoa(n) + `}`), Private: true}
	}
	_, err := s.EmitBroadcasts(bs...)
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond) // the next transaction starts later
}

// delivered renders a channel's broadcasts as "r3" (replayed) and "l7" (live).
func delivered(bs []source.Broadcast[numbered]) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		kind := "l"
		if b.Replayed {
			kind = "r"
		}
		out[i] = kind + strconv.Itoa(b.Payload.N)
	}
	return out
}

// A join's replay is delivered in the order the server sends it — the stored order, but for the
// messages of one transaction, which the server reverses and which nothing the client receives can
// order (no inserted_at, random ids) — and contiguously: live broadcasts that reach the client before or
// among the replayed ones (the server writes them to the socket while the channel process has yet to
// push its replay, Faults.SlowReplay) are delivered after the replay.
func TestReplayIsDeliveredWholeBeforeTheJoinsLiveBroadcasts(t *testing.T) {
	for _, ser := range []phoenix.Serializer{phoenix.V1, phoenix.V2} {
		t.Run(ser.Version(), func(t *testing.T) {
			s := rtServer(t)
			emitTx(t, s, "room", 1)
			emitTx(t, s, "room", 2, 3, 4)
			emitTx(t, s, "room", 5)
			s.Faults().SlowReplay(40 * time.Millisecond)

			c := chConnect(t, s, source.WithSerializer(ser))
			ch := chNew(t, c, "room", source.WithPrivate(), source.WithBroadcastReplay(time.Time{}, 0))
			got := messageLog(t, ch, source.Broadcasts[numbered](ch, "e"))
			chSubscribe(t, ch)
			emitTx(t, s, "room", 6)
			emitTx(t, s, "room", 7, 8)

			want := []string{"r1", "r4", "r3", "r2", "r5", "l6", "l7", "l8"}
			vals := got.waitUntil(t, "8 broadcasts", func(v []source.Broadcast[numbered], _ bool) bool { return len(v) >= len(want) })
			assert.Equal(t, want, delivered(vals))
			fences := 0
			for _, f := range inFrames(s, "realtime:room", "presence") {
				assert.JSONEq(t, `{"type":"presence"}`, string(f.Msg.Payload), "the fence: a presence push without an event")
				fences++
			}
			assert.Equal(t, 1, fences)
		})
	}
}

// With WithGapFreeBroadcasts across rejoins (the server stopped while messages are stored): every stored
// message is delivered once, each join's replay in the server's order and before that join's live
// broadcasts, the messages already delivered dropped from the rejoin's replay.
func TestGapFreeKeepsTheServersOrderAcrossRejoins(t *testing.T) {
	s := rtServer(t)
	emitTx(t, s, "room", 1, 2, 3)
	s.Faults().SlowReplay(30 * time.Millisecond)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPrivate(), source.WithGapFreeBroadcasts(), source.WithBroadcastReplay(time.Time{}, 0))
	got := messageLog(t, ch, source.Broadcasts[numbered](ch, "e"))
	statuses := statusLog(t, ch)
	chSubscribe(t, ch)
	emitTx(t, s, "room", 4)
	got.waitUntil(t, "the first join's 4", func(v []source.Broadcast[numbered], _ bool) bool { return len(v) >= 4 })

	s.Faults().Stop()
	emitTx(t, s, "room", 5, 6)
	emitTx(t, s, "room", 7)
	require.NoError(t, s.Faults().Start())
	waitStatus(t, statuses, source.StatusSubscribed, 2)
	emitTx(t, s, "room", 8)

	// The rejoin's replay is 3 2 1 4 6 5 7 (the server's order); 1 to 4 were delivered.
	want := []string{"r3", "r2", "r1", "l4", "r6", "r5", "r7", "l8"}
	vals := got.waitUntil(t, "8 broadcasts", func(v []source.Broadcast[numbered], _ bool) bool { return len(v) >= len(want) })
	assert.Equal(t, want, delivered(vals))
	time.Sleep(100 * time.Millisecond)
	vals, _ = got.snapshot()
	assert.Len(t, vals, len(want), "no duplicate")
}

// A join whose replay is cut short — the socket drops after the join reply, before the replay is all
// there — delivers the live broadcasts it held when the fence is lost, and the rejoin's replay brings
// the rest: nothing is lost or delivered twice (the order of that join is lost with it).
func TestGapFreeReplayCutShortByADrop(t *testing.T) {
	s := rtServer(t)
	emitTx(t, s, "room", 1, 2, 3, 4, 5)
	s.Faults().SlowReplay(150 * time.Millisecond)
	c := chConnect(t, s, source.WithReconnectBackoff(operators.StepBackoff{50 * time.Millisecond}))
	ch := chNew(t, c, "room", source.WithPrivate(), source.WithGapFreeBroadcasts(), source.WithBroadcastReplay(time.Time{}, 0))
	got := messageLog(t, ch, source.Broadcasts[numbered](ch, "e"))
	statuses := statusLog(t, ch)
	chSubscribe(t, ch)
	emitTx(t, s, "room", 6)
	got.waitN(t, 1, "the first replayed message", func(b source.Broadcast[numbered]) bool { return b.Replayed })
	s.Faults().SlowReplay(0)
	s.Faults().DropAll()
	waitStatus(t, statuses, source.StatusSubscribed, 2)
	emitTx(t, s, "room", 7)

	vals := got.waitUntil(t, "7 broadcasts", func(v []source.Broadcast[numbered], _ bool) bool { return len(v) >= 7 })
	time.Sleep(100 * time.Millisecond)
	vals, _ = got.snapshot()
	seen := map[int]int{}
	for _, b := range vals {
		seen[b.Payload.N]++
	}
	for n := 1; n <= 7; n++ {
		assert.Equal(t, 1, seen[n], "message %d in %v", n, delivered(vals))
	}
	assert.Len(t, vals, 7, "%v", delivered(vals))
}

// The fence is a presence push without an event: the server answers it and counts it against no limit,
// so it leaves the channel's presence calls alone (here a limit of one per minute, on both sides).
func TestTheReplayFenceSpendsNoPresenceCall(t *testing.T) {
	s := rtServer(t, realtimetest.WithClientPresenceLimit(1, time.Minute))
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPrivate(), source.WithBroadcastReplay(time.Time{}, 0), source.WithPresence("a"),
		source.WithPresenceLimit(1, time.Minute))
	statuses := statusLog(t, ch)
	chSubscribe(t, ch)
	chEventually(t, func() bool { return len(inFrames(s, "realtime:room", "presence")) == 1 }, "the fence")
	require.NoError(t, ch.Track(chCtx(t), map[string]string{"name": "a"}))
	s.Faults().CrashChannels("realtime:room")
	waitStatus(t, statuses, source.StatusSubscribed, 2)
	chEventually(t, func() bool { return len(inFrames(s, "realtime:room", "presence")) == 4 }, "fence, track, fence, re-track")
	events := map[string]int{}
	for _, f := range inFrames(s, "realtime:room", "presence") {
		var p struct{ Event string }
		require.NoError(t, json.Unmarshal(f.Msg.Payload, &p))
		events[fmt.Sprintf("%q", p.Event)]++
	}
	assert.Equal(t, map[string]int{`""`: 2, `"track"`: 2}, events, "a fence and a track in each join")
	st, _ := ch.Status()
	assert.Equal(t, source.StatusSubscribed, st.Status, "the server did not shut the channel down")
}
