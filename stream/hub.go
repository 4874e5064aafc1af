package stream

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Hub is a hot multicast source: the producer side of a stream. A producer calls Emit, and every consumer
// registered at that moment receives the value through its own bounded mailbox, by its own backpressure
// policy (see Block, DropNewest, DropOldest). Consumers register by running h.Stream().
//
// The consumer list is an immutable slice behind an atomic pointer, replaced on each register/leave, so Emit
// reads it without locking. A Hub with no consumer owns no goroutine and Emit on it costs a few nanoseconds.
// The zero Hub is ready to use. All methods are safe for concurrent use; values emitted concurrently from
// several goroutines reach each consumer in some serial order.
type Hub[T any] struct {
	consumers atomic.Pointer[[]*consumer[T]] // nil when there is none
	mu        sync.Mutex                     // guards the fields below and list replacement
	completed bool
	done      chan struct{} // created on first use, closed by Complete
	err       error         // terminal error, set before done is closed
	cfg       *hubConfig
	active    bool       // last state given to OnActive, guarded by actMu
	actMu     sync.Mutex // serializes OnActive calls
	latest    *latest[T] // ReplayLatest: the last value emitted, guarded by mu; nil for other hubs
}

// latest is the value a ReplayLatest hub remembers. It lives apart from the Hub so that the many hubs that
// remember nothing (a socket has several per channel) do not carry a T each.
type latest[T any] struct {
	v   T
	set bool
}

type hubConfig struct {
	defaults  *observeConfig
	onActive  func(active bool)
	neverWait bool
	replay    bool
	onSlow    func(SlowConsumer)
	dropped   *atomic.Uint64
	wait      waits // WaitForRoom
}

// HubOption configures a Hub.
type HubOption func(*hubConfig)

// WithDefaults sets the consumer options used by consumers that do not set them themselves (mailbox size,
// policy, OnDrop). For example a hub fed by a network reader can default to DropOldest so that no consumer
// stalls the reader unless it explicitly asks for Block.
func WithDefaults(opts ...ObserveOption) HubOption {
	d := newConfig(opts) // read-only once built: hubs made with one WithDefaults value share it
	return func(c *hubConfig) { c.defaults = d }
}

// OnActive sets a callback told when the hub gains its first consumer (true) and loses its last one or
// completes (false), so a producer can start and stop work lazily. Calls are serialized and alternate. fn must
// not register or unregister consumers of this hub synchronously. Observe and Subscribe return after the
// OnActive(true) call made by their own registration has returned.
func OnActive(fn func(active bool)) HubOption {
	return func(c *hubConfig) { c.onActive = fn }
}

// ReplayLatest makes the hub remember the last value emitted: a consumer that registers receives it first,
// then every later value, so a late consumer of a state (a connection's or a channel's status) learns the
// current one and misses no change after it; a consumer that comes after Complete receives the final value,
// then ends. It implies [NeverWait]; Emit then takes the hub's lock, so that
// a registration never falls between remembering a value and delivering it. [Hub.Latest] reads it.
func ReplayLatest() HubOption {
	return func(c *hubConfig) { c.replay, c.neverWait = true, true }
}

// Latest returns the last value emitted into a hub built with [ReplayLatest]; ok is false before the first
// (and always for other hubs).
func (h *Hub[T]) Latest() (v T, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.latest == nil {
		return v, false
	}
	return h.latest.v, h.latest.set
}

// NeverWait makes Emit never wait for a consumer, whatever its policy, beyond what [WaitForRoom] allows (by
// default, not at all): the hub of a producer that must not be held up by its consumers, such as a network
// reader that also handles control traffic. Each consumer gets a mailbox that grows as needed up to its
// buffer size (WithBuffer), allocating only what is queued; when it is full, and stays full for as long as
// Emit may wait for room, the consumer is a slow consumer:
//
//   - DropNewest and DropOldest consumers lose values by their policy, counted exactly as usual. A consumer
//     that stops taking values holds at most its buffer size n in its mailbox (the values its goroutine
//     has taken from the mailbox count there until it begins to hand them on), plus the one value it is
//     handing on, plus, with Observe, the min(n, 32) values its channel buffers;
//   - a Block consumer loses nothing: its mailbox grows past its buffer size, without bound, for as long as
//     it stays behind. That memory is the cost of Block at such a hub.
//
// Either way the episode is reported to OnSlowConsumer, once, when Emit first gives up waiting for room (at
// once without WaitForRoom): the episode lasts until the consumer's user has caught up (see
// [SlowConsumer]), not merely until its goroutine has taken from the mailbox again.
func NeverWait() HubOption {
	return func(c *hubConfig) { c.neverWait = true }
}

// WaitForRoom makes Emit, at a hub built with [NeverWait], wait for room when a consumer's mailbox is
// full, before that consumer's policy applies: each time for at most each, and in all for at most total over
// a slow-consumer episode (see [SlowConsumer]), which lasts until the consumer has caught up. A wait that
// ends without room (the consumer took nothing for each), or the total spent, ends the waiting for the
// episode: from then on the consumer loses values by its policy (Block: its mailbox grows), reported once,
// and Emit does not wait for it again until it has caught up.
//
// So a consumer that falls behind for a moment and then takes its values loses nothing and is not
// reported, and a producer that reads a network connection slows its sender down instead (TCP flow
// control); a consumer that stops holds Emit up once, for at most each; and one that takes values, but
// more slowly than they come, holds Emit up for at most total per episode, that is per mailbox-full of
// values it takes. Emit waits for one consumer at a time: a value that finds k mailboxes full may wait
// for each of them. Non-positive bounds never wait; total below each is raised to each.
//
// A hub built with [ReplayLatest] does not wait: it holds its lock while it delivers.
func WaitForRoom(each, total time.Duration) HubOption {
	each = max(each, 0)
	return func(c *hubConfig) { c.wait = waits{each: each, total: max(total, each)} }
}

// OnSlowConsumer sets a callback told when a consumer of a NeverWait hub starts a slow-consumer episode (see
// [SlowConsumer]). It is called from the goroutine calling Emit, after the value was queued or dropped, so
// it must not block and must not emit into this hub.
func OnSlowConsumer(fn func(SlowConsumer)) HubOption {
	return func(c *hubConfig) { c.onSlow = fn }
}

// DropCounter makes the hub add every value its consumers drop (by their drop policies) to n, for a
// producer that keeps one total over many hubs.
func DropCounter(n *atomic.Uint64) HubOption {
	return func(c *hubConfig) { c.dropped = n }
}

// NewHub returns a Hub ready for use.
func NewHub[T any](opts ...HubOption) *Hub[T] {
	h := &Hub[T]{}
	if len(opts) > 0 {
		h.cfg = &hubConfig{}
		for _, o := range opts {
			if o != nil {
				o(h.cfg)
			}
		}
		if h.cfg.replay {
			h.latest = new(latest[T])
		}
	}
	return h
}

type consumer[T any] struct {
	ch       chan T        // the mailbox of a hub that may wait; nil at a NeverWait hub
	q        *queue[T]     // the mailbox at a NeverWait hub
	limit    int           // q's bound (the consumer's buffer size)
	gone     chan struct{} // closed when the consumer has left
	policy   policy
	dropped  atomic.Uint64
	counters *counters
	total    *atomic.Uint64 // the hub's DropCounter, if any
	keep     func(T) bool   // Where's filter, run by Emit; nil keeps everything
}

func (c *consumer[T]) drop() {
	c.dropped.Add(1)
	if c.counters != nil {
		c.counters.dropped.Add(1)
	}
	if c.total != nil {
		c.total.Add(1)
	}
}

// send delivers v by the consumer's policy. It returns false only when cancel fired while blocked.
func (c *consumer[T]) send(v T, cancel <-chan struct{}) bool {
	switch c.policy {
	case policyDropNewest:
		select {
		case c.ch <- v:
		default:
			c.drop()
		}
	case policyDropOldest:
		for {
			select {
			case c.ch <- v:
				return true
			default:
			}
			select {
			case <-c.ch:
				c.drop()
			default:
			}
		}
	default:
		select {
		case c.ch <- v:
		default:
			select {
			case c.ch <- v:
			case <-c.gone:
			case <-cancel:
				return false
			}
		}
	}
	return true
}

// Emit delivers v to every current consumer by its policy. It never blocks unless a consumer chose Block and
// its mailbox is full; it then waits until that consumer makes room or leaves. At a [NeverWait] hub it waits
// only as [WaitForRoom] allows, whatever the policy. Emit after Complete is ignored;
// an Emit concurrent with Complete may or may not be delivered. Emitting into a hub from one of its own Block
// consumers can deadlock when that consumer's mailbox is full.
func (h *Hub[T]) Emit(v T) {
	if h.cfg != nil && h.cfg.replay {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.completed {
			return
		}
		h.latest.v, h.latest.set = v, true
	}
	p := h.consumers.Load()
	if p == nil {
		return
	}
	wait := h.waitForRoom()
	for _, c := range *p {
		if c.keep != nil && !c.keep(v) {
			continue
		}
		if c.q != nil {
			if ev, _ := c.q.offer(c, v, c.limit, wait, nil); ev != nil {
				h.slow(ev)
			}
			continue
		}
		c.send(v, nil)
	}
}

// waitForRoom is how long Emit may wait for room in a NeverWait mailbox (WaitForRoom).
func (h *Hub[T]) waitForRoom() waits {
	if h.cfg == nil || h.cfg.replay {
		return waits{}
	}
	return h.cfg.wait
}

func (h *Hub[T]) slow(ev *SlowConsumer) {
	if h.cfg != nil && h.cfg.onSlow != nil {
		h.cfg.onSlow(*ev)
	}
}

// EmitContext is Emit, except that waiting on a full Block mailbox, or for room at a hub that waits for
// it ([WaitForRoom]), also ends when ctx ends; it then returns ctx.Err() and the consumers not yet served
// do not receive v.
func (h *Hub[T]) EmitContext(ctx context.Context, v T) error {
	if h.cfg != nil && h.cfg.replay {
		h.Emit(v) // never waits
		return nil
	}
	p := h.consumers.Load()
	if p == nil {
		return nil
	}
	done := ctx.Done()
	wait := h.waitForRoom()
	for _, c := range *p {
		if c.keep != nil && !c.keep(v) {
			continue
		}
		if c.q != nil {
			ev, cancelled := c.q.offer(c, v, c.limit, wait, done)
			if ev != nil {
				h.slow(ev)
			}
			if cancelled {
				return ctx.Err()
			}
			continue
		}
		if !c.send(v, done) {
			return ctx.Err()
		}
	}
	return nil
}

// Complete ends the hub: every consumer receives the values already in its mailbox, then its stream ends with
// err (nil = completed, non-nil = failed). Consumers that register later end at once the same way. Only the
// first call has an effect.
func (h *Hub[T]) Complete(err error) {
	h.mu.Lock()
	if h.completed {
		h.mu.Unlock()
		return
	}
	h.completed, h.err = true, err
	if h.done == nil {
		h.done = make(chan struct{})
	}
	close(h.done)
	p := h.consumers.Load()
	h.consumers.Store(nil)
	h.mu.Unlock()
	if p != nil {
		for _, c := range *p {
			if c.q != nil && c.q.notify != nil {
				c.q.notify() // a consumer run by the shared workers learns of the end this way
			}
		}
	}
	h.notifyActive()
}

// Completed reports whether Complete has been called.
func (h *Hub[T]) Completed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.completed
}

// Consumers returns the number of registered consumers.
func (h *Hub[T]) Consumers() int {
	if p := h.consumers.Load(); p != nil {
		return len(*p)
	}
	return 0
}

// Stream returns the hot stream of the hub's values. Each run registers a new consumer whose mailbox
// settings come from the options in its context (given to Observe or Subscribe), else from the hub's
// WithDefaults, else Block with DefaultBuffer. The run delivers the values emitted after registration, and
// ends when the hub completes (after delivering its queued values), when emit returns false, or when ctx ends
// (returning ctx.Err()).
//
// The stream declares one Hub registration (Hubs returns 1): Observe and Subscribe return only once the
// consumer is registered, so every value emitted after they return reaches it.
func (h *Hub[T]) Stream() Stream[T] {
	return Stream[T]{run: h.run, hubs: 1}
}

// Where returns the hot stream of the hub's values for which keep returns true. keep runs on the
// producer's goroutine (in Emit), before the value reaches the consumer's mailbox: a consumer that wants
// few of the hub's values neither queues nor is woken for the others, so they cannot make it a slow
// consumer. keep must be cheap, must not block and must not call the hub. Otherwise Where is [Hub.Stream].
func (h *Hub[T]) Where(keep func(T) bool) Stream[T] {
	if keep == nil {
		return h.Stream()
	}
	return Stream[T]{run: func(ctx context.Context, emit func(T) bool) error { return h.runWhere(ctx, emit, keep) }, hubs: 1}
}

func (h *Hub[T]) run(ctx context.Context, emit func(T) bool) error { return h.runWhere(ctx, emit, nil) }

func (h *Hub[T]) runWhere(ctx context.Context, emit func(T) bool, keep func(T) bool) error {
	if err := ctx.Err(); err != nil {
		reportReady(ctx) // settled: this run will never register
		return err
	}
	var defaults *observeConfig
	if h.cfg != nil {
		defaults = h.cfg.defaults
	}
	buffer, pol, onDrop, ctr := merge(configFrom(ctx), defaults)
	c := &consumer[T]{gone: make(chan struct{}), policy: pol, counters: ctr, limit: buffer, keep: keep}
	if h.cfg != nil {
		c.total = h.cfg.dropped
	}
	if h.cfg != nil && h.cfg.neverWait {
		c.q = newQueue[T]()
	} else {
		c.ch = make(chan T, buffer)
	}

	done, err, ok := h.register(c)
	if !ok {
		reportReady(ctx) // the hub has completed: nothing to miss
		if h.cfg != nil && h.cfg.replay {
			if v, has := h.Latest(); has && (keep == nil || keep(v)) && !emit(v) {
				return nil // the final value, to a consumer that came after the end
			}
		}
		return err
	}
	h.notifyActive()
	reportReady(ctx) // registered, and OnActive has been told
	defer h.unregister(c)

	var reported uint64
	report := func() {
		if d := c.dropped.Load(); d != reported {
			onDrop(d - reported)
			reported = d
		}
	}
	if onDrop != nil {
		defer report()
	}
	deliver := func(v T) bool {
		if onDrop != nil {
			report()
		}
		return emit(v)
	}

	ctxDone := ctx.Done()
	if c.q != nil {
		var pending func() int
		if cfg := configFrom(ctx); cfg != nil {
			pending = cfg.pending
		}
		return h.drain(ctx, c.q, done, deliver, pending)
	}
	for {
		select {
		case v := <-c.ch:
			if !deliver(v) {
				return nil
			}
		case <-ctxDone:
			return ctx.Err()
		case <-done:
			for {
				select {
				case v := <-c.ch:
					if !deliver(v) {
						return nil
					}
				case <-ctxDone:
					return ctx.Err()
				default:
					return h.err // written before done was closed
				}
			}
		}
	}
}

// drain is the consumer loop of a NeverWait hub: it takes its mailbox a batch at a time and hands the values
// on one by one. pending, when the consumer reads an Observe channel, tells how many of the values handed
// on wait in it; nil for a callback.
func (h *Hub[T]) drain(ctx context.Context, q *queue[T], done chan struct{}, deliver func(T) bool, pending func() int) error {
	ctxDone := ctx.Done()
	var batch []T
	var cur cursor
	// taken is how many values the user has taken. A callback takes a value when it is called with it:
	// next is 1 for the value about to be handed on. A value handed into the channel is taken when the
	// user receives it.
	taken := func(next int64) int64 {
		if pending != nil {
			return int64(cur.handed) - int64(pending())
		}
		return int64(cur.handed) + next
	}
	hand := func() bool {
		for last := -1; ; {
			i := q.claim(&cur, last, len(batch))
			if i == len(batch) {
				return true
			}
			last = i
			if cur.armed && cur.caughtUp(taken(1)) {
				q.endEpisode(&cur)
			}
			if !deliver(batch[i]) {
				return false
			}
			cur.handed++
		}
	}
	for {
		batch = q.take(batch, &cur, taken(0))
		if len(batch) > 0 {
			if !hand() {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		select {
		case <-q.wake:
		case <-ctxDone:
			return ctx.Err()
		case <-done:
			for {
				batch = q.take(batch, &cur, taken(0))
				if len(batch) == 0 {
					return h.err // written before done was closed
				}
				if !hand() {
					return nil
				}
			}
		}
	}
}

// register adds c to the consumers; the caller then calls notifyActive. ok is false when the hub has completed.
func (h *Hub[T]) register(c *consumer[T]) (done chan struct{}, err error, ok bool) {
	h.mu.Lock()
	if h.completed {
		err = h.err
		h.mu.Unlock()
		return nil, err, false
	}
	if h.done == nil {
		h.done = make(chan struct{})
	}
	var list []*consumer[T]
	if p := h.consumers.Load(); p != nil {
		list = make([]*consumer[T], len(*p), len(*p)+1)
		copy(list, *p)
	}
	list = append(list, c)
	h.consumers.Store(&list)
	if l := h.latest; l != nil && l.set && c.q != nil && (c.keep == nil || c.keep(l.v)) {
		c.q.offer(c, l.v, c.limit, waits{}, nil) // ReplayLatest: the current value first, under the lock Emit takes
	}
	done = h.done
	h.mu.Unlock()
	return done, nil, true
}

func (h *Hub[T]) unregister(c *consumer[T]) {
	h.mu.Lock()
	if p := h.consumers.Load(); p != nil {
		if i := slices.Index(*p, c); i >= 0 {
			if len(*p) == 1 {
				h.consumers.Store(nil)
			} else {
				list := make([]*consumer[T], 0, len(*p)-1)
				list = append(list, (*p)[:i]...)
				list = append(list, (*p)[i+1:]...)
				h.consumers.Store(&list)
			}
		}
	}
	h.mu.Unlock()
	close(c.gone)
	h.notifyActive()
}

func (h *Hub[T]) notifyActive() {
	if h.cfg == nil || h.cfg.onActive == nil {
		return
	}
	h.actMu.Lock()
	defer h.actMu.Unlock()
	active := h.Consumers() > 0
	if active != h.active {
		h.active = active
		h.cfg.onActive(active)
	}
}
