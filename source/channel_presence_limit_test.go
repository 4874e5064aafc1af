package source_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

const presenceLimitExceeded = "Client presence rate limit exceeded"

// trackedNames returns the meta names of the presence pushes the server received on topic, "-" for an
// untrack.
func trackedNames(t *testing.T, s *realtimetest.Server, topic string) []string {
	t.Helper()
	var out []string
	for _, f := range inFrames(s, topic, "presence") {
		var p struct {
			Event   string `json:"event"`
			Payload who    `json:"payload"`
		}
		require.NoError(t, json.Unmarshal(f.Msg.Payload, &p))
		if p.Event == "untrack" {
			out = append(out, "-")
			continue
		}
		out = append(out, p.Payload.Name)
	}
	return out
}

// observe joins topic from another client and returns its presence events.
func observe(t *testing.T, s *realtimetest.Server, name string) (*source.Channel, *chLog[presence.Event[who]]) {
	t.Helper()
	c := chConnect(t, s)
	ch := chNew(t, c, name, source.WithPresence("observer"))
	evs := presenceLog(t, ch)
	chSubscribe(t, ch)
	return ch, evs
}

// presenceNames returns the meta names of key in ch's presence state.
func presenceNames(ch *source.Channel, key string) []string {
	st, err := source.PresenceState[who](ch)
	if err != nil {
		return nil
	}
	return names(st[key])
}

// More Track calls than the server's limit allows in one window all succeed, spaced so that no window of
// the server holds more than its limit: the channel is never shut down. With a client limit above the
// server's, the same calls get the channel shut down, as on Supabase.
func TestTrackStaysWithinThePresenceLimit(t *testing.T) {
	const calls, window = 3, 600 * time.Millisecond
	for _, tc := range []struct {
		name        string
		clientCalls int
		shutDown    bool
	}{
		{"client limit as the server's", calls, false},
		{"client limit above the server's", 100, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rtServer(t, realtimetest.WithClientPresenceLimit(calls, window))
			c := chConnect(t, s)
			ch := chNew(t, c, "lobby", source.WithPresence("alice"), source.WithPresenceLimit(tc.clientCalls, window))
			systems := messageLog(t, ch, ch.Systems())
			chSubscribe(t, ch)
			start := time.Now()
			var errs []error
			for i := range 8 {
				err := ch.Track(chCtx(t), who{Name: fmt.Sprint("v", i)})
				errs = append(errs, err)
				if err != nil {
					break
				}
			}
			if tc.shutDown {
				var reason *source.CloseReason
				require.ErrorAs(t, ch.Err(), &reason, "the server shut the channel down")
				assert.Equal(t, presenceLimitExceeded, reason.Message)
				assert.Len(t, errs, calls+1, "at the call past the limit")
				assert.ErrorIs(t, errs[calls], source.ErrChannelClosed)
				return
			}
			shut := systems.count(func(e source.SystemEvent) bool { return e.Message == presenceLimitExceeded })
			for i, err := range errs {
				require.NoError(t, err, "Track %d", i)
			}
			assert.Zero(t, shut)
			frames := inFrames(s, "realtime:lobby", "presence")
			require.Len(t, frames, 8, "every value went out")
			for i := calls; i < len(frames); i++ {
				assert.Greater(t, frames[i].Time.Sub(frames[i-calls].Time), window,
					"presence calls %d and %d reached the server within one window", i-calls, i)
			}
			assert.GreaterOrEqual(t, time.Since(start), 2*window, "8 calls take two windows past the first 3")
			st, ok := ch.Status()
			require.True(t, ok)
			assert.Equal(t, source.StatusSubscribed, st.Status)
		})
	}
}

// While the window does not allow a call, the latest Track wins: the values it replaced return
// ErrPresenceSuperseded at once and never go out; the latest goes out when the window allows, and its Track
// returns then. Another client sees each change of the meta as one Update.
func TestTrackCoalescesToTheLatestValue(t *testing.T) {
	const window = 800 * time.Millisecond
	s := rtServer(t, realtimetest.WithClientPresenceLimit(2, window))
	obsCh, obs := observe(t, s, "lobby")
	c := chConnect(t, s)
	ch := chNew(t, c, "lobby", source.WithPresence("alice"), source.WithPresenceLimit(2, window))
	chSubscribe(t, ch)
	require.NoError(t, ch.Track(chCtx(t), who{Name: "v0"}))
	require.NoError(t, ch.Track(chCtx(t), who{Name: "v1"}))

	start := time.Now()
	results := make([]chan error, 3)
	returned := make([]time.Duration, 3)
	for i := range results {
		results[i] = make(chan error, 1)
		go func() {
			err := ch.Track(chCtx(t), who{Name: fmt.Sprint("v", i+2)})
			returned[i] = time.Since(start)
			results[i] <- err
		}()
		time.Sleep(40 * time.Millisecond) // each call after the previous one
	}
	for i := range 2 {
		err := <-results[i]
		assert.ErrorIs(t, err, source.ErrPresenceSuperseded, "v%d", i+2)
		assert.Less(t, returned[i], window/2, "a superseded Track returns when it is superseded")
	}
	require.NoError(t, <-results[2])
	assert.Greater(t, returned[2], window/2, "the latest value waited for the window")
	assert.Equal(t, []string{"v0", "v1", "v4"}, trackedNames(t, s, "realtime:lobby"), "the superseded values never went out")

	chEventually(t, func() bool { return fmt.Sprint(presenceNames(obsCh, "alice")) == "[v4]" }, "the observer sees v4")
	seenByObserver := func() []string {
		vals, _ := obs.snapshot()
		var seen []string
		for _, ev := range vals {
			if ev.Key != "alice" {
				continue
			}
			switch ev.Kind {
			case presence.Join:
				seen = append(seen, "join "+fmt.Sprint(names(ev.Presences)))
			case presence.Update:
				seen = append(seen, "update "+fmt.Sprint(names(ev.Replaced))+"->"+fmt.Sprint(names(ev.Presences)))
			case presence.Leave:
				seen = append(seen, "leave "+fmt.Sprint(names(ev.Presences)))
			}
		}
		return seen
	}
	// The observer's event stream is a consumer of its own: it may trail its state by a moment.
	chEventually(t, func() bool { return len(seenByObserver()) >= 3 }, "three presence events: %v", seenByObserver())
	assert.Equal(t, []string{"join [v0]", "update [v0]->[v1]", "update [v1]->[v4]"}, seenByObserver())
}

// A Track of the value the server holds, an Untrack of nothing tracked and a repeated Untrack cost no
// call and return at once; a Track whose ctx ends while it waits for the window returns ctx's error and
// its value is never sent.
func TestPresenceCallsTheServerWouldIgnoreCostNothing(t *testing.T) {
	s := rtServer(t, realtimetest.WithClientPresenceLimit(2, time.Minute))
	c := chConnect(t, s)
	ch := chNew(t, c, "lobby", source.WithPresence("alice"), source.WithPresenceLimit(2, time.Minute))
	systems := messageLog(t, ch, ch.Systems())
	chSubscribe(t, ch)

	require.NoError(t, ch.Untrack(chCtx(t)), "nothing tracked: nothing to send")
	for range 3 {
		require.NoError(t, ch.Track(chCtx(t), who{Name: "a"}))
	}
	require.NoError(t, ch.Track(chCtx(t), map[string]any{"name": "a"}), "the same meta, marshalled otherwise")
	for range 2 {
		require.NoError(t, ch.Untrack(chCtx(t)))
	}
	assert.Equal(t, []string{"a", "-"}, trackedNames(t, s, "realtime:lobby"))

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := ch.Track(ctx, who{Name: "b"})
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the budget is spent for a minute")
	assert.Less(t, time.Since(start), time.Second)
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"a", "-"}, trackedNames(t, s, "realtime:lobby"), "the abandoned value was not sent")
	assert.Zero(t, systems.count(func(e source.SystemEvent) bool { return e.Message == presenceLimitExceeded }))
}

// An Untrack is a presence call: it replaces a Track still waiting for the window, which returns
// ErrPresenceSuperseded, and goes out when the window allows.
func TestUntrackReplacesAWaitingTrack(t *testing.T) {
	const window = 600 * time.Millisecond
	s := rtServer(t, realtimetest.WithClientPresenceLimit(2, window))
	c := chConnect(t, s)
	ch := chNew(t, c, "lobby", source.WithPresence("alice"), source.WithPresenceLimit(2, window))
	chSubscribe(t, ch)
	require.NoError(t, ch.Track(chCtx(t), who{Name: "v0"}))
	require.NoError(t, ch.Track(chCtx(t), who{Name: "v1"}))
	waiting := make(chan error, 1)
	go func() { waiting <- ch.Track(chCtx(t), who{Name: "v2"}) }()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, ch.Untrack(chCtx(t)))
	assert.ErrorIs(t, <-waiting, source.ErrPresenceSuperseded)
	assert.Equal(t, []string{"v0", "v1", "-"}, trackedNames(t, s, "realtime:lobby"))
	assert.Empty(t, s.Presence("lobby", false))
}

// The server forgets a channel's presence when its join ends: after a rejoin (the socket dropped, the
// channel process crashed) the channel tracks its last value again, and after an Untrack it does not.
func TestPresenceIsTrackedAgainAfterARejoin(t *testing.T) {
	for _, fault := range []struct {
		name string
		do   func(s *realtimetest.Server)
	}{
		{"socket dropped", func(s *realtimetest.Server) { s.Faults().DropAll() }},
		{"channel crashed", func(s *realtimetest.Server) { s.Faults().CrashChannels("realtime:lobby") }},
	} {
		t.Run(fault.name, func(t *testing.T) {
			s := rtServer(t)
			obsCh, _ := observe(t, s, "lobby")
			c := chConnect(t, s)
			ch := chNew(t, c, "lobby", source.WithPresence("alice"))
			statuses := statusLog(t, ch)
			chSubscribe(t, ch)
			require.NoError(t, ch.Track(chCtx(t), who{Name: "Alice"}))
			chEventually(t, func() bool { return fmt.Sprint(presenceNames(obsCh, "alice")) == "[Alice]" }, "alice tracked")

			fault.do(s)
			waitStatus(t, statuses, source.StatusSubscribed, 2)
			chEventually(t, func() bool { return len(inFrames(s, "realtime:lobby", "presence")) == 2 }, "a second track")
			assert.Equal(t, []string{"Alice", "Alice"}, trackedNames(t, s, "realtime:lobby"))
			chEventually(t, func() bool { return fmt.Sprint(presenceNames(obsCh, "alice")) == "[Alice]" }, "alice tracked again")
			chEventually(t, func() bool { return fmt.Sprint(presenceNames(ch, "alice")) == "[Alice]" }, "alice sees herself again")

			require.NoError(t, ch.Untrack(chCtx(t)))
			fault.do(s)
			waitStatus(t, statuses, source.StatusSubscribed, 3)
			time.Sleep(100 * time.Millisecond)
			assert.Equal(t, []string{"Alice", "Alice", "-"}, trackedNames(t, s, "realtime:lobby"), "nothing tracked after the Untrack")
			assert.Empty(t, presenceNames(obsCh, "alice"))
		})
	}
}

// The server counts a channel's presence calls per join: a Track waiting for the window when the socket
// drops goes out right after the rejoin, in the new join's budget, and returns then.
func TestAWaitingTrackGoesOutUnderTheNextJoin(t *testing.T) {
	const window = 5 * time.Second
	s := rtServer(t, realtimetest.WithClientPresenceLimit(2, window))
	c := chConnect(t, s)
	ch := chNew(t, c, "lobby", source.WithPresence("alice"), source.WithPresenceLimit(2, window))
	statuses := statusLog(t, ch)
	systems := messageLog(t, ch, ch.Systems())
	chSubscribe(t, ch)
	require.NoError(t, ch.Track(chCtx(t), who{Name: "v0"}))
	require.NoError(t, ch.Track(chCtx(t), who{Name: "v1"}))
	waiting := make(chan error, 1)
	start := time.Now()
	go func() { waiting <- ch.Track(chCtx(t), who{Name: "v2"}) }()
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"v0", "v1"}, trackedNames(t, s, "realtime:lobby"), "v2 waits for the window")

	s.Faults().DropAll()
	waitStatus(t, statuses, source.StatusSubscribed, 2)
	require.NoError(t, <-waiting)
	assert.Less(t, time.Since(start), window/2, "v2 went out in the new join's budget")
	assert.Equal(t, []string{"v0", "v1", "v2"}, trackedNames(t, s, "realtime:lobby"), "only the latest value after the rejoin")
	assert.Contains(t, s.Presence("lobby", false), "alice")
	assert.Zero(t, systems.count(func(e source.SystemEvent) bool { return e.Message == presenceLimitExceeded }))
}

// A meta that does not marshal to a JSON object is refused before anything is sent (the server would
// refuse it, and the refusal would spend a presence call).
func TestTrackRefusesAMetaThatIsNotAnObject(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "lobby", source.WithPresence("alice"))
	chSubscribe(t, ch)
	for _, meta := range []any{nil, 5, "x", []int{1}, func() {}} {
		err := ch.Track(chCtx(t), meta)
		assert.ErrorIs(t, err, source.ErrInvalidPresence, "%T", meta)
		assert.Contains(t, err.Error(), "rxrealtime:")
	}
	assert.Empty(t, inFrames(s, "realtime:lobby", "presence"))
}
