package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

// tokenPushes returns the tokens of the access_token pushes the server
// received on topic, in order.
func tokenPushes(t *testing.T, s *realtimetest.Server, topic string) []string {
	t.Helper()
	var out []string
	for _, f := range inFrames(s, topic, "access_token") {
		var p struct {
			AccessToken string `json:"access_token"`
		}
		require.NoError(t, json.Unmarshal(f.Msg.Payload, &p))
		out = append(out, p.AccessToken)
	}
	return out
}

// TestProactiveRefreshBeatsExpiry: with 2 s tokens and a heartbeat far
// longer than that, the refresh scheduled from each token's exp keeps two
// channels SUBSCRIBED over more than three expiry periods, and not one of
// the broadcasts emitted meanwhile is lost or reordered.
func TestProactiveRefreshBeatsExpiry(t *testing.T) {
	t.Parallel()
	s := rtServer(t, realtimetest.WithJWTSecret(testSecret))
	var calls atomic.Int64
	provider := func(context.Context) (string, error) {
		calls.Add(1)
		return s.Token("authenticated", 2*time.Second), nil
	}
	c := connect(t, s, source.WithAPIKey(s.Token("anon", time.Hour)), source.WithAccessToken(provider),
		source.WithHeartbeat(time.Minute, 0), // only the exp schedule can save the channels
		source.WithReconnectBackoff(operators.StepBackoff{10 * time.Millisecond}))
	type num struct{ N int }
	var chans []*source.Channel
	var statuses []*chLog[source.StatusEvent]
	var got []*chLog[source.Broadcast[num]]
	for _, name := range []string{"a", "b"} {
		ch := chNew(t, c, name)
		statuses = append(statuses, statusLog(t, ch))
		got = append(got, messageLog(t, ch, source.Broadcasts[num](ch, "n")))
		chSubscribe(t, ch)
		chans = append(chans, ch)
	}

	const period = 7 * time.Second // the tokens expire at least three times
	sent := 0
	for end := time.Now().Add(period); time.Now().Before(end); sent++ {
		for _, name := range []string{"a", "b"} {
			n, err := s.EmitBroadcast(realtimetest.DBBroadcast{Topic: name, Event: "n", Payload: fmt.Appendf(nil, `{"N":%d}`, sent)})
			require.NoError(t, err)
			require.Equal(t, 1, n, "broadcast %d on %s reached no channel", sent, name)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, ch := range chans {
		vals := got[i].waitUntil(t, "every broadcast", func(v []source.Broadcast[num], _ bool) bool { return len(v) >= sent })
		require.Len(t, vals, sent)
		for k, b := range vals {
			require.Equal(t, k, b.Payload.N, "broadcast %d on %s out of order", k, ch.Topic())
		}
		evs, _ := statuses[i].snapshot()
		assert.Equal(t, []string{"JOINING", "SUBSCRIBED"}, statusNames(evs), "%s left SUBSCRIBED", ch.Topic())
		assert.Len(t, inFrames(s, ch.Topic(), "phx_join"), 1, "no rejoin on %s", ch.Topic())
		pushes := tokenPushes(t, s, ch.Topic())
		assert.GreaterOrEqual(t, len(pushes), 3, "a refresh per expiry period on %s", ch.Topic())
		for _, tok := range pushes {
			assert.Equal(t, 3, len(splitJWT(tok)), "the pushes carry the provider's JWTs")
		}
	}
	assert.GreaterOrEqual(t, calls.Load(), int64(4))
}

func splitJWT(tok string) []string {
	var parts []string
	start := 0
	for i := range len(tok) {
		if tok[i] == '.' {
			parts = append(parts, tok[start:i])
			start = i + 1
		}
	}
	return append(parts, tok[start:])
}

// TestTokenRefreshOnEveryHeartbeat: opaque tokens (no readable exp) are
// asked for on every heartbeat, as realtime-js does, and each new one is
// pushed to the joined channel; an unchanged one is not.
func TestTokenRefreshOnEveryHeartbeat(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	var n atomic.Int64
	var frozen atomic.Bool
	provider := func(context.Context) (string, error) {
		if frozen.Load() {
			return "frozen", nil
		}
		return fmt.Sprintf("tok-%d", n.Add(1)), nil
	}
	c := chConnect(t, s, source.WithAccessToken(provider))
	ch := chNew(t, c, "room")
	idle := chNew(t, c, "idle") // never subscribed: gets no push
	chSubscribe(t, ch)
	joinTok := accessToken(t, inFrames(s, "realtime:room", "phx_join")[0])

	waitIn(t, s, "realtime:room", "access_token", 3)
	pushes := tokenPushes(t, s, "realtime:room")
	prev := joinTok
	for _, tok := range pushes {
		assert.NotEqual(t, prev, tok, "only a changed token is pushed")
		prev = tok
	}
	hb := waitIn(t, s, "phoenix", "heartbeat", 3)
	assert.Less(t, hb[0].Seq, inFrames(s, "realtime:room", "access_token")[0].Seq, "pushed after a heartbeat")
	assert.Empty(t, inFrames(s, "realtime:idle", "access_token"))
	_ = idle

	frozen.Store(true)
	waitIn(t, s, "realtime:room", "access_token", len(pushes)+1) // "frozen" goes out once
	before := len(inFrames(s, "realtime:room", "access_token"))
	hbs := len(inFrames(s, "phoenix", "heartbeat"))
	waitIn(t, s, "phoenix", "heartbeat", hbs+3)
	after := tokenPushes(t, s, "realtime:room")
	assert.Len(t, after, before, "an unchanged token is not pushed again")
	assert.Equal(t, "frozen", after[len(after)-1])
}

// TestTokenProviderErrorKeepsLastToken: a failing provider is reported as
// a TokenError; the last good token stays in use (no push, and a rejoin
// carries it).
func TestTokenProviderErrorKeepsLastToken(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	var calls atomic.Int64
	boom := errors.New("identity provider down")
	provider := func(context.Context) (string, error) {
		if calls.Add(1) == 1 {
			return "good", nil
		}
		return "", boom
	}
	c := chConnect(t, s, source.WithAccessToken(provider))
	errs := collect(t, c.Errors())
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)
	chSubscribe(t, ch)
	e := errs.next(t, chWait, func(err error) bool { return errors.Is(err, boom) })
	var te *source.TokenError
	require.ErrorAs(t, e, &te)

	s.Faults().CrashChannels("realtime:room") // phx_error: the channel rejoins, asking the provider
	waitStatus(t, st, source.StatusSubscribed, 2)
	joins := inFrames(s, "realtime:room", "phx_join")
	require.Len(t, joins, 2)
	assert.Equal(t, "good", accessToken(t, joins[0]))
	assert.Equal(t, "good", accessToken(t, joins[1]), "the last good token is kept")
	assert.Empty(t, inFrames(s, "realtime:room", "access_token"))
}

// TestTokenRefreshRacesKeepNewest: overlapping provider calls never put an
// older token back over a newer one.
func TestTokenRefreshRacesKeepNewest(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	var mu sync.Mutex
	var n int
	release, stalled := make(chan struct{}), make(chan struct{})
	provider := func(ctx context.Context) (string, error) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		if k == 2 { // the first refresh after connecting stalls until a later one has answered
			close(stalled)
			select {
			case <-release:
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		return fmt.Sprintf("tok-%d", k), nil
	}
	c := chConnect(t, s, source.WithAccessToken(provider))
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	// The refresher is stuck in call 2; a rejoin's call (3) answers first.
	<-stalled
	s.Faults().CrashChannels("realtime:room")
	waitIn(t, s, "realtime:room", "phx_join", 2)
	close(release)
	time.Sleep(300 * time.Millisecond)
	joins := inFrames(s, "realtime:room", "phx_join")
	assert.Equal(t, "tok-3", accessToken(t, joins[1]))
	for _, tok := range tokenPushes(t, s, "realtime:room") {
		assert.NotEqual(t, "tok-2", tok, "a stale answer is dropped")
	}
}
