package source_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
)

// A token provider that fails before the client ever had a token fails
// Connect with its error, at once: the client does not connect as anon
// (row-level security would then hide rows without a word). Nothing is
// dialled, so nothing is joined.
func TestTokenProviderFailingFromTheStartFailsConnect(t *testing.T) {
	s := newServer(t)
	boom := errors.New("session store down")
	start := time.Now()
	c, err := source.Connect(waitCtx(t), s.URL(), fast(source.WithAccessToken(func(context.Context) (string, error) {
		return "", boom
	}))...)
	require.Error(t, err, "Connect succeeded without the provider's token")
	t.Log(err)
	assert.Nil(t, c)
	assert.Less(t, time.Since(start), 2*time.Second, "Connect waited for its ctx: %v", err)
	assert.ErrorIs(t, err, boom)
	var te *source.TokenError
	assert.ErrorAs(t, err, &te)
	var ce *source.ConnectError
	assert.ErrorAs(t, err, &ce)
	assert.True(t, strings.HasPrefix(err.Error(), "rxrealtime: "), err.Error())
	assert.Contains(t, err.Error(), "access token provider: session store down")
	assert.Empty(t, s.Clients(), "nothing was dialled")
}

// A provider that never returns is named: Connect whose ctx ends while it
// is asked says the provider did not return, not "0 attempts".
func TestHangingTokenProviderIsNamed(t *testing.T) {
	s := newServer(t)
	hang := func(ctx context.Context) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := source.Connect(ctx, s.URL(), fast(source.WithAccessToken(hang))...)
	require.Error(t, err)
	t.Log(err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "access token provider did not return within")
	assert.NotContains(t, err.Error(), "0 attempts")
	var te *source.TokenError
	assert.ErrorAs(t, err, &te)

	// The provider is asked with the dial timeout as its bound: past it, the attempt fails and says so,
	// whatever Connect's ctx.
	start := time.Now()
	_, err = source.Connect(waitCtx(t), s.URL(), fast(source.WithAccessToken(hang), source.WithDialTimeout(200*time.Millisecond))...)
	require.Error(t, err)
	t.Log(err)
	assert.Less(t, time.Since(start), 2*time.Second, "Connect waited for its ctx: %v", err)
	assert.Contains(t, err.Error(), "access token provider did not return within 200ms")
	assert.Empty(t, s.Clients(), "nothing was dialled")
}

// WithAnonymousFallback is the explicit way to connect as anon when the
// provider fails: the failure is reported, and the join carries no token.
// A token the client already has (SetAuth) is kept instead, as after any
// provider failure.
func TestTokenProviderFailureFallbacks(t *testing.T) {
	boom := errors.New("session store down")
	failing := source.WithAccessToken(func(context.Context) (string, error) { return "", boom })
	t.Run("anonymous", func(t *testing.T) {
		s := rtServer(t)
		reported := make(chan error, 16)
		c := chConnect(t, s, failing, source.WithAnonymousFallback(), source.WithErrorHandler(func(err error) {
			select {
			case reported <- err:
			default:
			}
		}))
		ch := chNew(t, c, "room")
		chSubscribe(t, ch)
		j := decodeJoin(t, inFrames(s, "realtime:room", "phx_join")[0])
		assert.Nil(t, j.AccessToken, "the join carries no token")
		select {
		case err := <-reported:
			var te *source.TokenError
			require.ErrorAs(t, err, &te)
			assert.ErrorIs(t, err, boom)
		case <-time.After(chWait):
			t.Fatal("the provider's failure was not reported")
		}
	})
	t.Run("SetAuth's token", func(t *testing.T) {
		s := rtServer(t)
		c, err := source.New(s.URL(), chClientOpts(failing)...)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, c.Close(chCtx(t))) })
		require.NoError(t, c.SetAuth(chCtx(t), "set-by-hand"))
		require.NoError(t, c.Connect(chCtx(t)))
		ch := chNew(t, c, "room")
		chSubscribe(t, ch)
		assert.Equal(t, "set-by-hand", accessToken(t, inFrames(s, "realtime:room", "phx_join")[0]))
	})
}
