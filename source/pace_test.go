package source_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// subscribeAll subscribes every channel concurrently and waits for all.
func subscribeAll(t *testing.T, ctx context.Context, chans []*source.Channel) {
	t.Helper()
	errs := make([]error, len(chans))
	var wg sync.WaitGroup
	for i, ch := range chans {
		wg.Go(func() { errs[i] = ch.Subscribe(ctx) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
}

// joinsIn returns the phx_join frames the server received, in order.
func joinsIn(s *realtimetest.Server) []realtimetest.Frame {
	var out []realtimetest.Frame
	for _, f := range s.Frames() {
		if f.Dir == realtimetest.In && f.Msg.Event == phoenix.EventJoin {
			out = append(out, f)
		}
	}
	return out
}

// maxPerWindow is the most frames within any window w.
func maxPerWindow(fs []realtimetest.Frame, w time.Duration) int {
	most, lo := 0, 0
	for hi := range fs {
		for fs[hi].Time.Sub(fs[lo].Time) >= w {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

func TestJoinRateInvalid(t *testing.T) {
	_, err := source.New("ws://localhost:1/socket", source.WithJoinRate(0, 1))
	require.ErrorIs(t, err, source.ErrInvalidOption)
	require.ErrorContains(t, err, "WithJoinRate")
	_, err = source.NewJoinLimiter(1, 0)
	require.ErrorIs(t, err, source.ErrInvalidOption)
}

// WithJoinRate on one client: burst joins go out at once, the rest at the
// rate; every channel gets SUBSCRIBED.
func TestJoinRatePacesJoins(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast(source.WithJoinRate(20, 5))...)
	var chans []*source.Channel
	for i := range 25 {
		ch, err := c.Channel(fmt.Sprintf("room-%d", i))
		require.NoError(t, err)
		chans = append(chans, ch)
	}
	subscribeAll(t, waitCtx(t), chans)
	joins := joinsIn(s)
	require.Len(t, joins, 25)
	spread := joins[24].Time.Sub(joins[0].Time)
	assert.GreaterOrEqual(t, spread, 900*time.Millisecond, "20 joins past the burst at 20/s")
	assert.Less(t, spread, 3*time.Second)
	assert.Less(t, joins[4].Time.Sub(joins[0].Time), 200*time.Millisecond, "the burst goes out at once")
	assert.LessOrEqual(t, maxPerWindow(joins, 500*time.Millisecond), 5+10+1)
}

// Joins waiting for their turn are dropped when the client closes: no
// timer outlives it and nothing is sent.
func TestJoinRateCloseDropsWaitingJoins(t *testing.T) {
	s := newServer(t)
	l, err := source.NewJoinLimiter(1, 1)
	require.NoError(t, err)
	c, err := source.Connect(waitCtx(t), s.URL(), fast(source.WithJoinLimiter(l))...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := range 5 {
		ch, err := c.Channel(fmt.Sprintf("room-%d", i))
		require.NoError(t, err)
		wg.Go(func() { _ = ch.Subscribe(ctx) })
	}
	require.Eventually(t, func() bool { return l.Waiting() == 4 }, chWait, 5*time.Millisecond)
	require.NoError(t, c.Close(waitCtx(t)))
	require.Equal(t, 0, l.Waiting())
	wg.Wait()
	require.Len(t, joinsIn(s), 1)
}
