package source_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func texts(bs []source.Broadcast[chat]) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Payload.Text
	}
	return out
}

func seq(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func isGap(err error) bool { return errors.Is(err, source.ErrBroadcastGap) }

// emitDB sends a database broadcast (realtime.send: stored, delivered
// live with meta.id) on the private channel name.
func emitDB(t *testing.T, s *realtimetest.Server, name string, c chat) {
	t.Helper()
	p, err := json.Marshal(c)
	require.NoError(t, err)
	_, err = s.EmitBroadcast(realtimetest.DBBroadcast{Topic: name, Event: "msg", Payload: p, Private: true})
	require.NoError(t, err)
}

// The fault test of gap-free broadcasts: two consumers of the same private
// channel lose their sockets three times while a producer keeps sending
// persisted broadcasts (client broadcasts with persist, delivered live
// without an id, and database broadcasts, delivered live with one). The
// consumer with WithGapFreeBroadcasts gets every one exactly once, in
// order; the one without loses every broadcast sent during its outages.
func TestGapFreeBroadcastsAcrossDrops(t *testing.T) {
	s := rtServer(t)
	sender := chConnect(t, s)
	out := chNew(t, sender, "room", source.WithPrivate(), source.WithBroadcastAck())
	outSt := statusLog(t, out)
	chSubscribe(t, out)

	// The consumers stay away 400 ms after each drop; the sender (10 ms)
	// is back well before them.
	slow := source.WithReconnectBackoff(operators.StepBackoff{400 * time.Millisecond})
	gfc := chConnect(t, s, slow)
	gf := chNew(t, gfc, "room", source.WithPrivate(), source.WithGapFreeBroadcasts())
	gfLog := messageLog(t, gf, source.Broadcasts[chat](gf, "msg"))
	gfSt := statusLog(t, gf)
	gfErrs := chRecord(t, gfc.Errors())
	chSubscribe(t, gf)
	plc := chConnect(t, s, slow)
	pl := chNew(t, plc, "room", source.WithPrivate())
	plLog := messageLog(t, pl, source.Broadcasts[chat](pl, "msg"))
	plSt := statusLog(t, pl)
	chSubscribe(t, pl)

	n := 0
	var gapSent []string // sent while the consumers were away
	send := func(k int, away bool) {
		for range k {
			n++
			c := chat{From: "a", Text: strconv.Itoa(n)}
			if n%3 == 0 {
				c.From = "db"
				emitDB(t, s, "room", c)
			} else {
				require.NoError(t, out.Send(chCtx(t), "msg", c, source.Persist()))
			}
			if away {
				gapSent = append(gapSent, c.Text)
			}
		}
	}
	send(5, false)
	gfLog.waitUntil(t, "5 live", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= 5 })
	plLog.waitUntil(t, "5 live", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= 5 })

	const rounds = 3
	for r := 1; r <= rounds; r++ {
		s.Faults().DropAll()
		waitStatus(t, outSt, source.StatusSubscribed, r+1) // the sender is back
		send(6, true)
		require.Equal(t, r, gfSt.count(isStatus(source.StatusSubscribed)), "round %d: the sends must fall in the consumers' outage", r)
		require.Equal(t, r, plSt.count(isStatus(source.StatusSubscribed)), "round %d: the sends must fall in the consumers' outage", r)
		waitStatus(t, gfSt, source.StatusSubscribed, r+1)
		waitStatus(t, plSt, source.StatusSubscribed, r+1)
		send(2, false)
		// Both have the live ones before the next drop (a broadcast still
		// in flight at a drop would be lost without the option).
		live := n - len(gapSent)
		plLog.waitUntil(t, "the live ones", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= live })
		gfLog.waitUntil(t, "all so far", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= n })
	}
	require.Equal(t, 5+rounds*8, n)
	require.Len(t, s.StoredBroadcasts("room"), n, "every broadcast was persisted")

	// With the option: all of them, once each, in order.
	gfLog.waitUntil(t, "every broadcast", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= n })
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show up
	got, _ := gfLog.snapshot()
	assert.Equal(t, seq(1, n), texts(got), "gap-free: each broadcast exactly once, in order")
	// The last round's replay came back full (25 stored since the
	// margin) but reached into delivered messages: no gap to report.
	assert.Zero(t, gfErrs.count(isGap))

	// Without it: the broadcasts sent during the outages are lost.
	plLog.waitUntil(t, "the live ones", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= n-len(gapSent) })
	time.Sleep(100 * time.Millisecond)
	plain, _ := plLog.snapshot()
	assert.Len(t, plain, n-len(gapSent))
	for _, lost := range gapSent {
		assert.NotContains(t, texts(plain), lost)
	}

	// On the wire: only the gap-free consumer's rejoins asked for a replay
	// (its first join did not), since the last delivery minus the 10 s
	// margin, limit 25.
	var replays int
	for _, f := range inFrames(s, "realtime:room", "phx_join") {
		j := decodeJoin(t, f)
		if j.Config.Broadcast.Replay == nil {
			continue
		}
		replays++
		assert.Equal(t, 25, j.Config.Broadcast.Replay.Limit)
		lag := f.Time.UnixMilli() - j.Config.Broadcast.Replay.Since
		assert.True(t, lag >= 10_000 && lag < 12_000, "since is %d ms before the join", lag)
	}
	assert.Equal(t, rounds, replays)
}

// An outage longer than one replay can fill: 30 broadcasts stored while
// the server is down, 25 replayed, none already delivered: a *GapError.
func TestGapFreeReportsAGapPastTheReplayLimit(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPrivate(), source.WithGapFreeBroadcasts(), source.WithGapFreeMargin(time.Second))
	got := messageLog(t, ch, source.Broadcasts[chat](ch, "msg"))
	st := statusLog(t, ch)
	errs := chRecord(t, c.Errors())
	chSubscribe(t, ch)
	emitDB(t, s, "room", chat{Text: "1"})
	emitDB(t, s, "room", chat{Text: "2"})
	got.waitUntil(t, "2 live", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= 2 })
	// Older than the margin before the next rejoin: not replayed again.
	time.Sleep(1100 * time.Millisecond)

	s.Faults().Stop()
	for i := 3; i <= 32; i++ {
		emitDB(t, s, "room", chat{Text: strconv.Itoa(i)})
	}
	require.NoError(t, s.Faults().Start())
	waitStatus(t, st, source.StatusSubscribed, 2)

	all := got.waitUntil(t, "the replay", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= 27 })
	assert.Equal(t, append(seq(1, 2), seq(8, 32)...), texts(all), "the latest 25, oldest first")
	err := errs.waitN(t, 1, "a gap", isGap)
	var gap *source.GapError
	require.ErrorAs(t, err, &gap)
	stored := s.StoredBroadcasts("room")
	assert.Equal(t, "realtime:room", gap.Topic)
	assert.Equal(t, 25, gap.Limit)
	assert.Equal(t, stored[7].ID, gap.OldestID, "broadcasts 3..7 are the ones lost")
	rejoin := inFrames(s, "realtime:room", "phx_join")[1]
	assert.Equal(t, gap.Since.UnixMilli(), decodeJoin(t, rejoin).Config.Broadcast.Replay.Since)
	assert.Contains(t, err.Error(), "broadcasts may have been lost")
}

// The first join keeps WithBroadcastReplay's since and limit; rejoins ask
// for the gap replay instead, and what they replay again is dropped.
func TestGapFreeKeepsTheFirstJoinReplay(t *testing.T) {
	s := rtServer(t)
	since := time.Now().Add(-time.Hour)
	for i := 1; i <= 3; i++ {
		_, err := s.StoreBroadcast(realtimetest.StoredBroadcast{Topic: "room", Event: "msg",
			Payload: []byte(`{"from":"f","text":"` + strconv.Itoa(i) + `"}`), InsertedAt: time.Now().Add(time.Duration(i-4) * time.Second)})
		require.NoError(t, err)
	}
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPrivate(), source.WithBroadcastReplay(since, 2), source.WithGapFreeBroadcasts())
	got := messageLog(t, ch, source.Broadcasts[chat](ch, "msg"))
	st := statusLog(t, ch)
	chSubscribe(t, ch)
	got.waitUntil(t, "the first replay", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= 2 })

	s.Faults().DropAll()
	waitStatus(t, st, source.StatusSubscribed, 2)
	emitDB(t, s, "room", chat{From: "db", Text: "4"})

	joins := inFrames(s, "realtime:room", "phx_join")
	require.Len(t, joins, 2)
	first, second := decodeJoin(t, joins[0]), decodeJoin(t, joins[1])
	require.NotNil(t, first.Config.Broadcast.Replay)
	assert.Equal(t, since.UnixMilli(), first.Config.Broadcast.Replay.Since)
	assert.Equal(t, 2, first.Config.Broadcast.Replay.Limit)
	require.NotNil(t, second.Config.Broadcast.Replay)
	assert.Equal(t, 25, second.Config.Broadcast.Replay.Limit)

	// The rejoin's replay (since 10 s before the last delivery) sent the
	// three fixtures again: 2 and 3 are dropped as duplicates; 1, which the
	// first join's limit had left out, was never delivered, so it is (late,
	// as documented on WithGapFreeBroadcasts).
	jr := joins[1].Msg.JoinRef
	replayed := func() int {
		n := 0
		for _, f := range outFrames(s, "realtime:room") {
			if f.Msg.JoinRef == jr && f.Msg.Event == "broadcast" {
				n++
			}
		}
		return n
	}
	// The replay follows the join reply: SUBSCRIBED may be seen before it is all written.
	chEventually(t, func() bool { return replayed() >= 3 }, "the server replays the three fixtures again")
	assert.Equal(t, 3, replayed(), "the server replayed the three fixtures again")
	got.waitUntil(t, "all four", func(v []source.Broadcast[chat], _ bool) bool { return len(v) >= 4 })
	time.Sleep(100 * time.Millisecond)
	vals, _ := got.snapshot()
	assert.Equal(t, []string{"2", "3", "1", "4"}, texts(vals))
}

func TestGapFreeNeedsAPrivateChannel(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	_, err := c.Channel("pub", source.WithGapFreeBroadcasts())
	require.ErrorIs(t, err, source.ErrInvalidChannel)
	assert.Contains(t, err.Error(), "WithPrivate")
	_, err = c.Channel("priv", source.WithPrivate(), source.WithGapFreeBroadcasts(), source.WithGapFreeMargin(-time.Second))
	require.ErrorIs(t, err, source.ErrInvalidChannel)
}
