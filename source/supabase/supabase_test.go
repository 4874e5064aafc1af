package supabase

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/supabase-community/gotrue-go/types"
	"go.uber.org/goleak"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/source/supabase/gotruetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	jwtSecret = "super-secret-jwt-token-with-at-least-32-characters"
	email     = "ada@example.com"
	password  = "correct horse battery staple"
)

// fixture is a Realtime test server and a GoTrue stub sharing a JWT
// secret, and a signed-in user's session.
type fixture struct {
	srv   *realtimetest.Server
	gt    *gotruetest.Server
	anon  string
	first string // the access token of the sign-in
	sess  *Session
}

func newFixture(t *testing.T, ttl time.Duration, opts ...SessionOption) *fixture {
	t.Helper()
	f := &fixture{}
	f.srv = realtimetest.NewServer(realtimetest.WithJWTSecret(jwtSecret))
	t.Cleanup(f.srv.Close)
	f.gt = gotruetest.NewServer(jwtSecret, gotruetest.WithTTL(ttl), gotruetest.WithUser(email, password))
	t.Cleanup(f.gt.Close)
	f.anon = f.srv.Token("anon", time.Hour)
	auth := f.gt.Client(f.anon)
	tok, err := auth.SignInWithEmailPassword(email, password)
	require.NoError(t, err)
	f.first = tok.AccessToken
	f.sess, err = NewSession(auth, tok.Session, opts...)
	require.NoError(t, err)
	return f
}

func (f *fixture) connect(t *testing.T, opts ...source.Option) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Connect(ctx, f.srv.HTTPURL(), f.anon, f.sess, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, c.Close(ctx))
	})
	return c
}

// frames returns the recorded frames of dir with event on topic.
func frames(srv *realtimetest.Server, dir realtimetest.Direction, topic, event string) []realtimetest.Frame {
	var out []realtimetest.Frame
	for _, fr := range srv.Frames() {
		if fr.Dir == dir && fr.Msg.Topic == topic && fr.Msg.Event == event {
			out = append(out, fr)
		}
	}
	return out
}

func subscribe(t *testing.T, c interface {
	Channel(string, ...source.ChannelOption) (*source.Channel, error)
}, topic string) *source.Channel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ch, err := c.Channel(topic)
	require.NoError(t, err)
	require.NoError(t, ch.Subscribe(ctx))
	return ch
}

// TestChannelOutlivesToken: with 2 s tokens, the session is refreshed
// through GoTrue before each expiry and the socket sends every new token
// to the joined channel, which the server (verifying the HS256 tokens)
// keeps open well past the first token's expiry.
func TestChannelOutlivesToken(t *testing.T) {
	f := newFixture(t, 2*time.Second, WithRefreshMargin(time.Second))
	c := f.connect(t)
	ch := subscribe(t, c, "room1")

	joins := frames(f.srv, realtimetest.In, "realtime:room1", phoenix.EventJoin)
	require.Len(t, joins, 1)
	assert.Contains(t, string(joins[0].Msg.Payload), f.first, "the join carries the signed-in user's token")

	time.Sleep(4500 * time.Millisecond) // more than two token lifetimes

	assert.GreaterOrEqual(t, f.gt.Refreshes(), 2, "refreshed through GoTrue before each expiry")
	pushed := frames(f.srv, realtimetest.In, "realtime:room1", phoenix.EventAccessToken)
	assert.GreaterOrEqual(t, len(pushed), 2, "each new token is sent to the channel")
	if len(pushed) > 0 {
		assert.Contains(t, string(pushed[len(pushed)-1].Msg.Payload), f.sess.Current().AccessToken)
	}
	assert.Empty(t, frames(f.srv, realtimetest.Out, "realtime:room1", phoenix.EventSystem), "no token error")
	assert.Empty(t, frames(f.srv, realtimetest.Out, "realtime:room1", phoenix.EventClose), "the channel was not shut down")
	st, ok := ch.Status()
	require.True(t, ok)
	assert.Equal(t, source.StatusSubscribed, st.Status)

	// The REST client shares the project URL, key and session.
	rc, err := c.REST()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, rc.Broadcast(ctx, "room1", "ev", map[string]int{"n": 1}, false))
}

// TestWithoutRefreshTheServerShutsTheChannel is the control of
// TestChannelOutlivesToken: the same token, never refreshed, gets the
// channel shut down when it expires.
func TestWithoutRefreshTheServerShutsTheChannel(t *testing.T) {
	f := newFixture(t, 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := source.Connect(ctx, f.srv.HTTPURL(), source.WithAPIKey(f.anon),
		source.WithAccessToken(func(context.Context) (string, error) { return f.first, nil }))
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close(ctx)) }()
	subscribe(t, c, "room1")
	_, err = f.srv.WaitFor(ctx, func(fr realtimetest.Frame) bool {
		return fr.Dir == realtimetest.Out && fr.Msg.Topic == "realtime:room1" && fr.Msg.Event == phoenix.EventSystem &&
			bytes.Contains(fr.Msg.Payload, []byte("expired"))
	})
	require.NoError(t, err, "the server shuts the channel when the token expires")
}

// TestUpdateSendsTheNewToken: a session refreshed elsewhere (supabase-go's
// own auto-refresh, say) and handed to Update reaches the server.
func TestUpdateSendsTheNewToken(t *testing.T) {
	f := newFixture(t, time.Hour)
	c := f.connect(t)
	subscribe(t, c, "room1")

	resp, err := f.gt.Client(f.anon).RefreshToken(f.sess.Current().RefreshToken)
	require.NoError(t, err)
	require.NotEqual(t, f.first, resp.AccessToken)
	f.sess.Update(resp.Session)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = f.srv.WaitFor(ctx, func(fr realtimetest.Frame) bool {
		return fr.Dir == realtimetest.In && fr.Msg.Event == phoenix.EventAccessToken &&
			bytes.Contains(fr.Msg.Payload, []byte(resp.AccessToken))
	})
	require.NoError(t, err)
	assert.Equal(t, resp.AccessToken, f.sess.Current().AccessToken)
	assert.Equal(t, 1, f.gt.Refreshes(), "the session did not refresh on its own")
}

// due makes the session due for a refresh now, its token expiring at exp.
func due(s *Session, exp time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expires = exp
	s.refresh = time.Now().Add(-time.Millisecond)
}

func TestAccessTokenRefreshesOnceWhenDue(t *testing.T) {
	f := newFixture(t, time.Hour)
	tok, err := f.sess.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, f.first, tok, "not due: no refresh")
	assert.Zero(t, f.gt.Refreshes())

	due(f.sess, time.Now().Add(-time.Second))
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			tok, err := f.sess.AccessToken(context.Background())
			assert.NoError(t, err)
			got[i] = tok
		})
	}
	wg.Wait()
	assert.Equal(t, 1, f.gt.Refreshes(), "concurrent callers share one refresh")
	for _, tok := range got {
		assert.Equal(t, f.sess.Current().AccessToken, tok)
	}
	assert.NotEqual(t, f.first, got[0])
	assert.WithinDuration(t, time.Now().Add(time.Hour), f.sess.ExpiresAt(), 5*time.Second)
}

func TestRefreshFailure(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t, time.Hour, WithLogger(log))
	ctx := context.Background()

	// Due but not expired: the current token is still good.
	f.gt.FailRefreshes(1)
	due(f.sess, time.Now().Add(time.Minute))
	tok, err := f.sess.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.first, tok)
	assert.Contains(t, logs.String(), "session refresh failed")

	// Expired: the error is returned.
	f.gt.FailRefreshes(1)
	due(f.sess, time.Now().Add(-time.Second))
	_, err = f.sess.AccessToken(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "supabase: refresh session")
	assert.Contains(t, err.Error(), "503")

	// Then it works, and a refresh token is used once.
	ns, err := f.sess.Refresh(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, f.first, ns.AccessToken)
	assert.Contains(t, logs.String(), "session refreshed")
	assert.NotContains(t, logs.String(), ns.AccessToken)
	_, err = f.gt.Client(f.anon).RefreshToken(f.sess.Current().RefreshToken)
	require.NoError(t, err, "the session holds the rotated refresh token")
	_, err = f.sess.Refresh(ctx)
	require.Error(t, err, "that refresh token is now spent")
	assert.Contains(t, err.Error(), "Refresh Token Not Found")

	// A cancelled caller returns at once; the refresh itself completes.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = f.sess.Refresh(cctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Eventually(t, func() bool {
		f.sess.mu.Lock()
		defer f.sess.mu.Unlock()
		return f.sess.inflight == nil
	}, 5*time.Second, time.Millisecond)
}

// TestKeeperRetriesAfterAFailedRefresh: a refresh that fails is retried,
// and the token it then gets reaches the channel.
func TestKeeperRetriesAfterAFailedRefresh(t *testing.T) {
	f := newFixture(t, 3*time.Second, WithRefreshMargin(2*time.Second))
	f.gt.FailRefreshes(1)
	c := f.connect(t)
	subscribe(t, c, "room1")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	_, err := f.srv.WaitFor(ctx, func(fr realtimetest.Frame) bool {
		return fr.Dir == realtimetest.In && fr.Msg.Event == phoenix.EventAccessToken
	})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, f.gt.Refreshes(), 1)
	assert.Empty(t, frames(f.srv, realtimetest.Out, "realtime:room1", phoenix.EventClose))
}

func TestAnonymousClient(t *testing.T) {
	srv := realtimetest.NewServer(realtimetest.WithJWTSecret(jwtSecret))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Connect(ctx, srv.HTTPURL()+"/", srv.Token("anon", time.Hour), nil)
	require.NoError(t, err)
	assert.Nil(t, c.Session())
	subscribe(t, c, "lobby")
	require.NoError(t, c.Close(ctx))
}

func TestErrors(t *testing.T) {
	_, err := NewSession(nil, sessionWith("tok"))
	assert.ErrorIs(t, err, ErrNoSession)
	gt := gotruetest.NewServer(jwtSecret)
	defer gt.Close()
	_, err = NewSession(gt.Client("k"), sessionWith(""))
	assert.ErrorIs(t, err, ErrNoSession)

	_, err = NewClient("ftp://h/x?apikey=secret", "k", nil)
	assert.ErrorIs(t, err, source.ErrInvalidURL)
	assert.NotContains(t, err.Error(), "secret")
	_, err = NewClient("https://abc.supabase.co", "", nil)
	assert.Error(t, err)

	_, err = gt.Client("k").SignInWithEmailPassword(email, "wrong")
	assert.Error(t, err, "the stub refuses unknown credentials")
}

func TestExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	jwt := func(claims string) string {
		return "e30." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".sig"
	}
	for _, tt := range []struct {
		name string
		sess types.Session
		want time.Time
	}{
		{"expires_at", sessionWithExp(1_700_000_600, 0, "x"), time.Unix(1_700_000_600, 0)},
		{"expires_in", sessionWithExp(0, 60, "x"), now.Add(time.Minute)},
		{"jwt exp", sessionWithExp(0, 0, jwt(`{"exp":1700000123}`)), time.Unix(1_700_000_123, 0)},
		{"no exp", sessionWithExp(0, 0, jwt(`{"role":"x"}`)), time.Time{}},
		{"not a jwt", sessionWithExp(0, 0, "opaque"), time.Time{}},
		{"bad base64", sessionWithExp(0, 0, "a.!!!.c"), time.Time{}},
	} {
		assert.Equal(t, tt.want, expiry(tt.sess, now), tt.name)
	}
}

func sessionWith(tok string) types.Session { return types.Session{AccessToken: tok, RefreshToken: "r"} }

func sessionWithExp(at int64, in int, tok string) types.Session {
	return types.Session{AccessToken: tok, ExpiresAt: at, ExpiresIn: in}
}
