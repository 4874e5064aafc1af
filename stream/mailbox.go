package stream

import "sync"

// SlowConsumer describes the start of a slow-consumer episode at a hub built with [NeverWait]: a consumer's
// mailbox was full when a value arrived. An episode ends when the consumer next takes from its mailbox (it
// takes everything queued at once); the next full mailbox starts a new one. A stalled consumer is reported
// once, and one that stays behind at most once per mailbox-full of values, never once per value.
type SlowConsumer struct {
	// Queued is the number of values in the consumer's mailbox when the episode started (its buffer size).
	Queued int
	// Dropped is the number of values this consumer has lost so far at this hub, over all its episodes.
	// It is 0 for a consumer that chose [Block]: its mailbox grows instead, and nothing is dropped.
	Dropped uint64
	// Blocking tells that the consumer chose [Block]: the value was queued past the buffer size, not dropped.
	Blocking bool
}

// queue is the mailbox of a consumer of a NeverWait hub: a slice under a mutex, filled by Emit without ever
// waiting, and emptied a batch at a time by the consumer's goroutine. Unlike a Go channel it allocates only
// what is queued, so a large bound costs nothing until the consumer falls behind.
type queue[T any] struct {
	mu    sync.Mutex
	items []T
	spare []T           // the consumer's previous batch, reused for the next one
	slow  bool          // in a slow-consumer episode (reported), until the consumer next takes
	wake  chan struct{} // capacity 1: signalled when items goes from empty to non-empty
	// notify, when set, is called instead of signalling wake (a consumer run by the shared workers, which
	// has no goroutine to wake). It must not block.
	notify func()
}

func newQueue[T any]() *queue[T] { return &queue[T]{wake: make(chan struct{}, 1)} }

// offer queues v for c by its policy without waiting. It returns a non-nil event when v started a
// slow-consumer episode, for the hub to report outside the lock.
func (q *queue[T]) offer(c *consumer[T], v T, limit int) *SlowConsumer {
	var ev *SlowConsumer
	q.mu.Lock()
	if n := len(q.items); n >= limit {
		start := !q.slow
		q.slow = true
		switch c.policy {
		case policyBlock:
			// Block at a hub that never waits: the mailbox grows past its bound.
		case policyDropOldest:
			var zero T
			copy(q.items, q.items[1:])
			q.items[n-1] = zero
			q.items = q.items[:n-1]
			c.drop()
		default: // DropNewest
			c.drop()
			if start {
				ev = &SlowConsumer{Queued: n, Dropped: c.dropped.Load()}
			}
			q.mu.Unlock()
			return ev
		}
		if start {
			ev = &SlowConsumer{Queued: n, Dropped: c.dropped.Load(), Blocking: c.policy == policyBlock}
		}
	}
	q.items = append(q.items, v)
	first := len(q.items) == 1
	q.mu.Unlock()
	if first && q.notify != nil {
		q.notify()
	} else if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return ev
}

// take returns every queued value, in order, and empties the queue, which ends a slow episode.
// done is the previous batch, handed back for reuse.
func (q *queue[T]) take(done []T) []T {
	clear(done) // let the GC have what the values point to
	q.mu.Lock()
	batch := q.items
	q.slow = false // the consumer has room again: a full mailbox is a new episode
	if len(batch) == 0 {
		if q.spare == nil {
			q.spare = done[:0]
		}
		q.mu.Unlock()
		return nil
	}
	q.items = q.spare
	if q.items == nil {
		q.items = done[:0]
	}
	q.spare = nil
	q.mu.Unlock()
	return batch
}
