package source

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
)

// Pool defaults.
const (
	// DefaultChannelsPerSocket is how many channels a [Pool] puts on one
	// socket: Supabase's max_channels_per_client default.
	DefaultChannelsPerSocket = 100
	// DefaultPoolJoinRate and DefaultPoolJoinBurst pace a pool's joins when
	// no [WithJoinRate] or [WithJoinLimiter] is given: at most
	// 100 + 60 × 90 = 5,500 joins in any minute, under the 6,000 of
	// Supabase's default max_joins_per_second (100, averaged over a
	// minute).
	DefaultPoolJoinRate  = 90
	DefaultPoolJoinBurst = 100
)

// WithChannelsPerSocket sets how many channels a [Pool] puts on one socket
// before it opens another (default [DefaultChannelsPerSocket]). It is
// ignored by [New]. n must be positive.
func WithChannelsPerSocket(n int) Option {
	return func(c *config) {
		if n <= 0 {
			c.fail("WithChannelsPerSocket", "%d channels per socket is not positive", n)
			return
		}
		c.channelsPerSocket = n
	}
}

// Pool is one logical client spread over several sockets, for more channels
// than the server takes on one connection (Supabase's
// max_channels_per_client, 100 by default). Each socket is an ordinary
// [*Client], with its own heartbeat and reconnect; [Pool.Channel] returns an
// ordinary [*Channel] on a socket with room, opening a new socket when all
// are full, so every typed stream ([Changes], [Broadcasts], Statuses...)
// works unchanged. A dropped socket reconnects and rejoins only its own
// channels.
//
// A socket is full when it holds [WithChannelsPerSocket] live channels, or
// as soon as the server refuses one of its joins with
// "ChannelRateLimitReached: Too many channels": it then takes no new
// channel while it holds as many as it had joined (the server's limit is
// lower than the configured one). The refused channel itself stays on its
// socket and keeps rejoining with its backoff (it gets in once a channel
// of that socket leaves); a Channel never moves between sockets.
//
// All sockets share one [JoinLimiter] ([WithJoinRate], [WithJoinLimiter];
// by default [DefaultPoolJoinRate] a second after a burst of
// [DefaultPoolJoinBurst]), so the pool's joins and rejoins together stay
// under the tenant's max_joins_per_second.
//
// A Pool is safe for concurrent use.
type Pool struct {
	url       string
	opts      []Option
	perSocket int
	limiter   *JoinLimiter
	onError   func(error) // the user's error handler, chained

	mu      sync.Mutex
	socks   []*poolSocket
	topics  map[string]*Channel // the channels Channel and Share made (a shared one's join), by topic; one closed for good frees its topic
	pruneAt int                 // topics' size at which the channels closed for good are dropped from it
	started bool
	closed  bool
	added   chan struct{} // closed and replaced when a socket is added
	done    chan struct{} // closed by Close
}

type poolSocket struct {
	index int
	c     *Client
	// capacity is the number of channels the socket takes; lowered when
	// the server refuses a join with "Too many channels". Guarded by
	// Pool.mu.
	capacity int
	// chans are the channels Pool.Channel made on the socket, those closed
	// for good pruned by live. Guarded by Pool.mu.
	chans []*Channel
}

// live returns how many of the channels the pool made on s are not closed
// for good, and forgets the others. Pool.mu held. It is what Client.Stats
// counts as Channels for a socket only the pool adds channels to, without
// the rest of a Stats snapshot.
func (s *poolSocket) live() int {
	n := 0
	for _, ch := range s.chans {
		select {
		case <-ch.Done():
		default:
			s.chans[n] = ch
			n++
		}
	}
	clear(s.chans[n:])
	s.chans = s.chans[:n]
	return n
}

// NewPool returns a pool for rawURL (see [New]) whose sockets are made with
// opts, plus the pool's [WithChannelsPerSocket]. Its first socket is made at
// once (so an invalid option or URL fails here) but nothing is dialled until
// [Pool.Connect].
func NewPool(rawURL string, opts ...Option) (*Pool, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	p := &Pool{
		url:       rawURL,
		perSocket: cfg.channelsPerSocket,
		limiter:   cfg.joinLimiter,
		onError:   cfg.onError,
		added:     make(chan struct{}),
		done:      make(chan struct{}),
	}
	if p.perSocket == 0 {
		p.perSocket = DefaultChannelsPerSocket
	}
	p.opts = append([]Option(nil), opts...)
	if p.limiter == nil {
		p.limiter, _ = NewJoinLimiter(DefaultPoolJoinRate, DefaultPoolJoinBurst)
		p.opts = append(p.opts, WithJoinLimiter(p.limiter))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.addSocketLocked(); err != nil {
		return nil, err
	}
	return p, nil
}

// ConnectPool is [NewPool] followed by [Pool.Connect]; on failure the pool
// is closed.
func ConnectPool(ctx context.Context, rawURL string, opts ...Option) (*Pool, error) {
	p, err := NewPool(rawURL, opts...)
	if err != nil {
		return nil, err
	}
	if err := p.Connect(ctx); err != nil {
		// Bounded, as Connect's: a server that stopped answering must not hold the caller.
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = p.Close(closeCtx)
		return nil, err
	}
	return p, nil
}

// Connect starts every socket and waits until each has opened (see
// [Client.Connect]). Sockets opened later by [Pool.Channel] are started at
// once, without waiting: their channels join when they open.
func (p *Pool) Connect(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.started = true
	socks := append([]*poolSocket(nil), p.socks...)
	p.mu.Unlock()
	for _, s := range socks {
		if err := s.c.Connect(ctx); err != nil {
			return fmt.Errorf("rxrealtime: pool socket %d: %w", s.index, err)
		}
	}
	return nil
}

// addSocketLocked makes a new socket, started if the pool is. p.mu held.
func (p *Pool) addSocketLocked() (*poolSocket, error) {
	s := &poolSocket{index: len(p.socks), capacity: p.perSocket}
	opts := append(p.opts[:len(p.opts):len(p.opts)], WithErrorHandler(func(err error) {
		p.socketError(s, err)
		if p.onError != nil {
			p.onError(err)
		}
	}))
	c, err := New(p.url, opts...)
	if err != nil {
		return nil, err
	}
	s.c = c
	if p.started {
		_ = c.Start() // its channels join when it opens
	}
	p.socks = append(p.socks, s)
	close(p.added)
	p.added = make(chan struct{})
	return s, nil
}

// socketError watches a socket's errors for the server's channel limit.
func (p *Pool) socketError(s *poolSocket, err error) {
	var je *JoinError
	if !errors.As(err, &je) || je.Code != "ChannelRateLimitReached" {
		return
	}
	joined := joinedChannels(s.c)
	p.mu.Lock()
	if joined < s.capacity {
		s.capacity = max(joined, 1)
	}
	p.mu.Unlock()
}

// joinedChannels counts the channels of c that are SUBSCRIBED now (a shared channel once).
func joinedChannels(c *Client) int {
	n := 0
	for _, ch := range c.reg.joins() {
		if st, ok := ch.Status(); ok && st.Status == StatusSubscribed {
			n++
		}
	}
	return n
}

// Channel creates the channel "realtime:<name>" (see [Client.Channel]) on
// the first socket with room, opening a new socket when every socket is
// full. Names are unique across the pool: a second live channel of the
// same topic fails with [ErrDuplicateChannel], whatever its socket.
func (p *Pool) Channel(name string, opts ...ChannelOption) (*Channel, error) {
	return p.channel(name, false, opts)
}

// Share returns a holder of the shared channel "realtime:<name>" (see
// [Client.Share]): on the socket that has it when it is live, else on the
// first socket with room, as [Pool.Channel] does. A shared channel counts
// once against a socket's room, whatever its holders. A topic is shared or
// not across the pool: Share of a topic that [Pool.Channel] made fails
// with [ErrDuplicateChannel], and the other way round.
func (p *Pool) Share(name string, opts ...ChannelOption) (*Channel, error) {
	return p.channel(name, true, opts)
}

// channel is Channel, or Share when share is set.
func (p *Pool) channel(name string, share bool, opts []ChannelOption) (*Channel, error) {
	topic := name
	if !strings.HasPrefix(topic, "realtime:") {
		topic = "realtime:" + name
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if ch := p.topics[topic]; ch != nil {
		select {
		case <-ch.Done():
		default:
			if !share {
				return nil, fmt.Errorf("%w: %s", ErrDuplicateChannel, topic)
			}
			// On the socket that has it, which says why it cannot be shared, if it cannot.
			return ch.host.(*Client).Share(name, opts...)
		}
	}
	var room *poolSocket
	for _, s := range p.socks {
		if s.live() < s.capacity {
			room = s
			break
		}
	}
	if room == nil {
		s, err := p.addSocketLocked()
		if err != nil {
			return nil, err
		}
		room = s
	}
	create := room.c.Channel
	if share {
		create = room.c.Share
	}
	ch, err := create(name, opts...)
	if err != nil {
		return nil, err
	}
	room.chans = append(room.chans, ch)
	if p.topics == nil {
		p.topics = make(map[string]*Channel)
	}
	p.topics[topic] = ch.joinOf()   // a shared channel's join, which outlives its holders
	if len(p.topics) >= p.pruneAt { // amortized: the map holds at most twice the live channels
		for t, c := range p.topics {
			select {
			case <-c.Done():
				delete(p.topics, t)
			default:
			}
		}
		p.pruneAt = max(2*len(p.topics), 64)
	}
	return ch, nil
}

// PoolStats is a snapshot of a [Pool]'s counters and gauges: the pool as
// one client, and each socket on its own.
type PoolStats struct {
	// Stats is the pool as one client: every counter and gauge summed over
	// the sockets (Channels and ChannelStatuses included; Traffic by topic
	// and event). Its State is StateOpen when every socket is open, else
	// the state of the first socket (in [Pool.Sockets] order) that is not.
	Stats
	// Sockets are the sockets' own figures, in [Pool.Sockets] order: what a
	// metrics exporter reports per socket (its state, say).
	Sockets []Stats
}

// Stats returns a snapshot of the pool's counters and gauges (see
// [Client.Stats]), summed over its sockets and socket by socket. It is
// safe to call from a metrics collector at any time; its cost grows with
// the number of sockets and channels.
func (p *Pool) Stats() PoolStats {
	socks := p.Sockets()
	ps := PoolStats{Sockets: make([]Stats, len(socks))}
	ps.State = StateOpen
	for i, c := range socks {
		st := c.Stats()
		ps.Sockets[i] = st
		addStats(&ps.Stats, &st)
	}
	return ps
}

// addStats adds s's counters and gauges to sum; sum's State becomes s's
// unless sum's is already other than StateOpen.
func addStats(sum, s *Stats) {
	sum.FramesIn += s.FramesIn
	sum.BytesIn += s.BytesIn
	sum.FramesOut += s.FramesOut
	sum.BytesOut += s.BytesOut
	sum.DecodeErrors += s.DecodeErrors
	sum.Dropped += s.Dropped
	sum.SlowConsumers += s.SlowConsumers
	sum.Reconnects += s.Reconnects
	sum.PushTimeouts += s.PushTimeouts
	sum.OfflineBuffer += s.OfflineBuffer
	sum.Channels += s.Channels
	for i, n := range s.ChannelStatuses {
		sum.ChannelStatuses[i] += n
	}
	sum.NotificationsDropped += s.NotificationsDropped
	sum.CallbackPanics += s.CallbackPanics
	if sum.State == StateOpen {
		sum.State = s.State
	}
	sum.Traffic = mergeTraffic(sum.Traffic, s.Traffic)
}

// mergeTraffic returns the series of a and b (each sorted by topic, then event), those of the same
// topic and event summed, in a new slice sorted the same way (nil when both are empty).
func mergeTraffic(a, b []Traffic) []Traffic {
	if len(b) == 0 {
		return a
	}
	out := make([]Traffic, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch c := cmp.Or(strings.Compare(a[0].Topic, b[0].Topic), strings.Compare(a[0].Event, b[0].Event)); {
		case c < 0:
			out, a = append(out, a[0]), a[1:]
		case c > 0:
			out, b = append(out, b[0]), b[1:]
		default:
			t := a[0]
			t.MessagesIn += b[0].MessagesIn
			t.BytesIn += b[0].BytesIn
			t.MessagesOut += b[0].MessagesOut
			t.BytesOut += b[0].BytesOut
			out, a, b = append(out, t), a[1:], b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// Sockets returns the pool's sockets, in the order they were opened.
func (p *Pool) Sockets() []*Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Client, len(p.socks))
	for i, s := range p.socks {
		out[i] = s.c
	}
	return out
}

// Close closes every socket at once (see [Client.Close]: each leaves its
// channels, waiting for the replies until ctx ends) and returns the first
// error. Later calls only wait.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.done)
	}
	socks := append([]*poolSocket(nil), p.socks...)
	p.mu.Unlock()
	errs := make([]error, len(socks))
	var wg sync.WaitGroup
	for i, s := range socks {
		wg.Go(func() { errs[i] = s.c.Close(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sockets is the cold stream of the pool's sockets: those open when it
// starts, then each new one; it completes when the pool closes.
func (p *Pool) sockets() stream.Stream[*poolSocket] {
	return stream.New(func(ctx context.Context, emit func(*poolSocket) bool) error {
		next := 0
		for {
			p.mu.Lock()
			fresh := append([]*poolSocket(nil), p.socks[next:]...)
			added, closed := p.added, p.closed
			p.mu.Unlock()
			for _, s := range fresh {
				if !emit(s) {
					return nil
				}
			}
			next += len(fresh)
			if closed {
				return nil
			}
			if len(fresh) > 0 {
				continue
			}
			select {
			case <-added:
			case <-p.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
}

// SocketStateChange is a [StateChange] of socket number Socket of a pool
// (in [Pool.Sockets] order).
type SocketStateChange struct {
	Socket int
	StateChange
}

// SocketError is an error of socket number Socket of a pool; it unwraps to
// the socket's error.
type SocketError struct {
	Socket int
	Err    error
}

// Error implements error.
func (e *SocketError) Error() string {
	return fmt.Sprintf("rxrealtime: pool socket %d: %v", e.Socket, e.Err)
}

// Unwrap returns the cause.
func (e *SocketError) Unwrap() error { return e.Err }

// States is the hot stream of every socket's state changes, sockets opened
// later included. Like every hot stream it sees only what happens after it
// is observed (for a socket opened later: after the pool's stream picked it
// up). It completes when the pool is closed and every socket has stopped.
func (p *Pool) States() stream.Stream[SocketStateChange] {
	return operators.FlatMap(p.sockets(), func(s *poolSocket) stream.Stream[SocketStateChange] {
		return operators.Map(s.c.States(), func(sc StateChange) SocketStateChange {
			return SocketStateChange{Socket: s.index, StateChange: sc}
		})
	})
}

// Errors is the hot stream of every socket's errors (see [Client.Errors]),
// each wrapped in a [*SocketError].
func (p *Pool) Errors() stream.Stream[error] {
	return operators.FlatMap(p.sockets(), func(s *poolSocket) stream.Stream[error] {
		return operators.Map(s.c.Errors(), func(err error) error {
			return &SocketError{Socket: s.index, Err: err}
		})
	})
}

// PoolAllChanges is [AllChanges] over every socket of p (sockets opened
// later included): every channel's postgres changes decoded as T, in one
// stream. Changes of one socket keep their order; those of different
// sockets interleave.
func PoolAllChanges[T any](p *Pool, types ...postgres.EventType) stream.Stream[postgres.Change[T]] {
	return operators.FlatMap(p.sockets(), func(s *poolSocket) stream.Stream[postgres.Change[T]] {
		return AllChanges[T](s.c, types...)
	})
}
