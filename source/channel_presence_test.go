package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

type who struct {
	Name string `json:"name"`
}

func presenceLog(t *testing.T, ch *source.Channel) *chLog[presence.Event[who]] {
	t.Helper()
	return chRecord(t, source.PresenceEvents[who](ch))
}

func kindKey(k presence.Kind, key string) func(presence.Event[who]) bool {
	return func(ev presence.Event[who]) bool { return ev.Kind == k && ev.Key == key }
}

func names(metas []presence.Meta[who]) []string {
	out := make([]string, len(metas))
	for i, m := range metas {
		out[i] = m.Value.Name
	}
	return out
}

func TestPresenceTrackUntrack(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "lobby", source.WithPresence("alice"))
	evs := presenceLog(t, ch)
	chSubscribe(t, ch)
	evs.waitN(t, 1, "initial sync", func(ev presence.Event[who]) bool { return ev.Kind == presence.Sync })
	j := decodeJoin(t, inFrames(s, "realtime:lobby", "phx_join")[0])
	assert.True(t, j.Config.Presence.Enabled)
	assert.Equal(t, "alice", j.Config.Presence.Key)

	require.NoError(t, ch.Track(chCtx(t), who{Name: "Alice"}))
	track := waitIn(t, s, "realtime:lobby", "presence", 1)[0]
	assert.JSONEq(t, `{"type":"presence","event":"track","payload":{"name":"Alice"}}`, string(track.Msg.Payload))
	join := evs.waitN(t, 1, "alice joins", kindKey(presence.Join, "alice"))
	assert.Empty(t, join.Current)
	assert.Equal(t, []string{"Alice"}, names(join.Presences))
	assert.NotEmpty(t, join.Presences[0].Ref, "phx_ref is kept as Ref")
	evs.waitN(t, 2, "sync after the join", func(ev presence.Event[who]) bool { return ev.Kind == presence.Sync })
	state, err := source.PresenceState[who](ch)
	require.NoError(t, err)
	assert.Equal(t, []string{"Alice"}, names(state["alice"]))

	// Tracking again replaces the meta: the server sends a leave of the
	// old and a join of the new naming it in phx_ref_prev, which is one
	// update, not a leave and a join.
	require.NoError(t, ch.Track(chCtx(t), who{Name: "Alice 2"}))
	upd := evs.waitN(t, 1, "alice updates", kindKey(presence.Update, "alice"))
	assert.Equal(t, []string{"Alice 2"}, names(upd.Presences))
	assert.Equal(t, []string{"Alice"}, names(upd.Replaced))
	assert.Equal(t, []string{"Alice"}, names(upd.Current))
	assert.Equal(t, upd.Replaced[0].Ref, upd.Presences[0].RefPrev)
	evs.waitN(t, 3, "sync after the update", func(ev presence.Event[who]) bool { return ev.Kind == presence.Sync })
	assert.Equal(t, 1, evs.count(kindKey(presence.Join, "alice")), "no second join")
	assert.Equal(t, 0, evs.count(kindKey(presence.Leave, "alice")), "no leave")

	require.NoError(t, ch.Untrack(chCtx(t)))
	untrack := waitIn(t, s, "realtime:lobby", "presence", 3)[2]
	assert.JSONEq(t, `{"type":"presence","event":"untrack"}`, string(untrack.Msg.Payload))
	leave := evs.waitN(t, 1, "alice leaves", kindKey(presence.Leave, "alice"))
	assert.Empty(t, leave.Current)
	assert.Equal(t, []string{"Alice 2"}, names(leave.Presences))
	evs.waitUntil(t, "sync after the leave", func(v []presence.Event[who], _ bool) bool {
		return len(v) > 0 && v[len(v)-1].Kind == presence.Sync
	})
	state, err = source.PresenceState[who](ch)
	require.NoError(t, err)
	assert.Empty(t, state)
}

func TestPresenceTwoClients(t *testing.T) {
	s := rtServer(t)
	ca := chConnect(t, s)
	cb := chConnect(t, s)
	a := chNew(t, ca, "lobby", source.WithPresence("alice"))
	b := chNew(t, cb, "lobby", source.WithPresence("bob"))
	aEvs := presenceLog(t, a)
	bEvs := presenceLog(t, b)
	chSubscribe(t, a)
	require.NoError(t, a.Track(chCtx(t), who{Name: "Alice"}))
	aEvs.waitN(t, 1, "alice sees herself", kindKey(presence.Join, "alice"))

	// Bob joins later: his presence_state already has Alice.
	chSubscribe(t, b)
	bEvs.waitN(t, 1, "bob learns alice from the state", kindKey(presence.Join, "alice"))
	require.NoError(t, b.Track(chCtx(t), who{Name: "Bob"}))
	seen := aEvs.waitN(t, 1, "alice sees bob", kindKey(presence.Join, "bob"))
	assert.Equal(t, []string{"Bob"}, names(seen.Presences))
	bEvs.waitN(t, 1, "bob sees himself", kindKey(presence.Join, "bob"))

	for _, ch := range []*source.Channel{a, b} {
		chEventually(t, func() bool {
			st, err := source.PresenceState[who](ch)
			return err == nil && len(st) == 2 && names(st["alice"])[0] == "Alice" && names(st["bob"])[0] == "Bob"
		}, "both see both in %s", ch.Topic())
	}

	// Bob leaves the channel: Alice sees him go, through a leave and a sync.
	require.NoError(t, b.Unsubscribe(chCtx(t)))
	left := aEvs.waitN(t, 1, "bob leaves", kindKey(presence.Leave, "bob"))
	assert.Equal(t, []string{"Bob"}, names(left.Presences))
	aEvs.waitUntil(t, "sync after bob left", func(v []presence.Event[who], _ bool) bool {
		return len(v) > 0 && v[len(v)-1].Kind == presence.Sync
	})
	st, err := source.PresenceState[who](a)
	require.NoError(t, err)
	assert.Equal(t, []string{"alice"}, keys(st))
	// Bob's stream ended with his channel.
	bEvs.waitUntil(t, "bob's stream to end", func(_ []presence.Event[who], ended bool) bool { return ended })
}

func TestPresenceDiffsIgnoredWithoutPresence(t *testing.T) {
	// A public channel gets presence diffs even with presence off; with no
	// state ever coming they must not pile up (nor be reported as errors).
	s := rtServer(t)
	ca := chConnect(t, s)
	cb := chConnect(t, s)
	quiet := chNew(t, ca, "lobby")
	errs := errorLog(t, ca)
	msgs := messageLog(t, quiet, quiet.Messages())
	chSubscribe(t, quiet)
	talker := chNew(t, cb, "lobby", source.WithPresence("bob"))
	chSubscribe(t, talker)
	require.NoError(t, talker.Track(chCtx(t), who{Name: "Bob"}))
	msgs.waitN(t, 1, "bob's diff on the wire", func(m phoenix.Message) bool { return m.Event == "presence_diff" })
	require.NoError(t, quiet.Send(chCtx(t), "x", map[string]int{}))
	st, err := source.PresenceState[who](quiet)
	require.NoError(t, err)
	assert.Empty(t, st)
	assert.Equal(t, 0, errs.count(func(error) bool { return true }))
	assert.False(t, decodeJoin(t, inFrames(s, "realtime:lobby", "phx_join")[0]).Config.Presence.Enabled)
}

func TestPresenceListenerEnablesPresence(t *testing.T) {
	// As in realtime-js, listening to presence before subscribing turns
	// presence on: the join asks for it and the state arrives.
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "lobby")
	evs := presenceLog(t, ch)
	chSubscribe(t, ch)
	j := decodeJoin(t, inFrames(s, "realtime:lobby", "phx_join")[0])
	assert.True(t, j.Config.Presence.Enabled)
	assert.Empty(t, j.Config.Presence.Key, "the server picks the key")
	evs.waitN(t, 1, "sync of the presence state", func(ev presence.Event[who]) bool { return ev.Kind == presence.Sync })
	require.NoError(t, ch.Track(chCtx(t), who{Name: "anon"}))
	joined := evs.waitN(t, 1, "own join", func(ev presence.Event[who]) bool { return ev.Kind == presence.Join })
	assert.NotEmpty(t, joined.Key, "a server-generated UUID")
}

func keys[M any](st presence.State[M]) []string {
	var out []string
	for k := range st {
		out = append(out, k)
	}
	return out
}

// nestedMeta is a presence payload of key alice whose meta holds n nested
// arrays under "x"; wrap puts the presence_state around it ("%s") or a
// diff's joins.
func nestedMeta(n int, wrap string) string {
	state := `{"alice":{"metas":[{"phx_ref":"1","name":"Alice","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}]}}`
	return strings.Replace(wrap, "%s", state, 1)
}

// A presence_state or presence_diff nested deeper than phoenix.MaxDepth
// fails alone, even on a channel joined without presence: it is reported
// as a PayloadError wrapping phoenix.ErrTooDeep, and the channel, its
// presence and the socket carry on.
func TestPresenceTooDeepFailsAlone(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "lobby")
	errs := errorLog(t, c)
	msgs := messageLog(t, ch, ch.Messages())
	chSubscribe(t, ch)
	jr := inFrames(s, "realtime:lobby", "phx_join")[0].Msg.JoinRef
	conns := s.Clients()
	require.Len(t, conns, 1)

	// The payload nests MaxDepth+1 levels: 4 above the meta's "x" (state,
	// entry, metas, meta), 5 in a diff.
	over := phoenix.MaxDepth + 1
	inject(s, jr, "", "realtime:lobby", "presence_state", nestedMeta(over-4, "%s"))
	inject(s, "", "", "realtime:lobby", "presence_diff", nestedMeta(over-5, `{"joins":%s,"leaves":{}}`))
	for i, event := range []string{"presence_state", "presence_diff"} {
		err := errs.waitN(t, i+1, "a refused "+event, func(err error) bool { return errors.Is(err, phoenix.ErrTooDeep) })
		var pe *source.PayloadError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, event, pe.Event)
		assert.Equal(t, "realtime:lobby", pe.Topic)
		assert.ErrorIs(t, err, presence.ErrDecode)
	}

	// The next presence_state is applied, on the same socket.
	inject(s, jr, "", "realtime:lobby", "presence_state", nestedMeta(1, "%s"))
	inject(s, jr, "", "realtime:lobby", "after", `{}`)
	msgs.waitN(t, 1, "a message after the refused ones", func(m phoenix.Message) bool { return m.Event == "after" })
	st, err := source.PresenceState[who](ch)
	require.NoError(t, err)
	assert.Equal(t, []string{"Alice"}, names(st["alice"]))
	after := s.Clients()
	require.Len(t, after, 1)
	assert.Equal(t, conns[0].ID, after[0].ID, "the socket carried on")
}

// widePresence is a presence_state of n keys with one small meta each,
// 50 bytes a key, the shape of issue 18's 100,000-key state.
func widePresence(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"u%05d":{"metas":[{"phx_ref":"F%07d","n":%d}]}`, i, i, i%10)
	}
	b.WriteByte('}')
	return b.String()
}

// A wide presence_state costs the client at most a few times its size:
// the bytes allocated while the reader handles it, beyond what the same
// frame costs on a topic nobody joined (reading it off the socket), stay
// within 4 times the payload. Bytes allocated bound the peak of the heap
// from above, whatever the garbage collector does meanwhile.
func TestPresenceStateMemoryIsBoundedByTheFrame(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "lobby")
	marks := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	sub := source.Broadcasts[json.RawMessage](ch, "mark").Subscribe(ctx, func(source.Broadcast[json.RawMessage]) { marks <- struct{}{} })
	t.Cleanup(func() { cancel(); <-sub.Done() })
	chSubscribe(t, ch)
	jr := inFrames(s, "realtime:lobby", "phx_join")[0].Msg.JoinRef

	payload := widePresence(20000)
	mark := rawV2(jr, "", "realtime:lobby", "broadcast", `{"type":"broadcast","event":"mark","payload":{}}`)
	// allocated returns the bytes allocated from sending frame until the
	// reader has handled it and the mark after it.
	allocated := func(frame []byte) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s.Faults().SendRaw(frame, false)
		s.Faults().SendRaw(mark, false)
		select {
		case <-marks:
		case <-time.After(chWait):
			t.Fatal("the mark after the frame did not arrive")
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	control := allocated(rawV2("", "", "realtime:nobody", "presence_state", payload))
	got := allocated(rawV2(jr, "", "realtime:lobby", "presence_state", payload))
	control = min(control, allocated(rawV2("", "", "realtime:nobody", "presence_state", payload)))
	st, err := source.PresenceState[json.RawMessage](ch)
	require.NoError(t, err)
	require.Len(t, st, 20000, "the state was applied")

	extra := float64(got) - float64(control)
	t.Logf("payload %d B; allocated %d B for the presence_state, %d B for the same frame unrouted: %.1fx the payload",
		len(payload), got, control, extra/float64(len(payload)))
	assert.LessOrEqual(t, extra, 4*float64(len(payload)), "bytes allocated for the presence_state beyond reading it")
}
