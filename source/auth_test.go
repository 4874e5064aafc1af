package source_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

// testSecret is the JWT secret of the servers in the auth tests.
const testSecret = "super-secret-jwt-token-with-at-least-32-characters-long"

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// tokenSeq is a token provider that hands out the given tokens in turn,
// repeating the last one, and counts calls.
type tokenSeq struct {
	mu     sync.Mutex
	tokens []func() string
	calls  int
}

func (p *tokenSeq) provide(context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := min(p.calls, len(p.tokens)-1)
	p.calls++
	return p.tokens[i](), nil
}

func accessToken(t *testing.T, f realtimetest.Frame) string {
	t.Helper()
	j := decodeJoin(t, f)
	require.NotNil(t, j.AccessToken, "join without access_token: %s", f.Msg.Payload)
	return *j.AccessToken
}

func TestFirstJoinCarriesAccessToken(t *testing.T) {
	s := rtServer(t, realtimetest.WithJWTSecret(testSecret))
	tok := s.Token("authenticated", time.Hour)
	c := chConnect(t, s, source.WithAPIKey(s.Token("anon", time.Hour)),
		source.WithAccessToken(func(context.Context) (string, error) { return tok, nil }))
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	joins := inFrames(s, "realtime:room", "phx_join")
	require.Len(t, joins, 1)
	assert.Equal(t, tok, accessToken(t, joins[0]))
}

func TestJoinWithoutTokenProviderHasNoAccessToken(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	assert.Nil(t, decodeJoin(t, inFrames(s, "realtime:room", "phx_join")[0]).AccessToken)
}

func TestSetAuthPushesTokenAndRejoinsCarryIt(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	joined := chNew(t, c, "joined")
	idle := chNew(t, c, "idle") // never subscribed: gets no push
	chSubscribe(t, joined)

	require.NoError(t, c.SetAuth(chCtx(t), "token-2"))
	push := waitIn(t, s, "realtime:joined", "access_token", 1)[0]
	assert.JSONEq(t, `{"access_token":"token-2"}`, string(push.Msg.Payload))
	assert.Equal(t, inFrames(s, "realtime:joined", "phx_join")[0].Msg.JoinRef, push.Msg.JoinRef)
	require.NoError(t, c.SetAuth(chCtx(t), "token-2"), "an unchanged token sends nothing")

	// Later joins and rejoins carry the token.
	st := statusLog(t, joined)
	require.Equal(t, 1, s.Faults().CrashChannels("realtime:joined"))
	waitStatus(t, st, source.StatusSubscribed, 2)
	joins := inFrames(s, "realtime:joined", "phx_join")
	require.Len(t, joins, 2)
	assert.Equal(t, "token-2", accessToken(t, joins[1]))
	chSubscribe(t, idle)
	assert.Equal(t, "token-2", accessToken(t, inFrames(s, "realtime:idle", "phx_join")[0]))
	assert.Len(t, inFrames(s, "realtime:joined", "access_token"), 1)
	assert.Empty(t, inFrames(s, "realtime:idle", "access_token"))

	// Signing out sends a null token, which the server ignores; the next
	// join goes without one.
	require.NoError(t, c.SetAuth(chCtx(t), ""))
	out := waitIn(t, s, "realtime:joined", "access_token", 2)[1]
	assert.JSONEq(t, `{"access_token":null}`, string(out.Msg.Payload))
	require.Equal(t, 1, s.Faults().CrashChannels("realtime:joined"))
	waitStatus(t, st, source.StatusSubscribed, 3)
	assert.Nil(t, decodeJoin(t, inFrames(s, "realtime:joined", "phx_join")[2]).AccessToken)
	assert.Equal(t, 0, st.count(isStatus(source.StatusClosed)))
}

func TestSetAuthDuringJoinIsSentAfterIt(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s, source.WithHeartbeat(10*time.Second, 0))
	ch := chNew(t, c, "room")
	s.Faults().DelayReplies(100 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- ch.Subscribe(chCtx(t)) }()
	waitIn(t, s, "realtime:room", "phx_join", 1)
	require.NoError(t, c.SetAuth(chCtx(t), "late-token")) // the join is in flight
	require.NoError(t, <-done)
	push := waitIn(t, s, "realtime:room", "access_token", 1)[0]
	assert.JSONEq(t, `{"access_token":"late-token"}`, string(push.Msg.Payload))
}

// shortToken signs a token that expires in one to two seconds (exp has a
// one-second resolution: +1 could leave a millisecond).
func shortToken(t *testing.T) string {
	t.Helper()
	tok, err := realtimetest.SignJWT([]byte(testSecret), map[string]any{"role": "authenticated", "exp": time.Now().Unix() + 2})
	require.NoError(t, err)
	return tok
}

func TestTokenExpiryRejoinsWithNewToken(t *testing.T) {
	// The fallback when the proactive refresh could not help: the provider
	// hands out the short token until the server has closed the channel for
	// it, then fresh ones; the channel rejoins with a fresh one.
	t.Parallel()
	s := rtServer(t, realtimetest.WithJWTSecret(testSecret))
	first := shortToken(t)
	closedByServer := func() bool {
		for _, f := range s.Frames() {
			if f.Dir == realtimetest.Out && f.Msg.Topic == "realtime:room" && f.Msg.Event == "system" {
				return true
			}
		}
		return false
	}
	p := &tokenSeq{tokens: []func() string{func() string {
		if !closedByServer() {
			return first
		}
		return s.Token("authenticated", time.Hour)
	}}}
	c := chConnect(t, s, source.WithAPIKey(s.Token("anon", time.Hour)), source.WithAccessToken(p.provide))
	ch := chNew(t, c, "room")
	st := statusLog(t, ch)
	chSubscribe(t, ch)

	closed := waitStatus(t, st, source.StatusClosed, 1)
	require.ErrorIs(t, closed.Err, source.ErrTokenExpired)
	require.ErrorIs(t, closed.Err, source.ErrChannelClosed)
	var cr *source.CloseReason
	require.ErrorAs(t, closed.Err, &cr)
	assert.Contains(t, cr.Message, "Token has expired")
	assert.NotContains(t, closed.Err.Error(), first, "tokens never show in errors")

	waitStatus(t, st, source.StatusSubscribed, 2)
	joins := inFrames(s, "realtime:room", "phx_join")
	require.Len(t, joins, 2)
	assert.Equal(t, first, accessToken(t, joins[0]))
	second := accessToken(t, joins[1])
	assert.NotEqual(t, first, second, "the rejoin asked the provider for a new token")
	vals, _ := st.snapshot()
	assert.Equal(t, []string{"JOINING", "SUBSCRIBED", "CLOSED", "JOINING", "SUBSCRIBED"}, statusNames(vals))
	select {
	case <-ch.Done():
		t.Fatal("the channel must live on")
	default:
	}
}

func TestNoRejoinOnTokenExpiry(t *testing.T) {
	t.Parallel()
	s := rtServer(t, realtimetest.WithJWTSecret(testSecret))
	first := shortToken(t)
	c := chConnect(t, s, source.WithAPIKey(s.Token("anon", time.Hour)),
		source.WithAccessToken(func(context.Context) (string, error) { return first, nil }))
	ch := chNew(t, c, "room", source.WithoutRejoinOnTokenExpiry())
	st := statusLog(t, ch)
	chSubscribe(t, ch)
	closed := waitStatus(t, st, source.StatusClosed, 1)
	require.ErrorIs(t, closed.Err, source.ErrTokenExpired)
	<-ch.Done()
	require.ErrorIs(t, ch.Err(), source.ErrTokenExpired)
	require.ErrorIs(t, ch.Subscribe(chCtx(t)), source.ErrTokenExpired)
	st.waitUntil(t, "completion", func(_ []source.StatusEvent, ended bool) bool { return ended })
	assert.Len(t, inFrames(s, "realtime:room", "phx_join"), 1)
}

func TestTokenExpiryRejoinWaitsForReconnect(t *testing.T) {
	// A channel closed for an expired token while its rejoin is pending
	// rejoins when the socket comes back, instead of staying closed.
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithRejoinBackoff(constBackoff(time.Hour)))
	st := statusLog(t, ch)
	chSubscribe(t, ch)
	s.Faults().ShutdownChannels("realtime:room", "Token has expired 3 seconds ago")
	ev := waitStatus(t, st, source.StatusClosed, 1)
	require.ErrorIs(t, ev.Err, source.ErrTokenExpired)
	s.Faults().DropAll()
	waitStatus(t, st, source.StatusSubscribed, 2)
}

type constBackoff time.Duration

func (b constBackoff) Next(int) time.Duration { return time.Duration(b) }
