package framesrv

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// counter is a monotonic counter that goroutines can wait on. Adding costs
// one atomic add (plus a lock only while someone waits).
type counter struct {
	n       atomic.Int64
	nwait   atomic.Int32
	mu      sync.Mutex
	waiters []*waiter
}

type waiter struct {
	target int64
	ch     chan struct{}
}

func (c *counter) load() int64 { return c.n.Load() }

func (c *counter) add(d int64) {
	v := c.n.Add(d)
	if c.nwait.Load() == 0 {
		return
	}
	c.mu.Lock()
	c.waiters = slices.DeleteFunc(c.waiters, func(w *waiter) bool {
		if w.target <= v {
			close(w.ch)
			c.nwait.Add(-1)
			return true
		}
		return false
	})
	c.mu.Unlock()
}

// wait returns once the counter reaches target, or ctx's error.
func (c *counter) wait(ctx context.Context, target int64) error {
	if c.n.Load() >= target {
		return nil
	}
	w := &waiter{target: target, ch: make(chan struct{})}
	c.mu.Lock()
	c.waiters = append(c.waiters, w)
	c.nwait.Add(1)
	if c.n.Load() >= target {
		c.remove(w)
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		c.remove(w)
		c.mu.Unlock()
		if c.n.Load() >= target {
			return nil
		}
		return ctx.Err()
	}
}

// remove drops w if it is still waiting; the caller holds c.mu.
func (c *counter) remove(w *waiter) {
	if i := slices.Index(c.waiters, w); i >= 0 {
		c.waiters = slices.Delete(c.waiters, i, i+1)
		c.nwait.Add(-1)
	}
}
