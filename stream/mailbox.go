package stream

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// SlowConsumer describes the start of a slow-consumer episode at a hub built with [NeverWait]: a consumer's
// mailbox was full when a value arrived, and stayed full for as long as the hub waits for room (see
// [WaitForRoom]; not at all by default), so the value was dropped, or queued past the bound by a [Block]
// consumer.
//
// An episode starts when a value finds the mailbox full, whether or not it is reported: the hub's wait for
// room is counted over the episode, so a consumer makes Emit wait at most that long in all until it catches
// up. The episode ends once the consumer's user has caught up: it has taken a value that arrived after the
// episode started (its callback was called with it, it received it from the Observe channel, or the
// stream's operators or MapHub's function discarded it), so it has taken, or lost to DropOldest, every
// value that was queued before. Values that the consumer's own goroutine took from the mailbox do not end
// it, nor values it put into the buffer of the Observe channel: they are still the consumer's. The
// goroutine notices the end when it next hands a value on or takes from the mailbox; the next full mailbox
// then starts a new episode. So a consumer that stops taking values is reported once, however long it stays
// stopped, and one that stays behind at most once per mailbox-full of values it takes or loses, never once
// per value.
type SlowConsumer struct {
	// Queued is the number of values in the consumer's mailbox when the episode was reported (its buffer
	// size), counting those its goroutine had taken from the mailbox and not yet begun to hand on.
	Queued int
	// Dropped is the number of values this consumer has lost so far at this hub, over all its episodes.
	// It is 0 for a consumer that chose [Block]: its mailbox grows instead, and nothing is dropped.
	Dropped uint64
	// Blocking tells that the consumer chose [Block]: the value was queued past the buffer size, not dropped.
	Blocking bool
	// Waited is how long Emit waited for room in this consumer's mailbox during the episode, before it
	// gave up (at most the hub's [WaitForRoom] bound, plus the scheduler's delay in waking it).
	Waited time.Duration
}

// queue is the mailbox of a consumer of a NeverWait hub: a slice under a mutex, filled by Emit without ever
// waiting, and emptied a batch at a time by the consumer's goroutine. Unlike a Go channel it allocates only
// what is queued, so a large bound costs nothing until the consumer falls behind.
//
// The consumer's goroutine takes everything queued at once (take), then claims the values of that batch
// one at a time, each just before handing it on (claim). Until it is claimed, a value of the batch is still
// queued: it counts against the bound, and DropOldest may drop it (by claiming it first). So the consumer
// holds at most its mailbox, however large its batches, plus the one value it is handing on; the goroutine
// never holds a private backlog that would let the mailbox fill a second time.
//
// Values are numbered as they are queued (in counts them): an episode records the number of the newest
// value queued when it started, so that the consumer's cursor can tell when its user has taken a value that
// arrived after (see SlowConsumer).
//
// At a hub that waits for room (WaitForRoom), Emit finding the mailbox full waits, without the lock, until
// the consumer claims a value (it closes room) or the episode's budget runs out; waiting tells the consumer
// that someone waits. Both sides write their own variable before they read the other's (Emit sets waiting,
// then reads next; the consumer advances next, then reads waiting), so one of them always sees the other:
// no wake-up is lost.
type queue[T any] struct {
	mu       sync.Mutex
	items    []T           // queued and not yet taken, oldest first: the values numbered in-len(items)+1 to in
	spare    []T           // the consumer's previous batch, reused for the next one
	in       uint64        // how many values have been queued
	batch    int           // the length of the consumer's current batch
	slow     bool          // in an episode (the mailbox was full), until the consumer's user catches up
	reported bool          // the episode was reported: a value was dropped, or queued past the bound (Block)
	start    uint64        // in when the episode started: the values numbered above it arrived after
	waited   time.Duration // how long Emit has waited for room during the episode
	gaveUp   bool          // a wait for room in this episode ended without room: Emit waits no more
	room     chan struct{} // closed by the consumer when it claims a value while Emit waits; nil: none waits
	madeAt   time.Time     // when the consumer last closed room
	wake     chan struct{} // capacity 1: signalled when items goes from empty to non-empty
	// notify, when set, is called instead of signalling wake (a consumer run by the shared workers, which
	// has no goroutine to wake). It must not block.
	notify func()

	// next is the index in the current batch of the next value to claim, by the consumer (to hand it on)
	// or by Emit (to drop it, DropOldest). It changes with every value handed on: the padding keeps it off
	// the cache lines of the fields Emit uses and of whatever is allocated next to the queue.
	_    [64]byte
	next atomic.Int64
	// waiting is set while Emit waits for room: the consumer then closes room when it claims a value.
	waiting atomic.Bool
	_       [55]byte
}

func newQueue[T any]() *queue[T] { return &queue[T]{wake: make(chan struct{}, 1)} }

// queued returns how many values are queued: those not yet taken, and those of the consumer's batch not
// yet claimed. It is called with mu held.
func (q *queue[T]) queued() int {
	n := len(q.items)
	if left := q.batch - int(q.next.Load()); left > 0 {
		n += left
	}
	return n
}

// full reports whether the mailbox has reached limit, and how many values it holds when it has. It is the
// one place that decides what "full" means; it is called with mu held.
func (q *queue[T]) full(limit int) (int, bool) {
	if len(q.items)+q.batch < limit {
		return 0, false // cannot be full, whatever the consumer has claimed: no need to read next
	}
	n := q.queued()
	return n, n >= limit
}

// dropOldest drops the oldest queued value: the first unclaimed one of the consumer's batch, else the
// first of items. It returns false when there was none (the consumer has claimed the last meanwhile). It
// is called with mu held.
func (q *queue[T]) dropOldest() bool {
	for {
		j := q.next.Load()
		if j >= int64(q.batch) {
			break
		}
		if q.next.CompareAndSwap(j, j+1) {
			return true // the consumer skips it; its slot is cleared with the batch
		}
	}
	if len(q.items) == 0 {
		return false
	}
	var zero T
	q.items[0] = zero
	q.items = q.items[1:]
	return true
}

// waits bounds how long Emit may wait for room in a full mailbox (WaitForRoom): each time, and in all
// over an episode. The zero waits never waits.
type waits struct{ each, total time.Duration }

// offer queues v for c by its policy. When the mailbox is full it first waits for room, each time for at
// most w.each and in all for what is left of the episode's w.total, or until cancel closes (then it returns
// cancelled, having queued nothing). A wait that ends without room ends the waiting for the episode. It
// returns a non-nil event when v started a slow-consumer episode, for the hub to report outside the lock.
func (q *queue[T]) offer(c *consumer[T], v T, limit int, w waits, cancel <-chan struct{}) (ev *SlowConsumer, cancelled bool) {
	q.mu.Lock()
	// A Block consumer already reported in this episode queues whatever its mailbox holds: no need to count.
	for c.policy != policyBlock || !q.slow || !q.reported {
		n, full := q.full(limit)
		if !full {
			break
		}
		if !q.slow {
			q.slow, q.start, q.waited, q.reported, q.gaveUp = true, q.in, 0, false, false
		}
		if !q.reported && !q.gaveUp && q.waited < w.total {
			switch q.waitRoom(c.gone, cancel, limit, min(w.each, w.total-q.waited)) {
			case roomLeft:
				q.mu.Unlock()
				return nil, false // the consumer has left: nobody to queue for
			case roomCancelled:
				q.mu.Unlock()
				return nil, true
			case roomNone:
				q.gaveUp = true // no more waiting in this episode
			}
			continue // look again
		}
		var keep bool
		if ev, keep = q.overflow(c, n); !keep {
			q.mu.Unlock()
			return ev, false
		}
		break
	}
	q.items = append(q.items, v)
	q.in++
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
	return ev, false
}

// What ended a wait for room.
const (
	roomMade      = iota // the consumer claimed a value: look again
	roomNone             // the wait timed out and the consumer made no room
	roomLeft             // the consumer has left
	roomCancelled        // the caller's cancel closed
)

// waitRoom waits, for at most d, until the consumer claims a value. It is called with mu held, releases it
// while it waits and takes it again before it returns. The time until the consumer made room (not until
// the waiter ran again) counts against the episode.
func (q *queue[T]) waitRoom(gone, cancel <-chan struct{}, limit int, d time.Duration) int {
	q.waiting.Store(true)
	if _, full := q.full(limit); !full {
		return roomMade // the consumer claimed one meanwhile, and may not have seen waiting
	}
	if q.room == nil {
		q.room = make(chan struct{})
	}
	room := q.room
	q.mu.Unlock()
	t0 := time.Now()
	timer := time.NewTimer(d)
	why := roomNone
	select {
	case <-room:
		why = roomMade
	case <-timer.C:
	case <-gone:
		why = roomLeft
	case <-cancel:
		why = roomCancelled
	}
	timer.Stop()
	q.mu.Lock()
	end := time.Now()
	select {
	case <-room: // closed, whatever woke the waiter first: the consumer made room at q.madeAt
		why = roomMade
		if q.madeAt.After(t0) {
			end = q.madeAt
		} else {
			end = t0
		}
	default:
	}
	q.waited += end.Sub(t0)
	return why
}

// madeRoom is called by the consumer when it has claimed a value while Emit waits for room.
func (q *queue[T]) madeRoom() {
	q.mu.Lock()
	q.waiting.Store(false)
	if q.room != nil {
		q.madeAt = time.Now()
		close(q.room)
		q.room = nil
	}
	q.mu.Unlock()
}

// overflow applies c's policy when the mailbox, holding n values, is full and the hub will not wait for
// room any longer, before a new value is queued. It returns the event of the episode when this is its first
// overflow, and whether to queue the new value (false: DropNewest dropped it). It is called with mu held,
// in an episode.
func (q *queue[T]) overflow(c *consumer[T], n int) (*SlowConsumer, bool) {
	report := !q.reported
	q.reported = true
	keep := true
	switch c.policy {
	case policyBlock:
		// Block at a hub that never waits: the mailbox grows past its bound.
	case policyDropOldest:
		if q.dropOldest() {
			c.drop()
		}
	default: // DropNewest
		c.drop()
		keep = false
	}
	if !report {
		return nil, keep
	}
	return &SlowConsumer{Queued: n, Dropped: c.dropped.Load(), Blocking: c.policy == policyBlock, Waited: q.waited}, keep
}

// noArm is cursor.armAt when the current batch cannot arm the cursor.
const noArm = math.MaxInt

// cursor is what the consumer's goroutine keeps, without a lock, to tell when its user has caught up after
// a slow-consumer episode started (see SlowConsumer). It counts the values handed on; when the consumer
// claims the first value that arrived after the episode started, the cursor is armed and remembers that
// count (mark). The user has caught up once it has taken more than mark values: they are taken in order,
// so it has then taken a value that arrived after the start.
type cursor struct {
	handed uint64 // values handed on so far: to the callback, or into the Observe channel
	mark   uint64 // handed when the cursor was armed
	armAt  int    // index in the current batch from which a claim arms the cursor; noArm: none
	armed  bool   // armed for the current episode, which has not ended yet
}

// caughtUp reports whether the user has caught up, given how many values it has taken.
func (c *cursor) caughtUp(taken int64) bool { return c.armed && taken > int64(c.mark) }

// take returns every value not yet taken, in order, as the consumer's new batch, whose values it then
// claims one at a time (claim). done is the previous batch, all claimed, handed back for reuse. taken is
// how many values the consumer's user has taken so far: when the user has caught up, take ends the
// slow-consumer episode.
func (q *queue[T]) take(done []T, cur *cursor, taken int64) []T {
	clear(done) // let the GC have what the values point to
	q.mu.Lock()
	if q.slow && cur.caughtUp(taken) {
		q.slow, cur.armed = false, false // a full mailbox is a new episode
	}
	batch := q.items
	cur.armAt = noArm
	if q.slow && !cur.armed {
		// The values of this batch are numbered from base+1; those above q.start arrived after the
		// episode started. Claiming the first of them, or the end of the batch when there is none (what
		// comes after it arrives later still), arms the cursor.
		base := q.in - uint64(len(batch))
		cur.armAt = int(max(q.start, base) - base)
	}
	q.batch = len(batch)
	q.next.Store(0)
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

// claim returns the index in the current batch, of length n, of the next value for the consumer to hand
// on, skipping those DropOldest has dropped, or n when the batch is done. last is the index the consumer
// claimed last (-1 at the start of the batch): after the batch's last index there is nothing to claim. It
// arms cur when the claim reaches a value that arrived after the current episode started, or the end of
// the batch after the last value that arrived before.
func (q *queue[T]) claim(cur *cursor, last, n int) int {
	i := n
	if last < n-1 {
		i = min(int(q.next.Add(1)-1), n)
		if q.waiting.Load() {
			q.madeRoom()
		}
	}
	if i >= cur.armAt {
		cur.armAt, cur.armed, cur.mark = noArm, true, cur.handed
	}
	return i
}

// endEpisode ends the slow-consumer episode: the consumer's user has caught up.
func (q *queue[T]) endEpisode(cur *cursor) {
	q.mu.Lock()
	q.slow = false
	q.mu.Unlock()
	cur.armed = false
}
