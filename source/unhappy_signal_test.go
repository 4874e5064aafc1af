package source_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Rejoin storm: channel crashes over and over while other goroutines Subscribe (already subscribed: waits
// for SUBSCRIBED) and Send (waits for joined). Nothing hangs, every Send that returns nil reaches a joined
// channel on the server (no "unmatched topic").
func TestUnhappyRejoinStormSignals(t *testing.T) {
	s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000), realtimetest.WithMaxJoinsPerSecond(1_000_000))
	c := chConnect(t, s)
	ch := chNew(t, c, "storm", source.WithReplicationReady())
	chSubscribe(t, ch)
	ctx := chCtx(t)
	stopCrashes := every(5*time.Millisecond, func() { s.Faults().CrashChannels("realtime:storm") })
	var wg sync.WaitGroup
	var subErrs, sendErrs, replErrs []error
	var mu sync.Mutex
	for range 4 {
		wg.Go(func() {
			for i := range 50 {
				sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				err := ch.Subscribe(sctx)
				if err == nil {
					err = ch.Send(sctx, "n", i)
					mu.Lock()
					sendErrs = append(sendErrs, err)
					mu.Unlock()
					rerr := ch.WaitReplicationReady(sctx)
					mu.Lock()
					replErrs = append(replErrs, rerr)
					mu.Unlock()
				}
				cancel()
				mu.Lock()
				subErrs = append(subErrs, err)
				mu.Unlock()
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	stopCrashes()
	wg.Wait()
	for _, e := range subErrs {
		assert.NoError(t, e)
	}
	for _, e := range sendErrs {
		if e != nil {
			assert.ErrorIs(t, e, source.ErrNotJoined)
		}
	}
	for _, e := range replErrs {
		assert.NoError(t, e)
	}
	// After the storm: Subscribe returns, Send goes out, replication ready.
	require.NoError(t, ch.Subscribe(ctx))
	require.NoError(t, ch.Send(ctx, "final", 1))
	require.NoError(t, ch.WaitReplicationReady(ctx))
	waitIn(t, s, "realtime:storm", phoenix.EventBroadcast, 1)
	st, ok := ch.Status()
	require.True(t, ok)
	assert.Equal(t, source.StatusSubscribed, st.Status)
}

// Subscribe, Unsubscribe, a new channel of the same name, Subscribe again, many times, with sends between.
func TestUnhappySubscribeUnsubscribeCycles(t *testing.T) {
	s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000), realtimetest.WithMaxJoinsPerSecond(1_000_000))
	c := chConnect(t, s)
	ctx := chCtx(t)
	for i := range 50 {
		ch := chNew(t, c, "cyc")
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for k := range errs {
			wg.Go(func() { errs[k] = ch.Subscribe(ctx) })
		}
		wg.Wait()
		for _, e := range errs {
			require.NoError(t, e, "cycle %d", i)
		}
		require.NoError(t, ch.Send(ctx, "n", i))
		require.NoError(t, ch.Unsubscribe(ctx))
		err := ch.Send(ctx, "n", i)
		require.ErrorIs(t, err, source.ErrChannelClosed)
		err = ch.Subscribe(ctx)
		require.ErrorIs(t, err, source.ErrChannelClosed)
	}
}

// Subscribe whose join reply is delayed, with a socket drop in between: the waiters wake once SUBSCRIBED
// after the rejoin on the new socket, and a Send waits for it.
func TestUnhappySubscribeAcrossSocketDrop(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "drop", source.WithJoinTimeout(2*time.Second))
	s.Faults().DropReplies(true)
	ctx := chCtx(t)
	var wg sync.WaitGroup
	var subErr, sendErr error
	wg.Go(func() { subErr = ch.Subscribe(ctx) })
	time.Sleep(20 * time.Millisecond)
	wg.Go(func() { sendErr = ch.Send(ctx, "x", 1) })
	time.Sleep(50 * time.Millisecond)
	s.Faults().DropReplies(false)
	s.Faults().DropAll()
	wg.Wait()
	require.NoError(t, subErr)
	require.NoError(t, sendErr)
	waitIn(t, s, "realtime:drop", phoenix.EventBroadcast, 1)
}
