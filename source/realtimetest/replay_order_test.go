package realtimetest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// txBroadcasts are realtime.send calls on the private topic room with payloads {"n":N} for ns.
func txBroadcasts(ns ...int) []DBBroadcast {
	out := make([]DBBroadcast, len(ns))
	for i, n := range ns {
		out[i] = DBBroadcast{Topic: "room", Event: "e", Payload: []byte(`{"n":` + strconv.Itoa(n) + `}`), Private: true}
	}
	return out
}

// bcast reads a broadcast of the tests below: its n, and whether it was replayed. Live database broadcasts
// come as binary kind 4 on vsn 2.0.0, replayed JSON ones as text channel pushes.
func bcast(t *testing.T, m phoenix.Message) (n int, replayed bool) {
	t.Helper()
	require.Equal(t, phoenix.EventBroadcast, m.Event)
	payload, meta := m.Payload, m.Meta
	if m.Kind != phoenix.KindUserBroadcast {
		var w struct {
			Meta    json.RawMessage `json:"meta"`
			Payload json.RawMessage `json:"payload"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &w))
		payload, meta = w.Payload, w.Meta
	}
	var p struct {
		N int `json:"n"`
	}
	require.NoError(t, json.Unmarshal(payload, &p))
	var mt struct {
		Replayed bool `json:"replayed"`
	}
	if len(meta) > 0 {
		require.NoError(t, json.Unmarshal(meta, &mt))
	}
	return p.N, mt.Replayed
}

// replayedNs joins room with replay since 0 and limit ("" for none) and returns the n of each replayed
// message, in the order they arrived.
func replayedNs(t *testing.T, s *Server, limit string) []int {
	t.Helper()
	c := dial(t, s, "2.0.0")
	c.joinOK("realtime:room", joinReplay(0, limit))
	var out []int
	for {
		ref := c.push("", "phoenix", "heartbeat", "{}")
		for {
			m := c.nextMsg()
			if m.Topic == "phoenix" && m.Ref == ref {
				return out
			}
			n, replayed := bcast(t, m)
			require.True(t, replayed)
			out = append(out, n)
		}
	}
}

// liveNs reads n broadcasts from c and returns their n.
func liveNs(t *testing.T, c *client, n int) []int {
	t.Helper()
	var out []int
	for range n {
		n, replayed := bcast(t, c.nextMsg())
		require.False(t, replayed)
		out = append(out, n)
	}
	return out
}

// Several realtime.send calls in one transaction (EmitBroadcasts) are delivered live in the order sent,
// and stored with one inserted_at (now(), the transaction's start): the real server's replay (order by
// inserted_at desc, limit, reverse) returns them in reverse order (supabase/realtime#2201), between the
// messages of earlier and later transactions.
func TestReplayReversesTheMessagesOfOneTransaction(t *testing.T) {
	s := newServer(t)
	live := dial(t, s, "2.0.0")
	live.joinOK("realtime:room", joinPrivate)

	_, err := s.EmitBroadcast(txBroadcasts(10)[0])
	require.NoError(t, err)
	time.Sleep(time.Millisecond)
	n, err := s.EmitBroadcasts(txBroadcasts(1, 2, 3, 4, 5)...)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	time.Sleep(time.Millisecond)
	_, err = s.EmitBroadcasts(txBroadcasts(20)...)
	require.NoError(t, err)

	assert.Equal(t, []int{10, 1, 2, 3, 4, 5, 20}, liveNs(t, live, 7), "live: in the order sent")
	stored := s.StoredBroadcasts("room")
	require.Len(t, stored, 7)
	for i := 2; i < 6; i++ {
		assert.Equal(t, stored[1].InsertedAt, stored[i].InsertedAt, "one transaction, one inserted_at")
	}
	assert.True(t, stored[0].InsertedAt.Before(stored[1].InsertedAt))
	assert.True(t, stored[5].InsertedAt.Before(stored[6].InsertedAt))
	assert.Equal(t, []int{10, 5, 4, 3, 2, 1, 20}, replayedNs(t, s, ""), "replayed: the transaction reversed")
}

// The limit applies before the reversal, to the rows in descending inserted_at with one transaction's rows
// in the order they were inserted: it keeps the first-inserted rows of a transaction it cuts.
func TestReplayLimitCutsATransactionAfterItsFirstRows(t *testing.T) {
	s := newServer(t)
	_, err := s.EmitBroadcasts(txBroadcasts(1, 2, 3, 4, 5)...)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 2, 1}, replayedNs(t, s, "3"))

	time.Sleep(time.Millisecond)
	_, err = s.EmitBroadcasts(txBroadcasts(6)...)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 1, 6}, replayedNs(t, s, "3"))
}

// Fixtures stored with one InsertedAt are rows of one transaction too.
func TestStoredBroadcastsWithOneInsertedAtReplayReversed(t *testing.T) {
	s := newServer(t)
	at := time.Now().Add(-time.Minute)
	for _, n := range []int{1, 2, 3} {
		_, err := s.StoreBroadcast(StoredBroadcast{Topic: "room", Event: "e", Payload: []byte(`{"n":` + strconv.Itoa(n) + `}`), InsertedAt: at})
		require.NoError(t, err)
	}
	assert.Equal(t, []int{3, 2, 1}, replayedNs(t, s, ""))
}

// A transaction with an invalid broadcast sends and stores nothing; database broadcasts get random
// (version 4) ids, as gen_random_uuid() gives them: nothing in them orders the messages.
func TestEmitBroadcastsIsAllOrNothingWithRandomIDs(t *testing.T) {
	s := newServer(t)
	bad := append(txBroadcasts(1), DBBroadcast{Topic: "room", Event: "e", Payload: []byte(`{`), Private: true})
	_, err := s.EmitBroadcasts(bad...)
	require.ErrorIs(t, err, ErrInvalidChange)
	assert.Empty(t, s.StoredBroadcasts("room"))

	_, err = s.EmitBroadcasts(txBroadcasts(1, 2)...)
	require.NoError(t, err)
	for _, b := range s.StoredBroadcasts("room") {
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, b.ID)
	}
}

// With Faults.SlowReplay the replay goes out one message every d after the join reply, as when the
// channel process handles its replay late: a broadcast to the channel meanwhile overtakes it (fan-out
// frames go straight to the socket), while the channel's own frames — the reply to a push it got after
// the join, presence_state — come after the last replayed message (the channel process handles its
// messages in order). A live copy of a replayed message is still not delivered.
func TestSlowReplayLetsBroadcastsOvertakeTheReplayButNotTheChannelsFrames(t *testing.T) {
	s := newServer(t)
	_, err := s.EmitBroadcasts(txBroadcasts(1, 2, 3)...)
	require.NoError(t, err)
	replayedID := s.StoredBroadcasts("room")[0].ID
	s.Faults().SlowReplay(100 * time.Millisecond)

	c := dial(t, s, "2.0.0")
	jr := c.joinOK("realtime:room", `{"config":{"private":true,"presence":{"enabled":true},"broadcast":{"replay":{"since":0}}}}`)
	ref := c.push(jr, "realtime:room", "presence", `{"type":"presence"}`)
	_, err = s.EmitBroadcasts(txBroadcasts(7)...)
	require.NoError(t, err)
	_, err = s.EmitBroadcast(DBBroadcast{Topic: "room", Event: "e", Payload: []byte(`{"n":1}`), Private: true, ID: replayedID})
	require.NoError(t, err)

	var got []string
	for len(got) < 6 {
		m := c.nextMsg()
		switch m.Event {
		case phoenix.EventBroadcast:
			n, replayed := bcast(t, m)
			kind := "live"
			if replayed {
				kind = "replayed"
			}
			got = append(got, kind+" "+strconv.Itoa(n))
		case phoenix.EventReply:
			require.Equal(t, ref, m.Ref)
			got = append(got, "reply")
		default:
			got = append(got, m.Event)
		}
	}
	assert.Equal(t, []string{"live 7", "replayed 3", "replayed 2", "replayed 1", "presence_state", "reply"}, got)
	c.expectNone()

	s.Faults().SlowReplay(0)
	d := dial(t, s, "2.0.0")
	djr := d.joinOK("realtime:room", joinReplay(0, ""))
	ref = d.push(djr, "realtime:room", "presence", `{"type":"presence"}`)
	replayed := 0
	for m := d.nextMsg(); m.Ref != ref; m = d.nextMsg() {
		_, ok := bcast(t, m)
		assert.True(t, ok, "the replay right after the join reply")
		replayed++
	}
	assert.Equal(t, 5, replayed)
}

// A channel that ends during a slow replay (a shutdown from the channel process, the socket dropping) has
// its replay and its frames sent first, in order; nothing is left running.
func TestSlowReplayOfAChannelThatEnds(t *testing.T) {
	s := newServer(t)
	_, err := s.EmitBroadcasts(txBroadcasts(1, 2)...)
	require.NoError(t, err)
	s.Faults().SlowReplay(time.Hour)
	c := dial(t, s, "2.0.0")
	c.joinOK("realtime:room", joinReplay(0, ""))
	require.Equal(t, 1, s.Faults().ShutdownChannels("realtime:room", "Too many messages per second"))
	var events []string
	for range 4 {
		m := c.nextMsg()
		events = append(events, m.Event)
	}
	assert.Equal(t, []string{"broadcast", "broadcast", "system", "phx_close"}, events)
	c.expectNone()
}
