package source_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func TestWaitStatusAfterATokenExpiry(t *testing.T) {
	s := newServer(t, realtimetest.WithJWTSecret("jwt-secret-at-least-32-bytes-long!!"))
	c := connect(t, s, fast(source.WithAPIKey(s.Token("anon", time.Hour)))...)
	ctx := waitCtx(t)
	ch, err := c.Channel("room", source.WithRejoinBackoff(constBackoff(20*time.Millisecond)))
	require.NoError(t, err)
	require.NoError(t, ch.Subscribe(ctx))

	ev, err := ch.WaitStatus(ctx, source.StatusSubscribed)
	require.NoError(t, err, "already SUBSCRIBED: returns at once")
	assert.Equal(t, source.StatusSubscribed, ev.Status)

	statuses := statusLog(t, ch)
	require.Equal(t, 1, s.Faults().ExpireTokens("realtime:room"))
	closed := waitStatus(t, statuses, source.StatusClosed, 1)
	assert.ErrorIs(t, closed.Err, source.ErrTokenExpired)
	_, err = ch.WaitStatus(ctx, source.StatusSubscribed)
	require.NoError(t, err, "rejoined after the expiry")

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = ch.WaitStatus(short, source.StatusTimedOut)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "SUBSCRIBED", "names the last status")

	require.NoError(t, ch.Unsubscribe(ctx))
	_, err = ch.WaitStatus(ctx, source.StatusSubscribed)
	assert.ErrorIs(t, err, source.ErrChannelClosed)
}
