package framesrv

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCounterWaitersWakeAtTheirTarget(t *testing.T) {
	var c counter
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, target := range []int64{1, 500, 1000} {
		wg.Go(func() { assert.NoError(t, c.wait(ctx, target)) })
	}
	var adders sync.WaitGroup
	for range 10 {
		adders.Go(func() {
			for range 100 {
				c.add(1)
			}
		})
	}
	adders.Wait()
	wg.Wait()
	assert.Equal(t, int64(1000), c.load())
	c.mu.Lock()
	assert.Empty(t, c.waiters)
	c.mu.Unlock()
	assert.Zero(t, c.nwait.Load())
}

func TestCounterWaitCancelledLeavesNoWaiter(t *testing.T) {
	var c counter
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, c.wait(ctx, 5), context.Canceled)
	assert.Zero(t, c.nwait.Load())
	c.add(5)
	require.NoError(t, c.wait(ctx, 5), "already reached: no wait, even with a done ctx")
}
