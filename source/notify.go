package source

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// notifyQueueMax bounds the notifications waiting for the observer goroutine. Past it they are dropped and
// counted ([Stats].NotificationsDropped): a user callback that blocks must not grow memory without bound.
const notifyQueueMax = 1024

// notifier runs the user's callbacks — the error handler, the logger, the metrics hooks — on one goroutine
// of its own, in order, so that none of them can stall the socket: the reader, the writer and the timers
// only queue a call and go on. A callback that panics is recovered; the panic is logged (if the logger is
// not what panicked) and counted. The goroutine starts with the first notification and ends when the
// client shuts down, after running what is queued.
type notifier struct {
	mu      sync.Mutex
	queue   []func()
	running bool // the goroutine is started and not yet told to stop
	stopped bool
	wake    chan struct{}
	done    chan struct{} // closed when the goroutine has returned

	dropped atomic.Uint64
	panics  atomic.Uint64
	onPanic func(any) // reports a recovered panic; itself protected
}

// post queues f for the observer goroutine. After stop, f runs at once on the caller's goroutine.
func (n *notifier) post(f func()) {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		n.run(f)
		return
	}
	if len(n.queue) >= notifyQueueMax {
		n.mu.Unlock()
		n.dropped.Add(1)
		return
	}
	n.queue = append(n.queue, f)
	if !n.running {
		n.running = true
		n.wake = make(chan struct{}, 1)
		n.done = make(chan struct{})
		go n.loop(n.wake, n.done)
	}
	wake := n.wake
	n.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
}

func (n *notifier) loop(wake chan struct{}, done chan struct{}) {
	defer close(done)
	var batch []func()
	for {
		n.mu.Lock()
		batch, n.queue = n.queue, batch[:0]
		stop := n.stopped && len(batch) == 0
		n.mu.Unlock()
		if stop {
			return
		}
		for i, f := range batch {
			n.run(f)
			batch[i] = nil
		}
		if len(batch) == 0 {
			<-wake
		}
	}
}

// run calls f, recovering a panic.
func (n *notifier) run(f func()) {
	defer func() {
		if r := recover(); r != nil {
			n.panics.Add(1)
			if n.onPanic != nil {
				func() {
					defer func() { _ = recover() }()
					n.onPanic(r)
				}()
			}
		}
	}()
	f()
}

// stop runs what is queued and ends the goroutine; later posts run inline. It waits for the goroutine,
// so a callback blocked for good blocks stop: Close's ctx bounds that wait (see Client.Close).
func (n *notifier) stop() <-chan struct{} {
	n.mu.Lock()
	n.stopped = true
	done, wake := n.done, n.wake
	n.mu.Unlock()
	if done == nil {
		closed := make(chan struct{})
		close(closed)
		return closed
	}
	select {
	case wake <- struct{}{}:
	default:
	}
	return done
}

// panicError describes a recovered callback panic.
func panicError(r any) error { return fmt.Errorf("rxrealtime: a callback panicked: %v", r) }
