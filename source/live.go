package source

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
)

// Live queries (Live): the rows of a table that a binding selects, loaded
// once the channel is subscribed and after every rejoin or gap, and kept
// current between loads by the binding's changes.

// Loader reads the rows of a live query's table that its binding selects
// (for instance over PostgREST: GET /rest/v1/<table>?select=*&col=eq.v;
// package source/supabase has one). ctx ends when the load is no longer
// wanted (the channel dropped, the query ended): a loader must return
// then. Rows are keyed as the query keys them; of two with the same key
// the later one is kept.
type Loader[T any] func(ctx context.Context) ([]T, error)

// DefaultLiveResync is how often a live query reloads while nothing else
// made it (see [WithLiveResync]): never.
const DefaultLiveResync time.Duration = 0

// LiveOption configures a live query ([Live]).
type LiveOption func(*liveConfig)

type liveConfig struct {
	backoff operators.Backoff
	buffer  int
	resync  time.Duration
}

// WithLiveBackoff sets the delays between a failed load and the next
// (default [DefaultRejoinBackoff]: 1 s, 2 s, 5 s, then 10 s).
func WithLiveBackoff(b operators.Backoff) LiveOption {
	return func(c *liveConfig) { c.backoff = b }
}

// WithLiveBuffer sets the mailbox of the query's own consumer of its
// binding's changes (default [DefaultStreamBuffer]). Past it the socket
// drops changes for the query, as for any slow consumer, and the query
// loads the table again: a gap.
func WithLiveBuffer(n int) LiveOption {
	return func(c *liveConfig) { c.buffer = n }
}

// WithLiveResync makes the query load the table again every d while it
// is synced, besides after rejoins and gaps (default [DefaultLiveResync]:
// never). It is for what a binding's changes cannot tell: with a filter,
// an UPDATE that moves a row out of the filter, and a DELETE whose old row
// holds only the primary key (no REPLICA IDENTITY FULL), do not match it
// and never arrive. A resync does not unsync the view: changes keep being
// applied while it loads.
func WithLiveResync(d time.Duration) LiveOption {
	return func(c *liveConfig) { c.resync = d }
}

// LiveState is a live query's view of its table.
type LiveState[K comparable, T any] struct {
	// Rows are the rows by key. The map is never modified once emitted:
	// consumers may keep it.
	Rows map[K]T
	// Synced reports a view known to follow the server: loaded, and every
	// change since applied. It is false before the first load, and from a
	// drop of the channel, or a gap in its changes, until the load that
	// follows has been reconciled.
	Synced bool
	// Loads counts the loads reconciled into the view so far.
	Loads int
	// At is when the view took this state.
	At time.Time
}

// LiveQuery is the running live query of [Live]: its state and
// differences as hot streams. It ends when its context ends or its channel
// is closed for good (or its client closes).
type LiveQuery[K comparable, T any] struct {
	states *stream.Hub[LiveState[K, T]]
	diffs  *stream.Hub[postgres.Diff[K, T]]
	done   chan struct{}
	err    error // why it ended; set before done is closed
}

// Live starts a live query on ch: the rows of b's table that b selects,
// keyed by key, never stale. Whenever ch becomes SUBSCRIBED — the first
// join and every rejoin after a reconnect, a server error or a token
// expiry — it loads the rows with load and reconciles them with its view;
// between loads it applies b's changes. The result is a view that equals
// the server's table whenever it is [LiveState.Synced], emitted as typed
// streams: [LiveQuery.States] (the whole view) and [LiveQuery.Diffs] (each
// row inserted, updated or deleted, in the order the view changed).
//
// How a load and the changes meet: a load starts once ch is SUBSCRIBED,
// when the server's subscription to the table is up (so ch must wait for
// it: [WithWaitForPostgres] or [WithPostgresChangesWait]), and every
// change committed after it began reaches the query. Those that arrive
// while the load runs are kept, and applied to the current view at once
// (but for the first load: until it returns the view stays empty); when
// the load returns, they are applied in order (the server sends
// a binding's changes in commit order) to the rows it read, and the
// result replaces the view. A
// change the rows already hold makes no difference the second time
// ([postgres.View.Apply]: changes are row writes, and a change older than
// the last one applied to its key, by commit timestamp, is skipped), so
// nothing is duplicated; the differences between the old view and the
// new one are emitted once, as Diffs with a zero CommitTimestamp.
//
// A gap reloads too: the query's mailbox overflowed (a slow consumer, see
// [WithLiveBuffer]), or a change arrived without its values (the server's
// "Error 413", values over 64 bytes dropped). A gap during a load is
// reconciled by another load after it. A load that fails is reported as a
// [*LiveLoadError] and tried again with backoff ([WithLiveBackoff]).
//
// b must be a binding of ch (else the error wraps [ErrUnknownBinding]) of
// one table, receiving every event (Event [postgres.All] or empty); key
// must read only primary-key fields. load must read the rows b selects:
// the same table and filter, and with [postgres.Binding.Select] the same
// columns, key included. Live may be called before or after
// [Channel.Subscribe]. Errors are returned at once for a configuration
// that cannot work, wrapping [ErrInvalidChannel] or [ErrInvalidOption].
//
// The query owns one goroutine, and one per load in flight; they end with
// ctx or the channel. The view is copied once per change that changes it:
// fine for the tables a client shows (a room, a board), not for millions
// of rows.
func Live[K comparable, T any](ctx context.Context, ch *Channel, b TypedBinding[T], key func(T) K, load Loader[T], opts ...LiveOption) (*LiveQuery[K, T], error) {
	cfg := liveConfig{backoff: DefaultRejoinBackoff, buffer: DefaultStreamBuffer}
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkLive(ch, b.binding, key == nil, load == nil, &cfg); err != nil {
		return nil, err
	}
	if _, err := bindingIndex(ch, b.binding); err != nil {
		return nil, err
	}
	q := &LiveQuery[K, T]{
		states: stream.NewHub[LiveState[K, T]](stream.ReplayLatest(),
			stream.WithDefaults(stream.DropOldest(), stream.WithBuffer(sideBuffer)), stream.DropCounter(&ch.ev.dropped)),
		diffs: hub[postgres.Diff[K, T]](ch.ev, ch.topic),
		done:  make(chan struct{}),
	}
	ctx, stop := context.WithCancel(ctx)
	gaps := make(chan struct{}, 1)
	ended := make(chan error, 1)
	changes := b.Changes(ch).Observe(ctx, stream.DropNewest(), stream.WithBuffer(cfg.buffer),
		stream.OnDrop(func(uint64) { signal(gaps) }),
		stream.OnError(func(err error) { ended <- err }))
	statuses := ch.Statuses().Observe(ctx)
	r := &liveRun[K, T]{
		q: q, ctx: ctx, stop: stop, load: load, key: key, cfg: cfg, topic: ch.topic, ev: ch.ev, sec: ch.sec,
		table:   tableName(b.binding),
		view:    postgres.NewView(key, nil),
		results: make(chan liveLoaded[T]),
	}
	r.publish()
	go func() {
		err := r.loop(changes, statuses, gaps, ended)
		r.unsync() // the last state: no longer following the server
		q.end(err)
	}()
	return q, nil
}

// checkLive refuses a live query that cannot work.
func checkLive(ch *Channel, b postgres.Binding, noKey, noLoad bool, cfg *liveConfig) error {
	switch {
	case ch == nil:
		return fmt.Errorf("%w: Live: nil channel", ErrInvalidChannel)
	case noKey:
		return fmt.Errorf("%w Live: nil key function", ErrInvalidOption)
	case noLoad:
		return fmt.Errorf("%w Live: nil loader", ErrInvalidOption)
	case cfg.backoff == nil:
		return fmt.Errorf("%w WithLiveBackoff: nil backoff", ErrInvalidOption)
	case cfg.buffer < 1:
		return fmt.Errorf("%w WithLiveBuffer: %d is not positive", ErrInvalidOption, cfg.buffer)
	case cfg.resync < 0:
		return fmt.Errorf("%w WithLiveResync: %v is negative", ErrInvalidOption, cfg.resync)
	case !ch.cfg.waitForPostgres && !ch.cfg.pgWait:
		return fmt.Errorf("%w: a live query needs a channel that waits for its postgres_changes subscription "+
			"(WithWaitForPostgres or WithPostgresChangesWait): without, a load could miss changes made before it is up", ErrInvalidChannel)
	case b.Table == "" || b.Table == "*":
		return fmt.Errorf("%w: a live query needs a binding of one table, not %q", ErrInvalidChannel, b.Table)
	case !b.Event.Matches(postgres.Insert) || !b.Event.Matches(postgres.Update) || !b.Event.Matches(postgres.Delete):
		return fmt.Errorf("%w: a live query needs a binding of every event, not %s", ErrInvalidChannel, b.Event)
	}
	return nil
}

// tableName is "schema.table" for a binding of one table.
func tableName(b postgres.Binding) string {
	schema := b.Schema
	if schema == "" {
		schema = "public"
	}
	return schema + "." + b.Table
}

// signal wakes whoever waits on c, without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// States is the hot stream of the query's view: the whole table after
// every change that changed it, every load, and every loss of sync. A
// consumer first receives the current state, then every later one; one
// that does not keep up loses the oldest past 64 queued. It ends when the
// query does, with the channel's reason (see [Channel.Err]).
func (q *LiveQuery[K, T]) States() stream.Stream[LiveState[K, T]] { return q.states.Stream() }

// Diffs is the hot stream of the view's differences, in the order the view
// changed: applied in order to the view they started from, they give the
// current one (the first load's are Inserts into an empty view). A
// difference a change made carries its commit timestamp; one a load found
// carries none. Consumers drop the newest past [DefaultStreamBuffer] queued
// unless they chose otherwise, as for the channel's streams. It ends when
// the query does.
func (q *LiveQuery[K, T]) Diffs() stream.Stream[postgres.Diff[K, T]] { return q.diffs.Stream() }

// State returns the current view. ok is always true: [Live] emits an
// empty, unsynced view before it returns.
func (q *LiveQuery[K, T]) State() (s LiveState[K, T], ok bool) { return q.states.Latest() }

// WaitSynced waits until the view is synced (now or later) and returns
// it. It fails with an error wrapping [ErrChannelClosed] when the query
// ends first, or with ctx's error.
func (q *LiveQuery[K, T]) WaitSynced(ctx context.Context) (LiveState[K, T], error) {
	var last LiveState[K, T]
	for s, err := range q.States().All2(ctx) {
		if err != nil {
			if ctx.Err() != nil {
				return last, ctx.Err()
			}
			return last, fmt.Errorf("%w: live query ended: %w", ErrChannelClosed, err)
		}
		if last = s; s.Synced {
			return s, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return last, err
	}
	return last, fmt.Errorf("%w: live query ended", ErrChannelClosed)
}

// Done is closed when the query has ended and its streams are complete
// (the last state is not synced).
func (q *LiveQuery[K, T]) Done() <-chan struct{} { return q.done }

// Err is why the query ended: nil while it runs, after its context ended,
// and after [Channel.Unsubscribe] or [Client.Close]; the channel's reason
// after a server-side close (see [Channel.Err]).
func (q *LiveQuery[K, T]) Err() error {
	select {
	case <-q.done:
		return q.err
	default:
		return nil
	}
}

// end completes the query's streams with err.
func (q *LiveQuery[K, T]) end(err error) {
	q.err = err
	q.diffs.Complete(err)
	q.states.Complete(err)
	close(q.done)
}

// liveLoaded is the outcome of one load.
type liveLoaded[T any] struct {
	gen  uint64
	rows []T
	err  error
}

// liveRun is a live query's goroutine and everything it owns.
type liveRun[K comparable, T any] struct {
	q     *LiveQuery[K, T]
	ctx   context.Context
	stop  context.CancelFunc // ends ctx: the query's consumers and loads
	load  Loader[T]
	key   func(T) K
	cfg   liveConfig
	topic string
	table string
	ev    *events
	sec   *secrets

	view   *postgres.View[K, T]
	synced bool
	loads  int
	diffs  []postgres.Diff[K, T]

	// up: the last status seen is SUBSCRIBED. loading: a load is in
	// flight (gen numbers it); the changes that arrive meanwhile are kept
	// in buf for it. dirty: a gap happened during that load, so another
	// load follows it. retry: the wait after a failed load.
	up, loading, dirty bool
	gen                uint64
	buf                []postgres.Change[T]
	cancelLoad         context.CancelFunc
	results            chan liveLoaded[T]
	wg                 sync.WaitGroup
	attempt            int
	retry              *time.Timer
}

// loop runs the query until its context ends (nil) or its changes end
// (the channel's reason).
func (r *liveRun[K, T]) loop(changes <-chan postgres.Change[T], statuses <-chan StatusEvent, gaps <-chan struct{}, ended <-chan error) error {
	defer r.wg.Wait() // after stop: a load's goroutine gives up its result when ctx ends
	defer r.stop()
	defer r.stopLoad()
	var resync <-chan time.Time
	if r.cfg.resync > 0 {
		t := time.NewTicker(r.cfg.resync)
		defer t.Stop()
		resync = t.C
	}
	for {
		var retry <-chan time.Time
		if r.retry != nil {
			retry = r.retry.C
		}
		select {
		case <-r.ctx.Done():
			return nil
		case c, ok := <-changes:
			if !ok {
				select {
				case err := <-ended:
					return err
				default:
					return nil
				}
			}
			r.change(c)
		case st, ok := <-statuses:
			if !ok {
				statuses = nil // the final CLOSED: the changes end too
				continue
			}
			r.status(st)
		case <-gaps:
			r.gap()
		case res := <-r.results:
			r.loaded(res)
		case <-retry:
			r.retry = nil
			r.startLoad()
		case <-resync:
			if r.up && r.synced && !r.loading && r.retry == nil {
				r.startLoad()
			}
		}
	}
}

// change applies a change to the view (once loaded), and keeps it for the
// load in flight.
func (r *liveRun[K, T]) change(c postgres.Change[T]) {
	if len(c.Errors) > 0 {
		// The row is not all there: a 413 dropped its large values (reload to
		// read them); other errors (401, 400 for a table without a primary
		// key) carry nothing to apply.
		for _, e := range c.Errors {
			if strings.HasPrefix(e, "Error 413") {
				r.gap()
				break
			}
		}
		return
	}
	if r.loading {
		r.buf = append(r.buf, c)
	}
	if r.loads == 0 {
		return // before the first load the view is empty: a row here and there would not be the table
	}
	if r.diffs = r.view.Apply(c, r.diffs[:0]); len(r.diffs) > 0 {
		r.publish()
	}
}

// status follows the channel: every SUBSCRIBED loads, anything else
// unsyncs the view until the next.
func (r *liveRun[K, T]) status(st StatusEvent) {
	if st.Status == StatusSubscribed {
		r.up = true
		r.startLoad()
		return
	}
	r.up = false
	r.stopLoad()
	r.unsync()
}

// gap makes the view stale: it loads again, after the load in flight if
// there is one.
func (r *liveRun[K, T]) gap() {
	r.unsync()
	switch {
	case !r.up, r.retry != nil: // the next SUBSCRIBED, or the retry, loads
	case r.loading:
		r.dirty = true
	default:
		r.startLoad()
	}
}

// startLoad starts a load, ending the one in flight. Every change committed
// after this point reaches the query while the channel stays subscribed.
func (r *liveRun[K, T]) startLoad() {
	r.stopLoad()
	r.gen++
	r.loading = true
	ctx, cancel := context.WithCancel(r.ctx)
	r.cancelLoad = cancel
	gen, load := r.gen, r.load
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		rows, err := callLoader(ctx, load)
		select {
		case r.results <- liveLoaded[T]{gen: gen, rows: rows, err: err}:
		case <-r.ctx.Done():
		}
	}()
}

// stopLoad abandons the load in flight and the retry wait.
func (r *liveRun[K, T]) stopLoad() {
	if r.cancelLoad != nil {
		r.cancelLoad()
		r.cancelLoad = nil
	}
	if r.retry != nil {
		r.retry.Stop()
		r.retry = nil
	}
	r.loading, r.dirty, r.buf = false, false, nil
}

// callLoader runs load, turning a panic into an error.
func callLoader[T any](ctx context.Context, load Loader[T]) (rows []T, err error) {
	defer func() {
		if p := recover(); p != nil {
			rows, err = nil, fmt.Errorf("rxrealtime: live query loader panicked: %v", p)
		}
	}()
	return load(ctx)
}

// loaded reconciles the view with a load's rows, or schedules another try.
func (r *liveRun[K, T]) loaded(res liveLoaded[T]) {
	if res.gen != r.gen || !r.loading {
		return // abandoned
	}
	buf, dirty := r.buf, r.dirty
	r.stopLoad()
	if res.err != nil {
		r.attempt++
		wait := r.cfg.backoff.Next(r.attempt)
		r.ev.report(&LiveLoadError{Topic: r.topic, Table: r.table, Attempt: r.attempt, Retry: wait, Err: res.err,
			text: r.sec.redact(res.err.Error())})
		r.retry = time.NewTimer(wait)
		return
	}
	r.attempt = 0
	next := postgres.NewView(r.key, res.rows)
	for _, c := range buf {
		next.Apply(c, nil)
	}
	r.diffs = r.view.Diff(next, r.diffs[:0])
	r.view = next
	r.loads++
	r.synced = !dirty
	if dirty {
		r.startLoad()
	}
	r.publish()
}

// unsync marks the view stale.
func (r *liveRun[K, T]) unsync() {
	if r.synced {
		r.synced = false
		r.diffs = r.diffs[:0]
		r.publish()
	}
}

// publish emits the differences in r.diffs, then the state.
func (r *liveRun[K, T]) publish() {
	for _, d := range r.diffs {
		r.q.diffs.Emit(d)
	}
	clear(r.diffs) // drop the rows they hold
	r.q.states.Emit(LiveState[K, T]{Rows: r.view.Rows(), Synced: r.synced, Loads: r.loads, At: time.Now()})
}
