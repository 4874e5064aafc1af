package stream_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/stream"
)

// stallPath is one way to consume a NeverWait hub, for the tests of a consumer that stops taking values.
type stallPath struct {
	name string
	// channel tells that the consumer's user reads an Observe channel, whose buffer adds to what the
	// consumer holds.
	channel bool
	// took is how many values the user has taken while stalled: the callback of Subscribe returns with the
	// first value and stops at the second; the reader of a channel takes none.
	took int
	// start starts a consumer of h whose goroutine holds the first value until gate closes, and whose user
	// takes nothing until resume closes. read, called once resume is closed and h has completed, waits for
	// the consumer's end and returns every value its user got.
	start func(ctx context.Context, h *stream.Hub[int], gate, resume <-chan struct{}, opts ...stream.ObserveOption) (read func() []int)
}

var stallPaths = []stallPath{
	{
		// Observe of a stream derived from the hub (as source's Broadcasts are): the hub's mailbox is
		// drained by Observe's goroutine, through the derived stream's function, into the channel.
		name: "Observe", channel: true,
		start: func(ctx context.Context, h *stream.Hub[int], gate, _ <-chan struct{}, opts ...stream.ObserveOption) func() []int {
			src := h.Stream()
			first := true
			s := stream.Derive(src, func(ctx context.Context, emit func(int) bool) error {
				return src.Run(ctx, func(v int) bool {
					if first {
						first = false
						<-gate
					}
					return emit(v)
				})
			})
			out := s.Observe(ctx, opts...)
			return func() []int { return drainAll(out) }
		},
	},
	{
		// Observe of a MapHub stream: the mailbox is drained by the shared workers (source's Changes).
		name: "MapHub", channel: true,
		start: func(ctx context.Context, h *stream.Hub[int], gate, _ <-chan struct{}, opts ...stream.ObserveOption) func() []int {
			w := new(stream.Workers) // one pool per synctest bubble
			first := true
			out := stream.MapHub(h, w, nil, func() func(int) (int, bool) {
				return func(v int) (int, bool) {
					if first {
						first = false
						<-gate
					}
					return v, true
				}
			}).Observe(ctx, opts...)
			return func() []int { return drainAll(out) }
		},
	},
	{
		// Subscribe: the user is the callback, which takes the second value and holds it until resume.
		name: "Subscribe", took: 1,
		start: func(ctx context.Context, h *stream.Hub[int], gate, resume <-chan struct{}, opts ...stream.ObserveOption) func() []int {
			var got []int
			sub := h.Stream().Subscribe(ctx, func(v int) {
				switch len(got) {
				case 0:
					<-gate
				case 1:
					<-resume
				}
				got = append(got, v)
			}, opts...)
			return func() []int {
				if err := sub.Wait(); err != nil {
					panic(err)
				}
				return got
			}
		},
	},
}

var stallPolicies = []struct {
	name string
	opt  stream.ObserveOption
}{
	{"DropNewest", stream.DropNewest()},
	{"DropOldest", stream.DropOldest()},
	{"Block", stream.Block()},
}

// slowReports collects the slow-consumer reports of a hub.
type slowReports struct {
	mu  sync.Mutex
	evs []stream.SlowConsumer
}

func (r *slowReports) add(ev stream.SlowConsumer) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

func (r *slowReports) all() []stream.SlowConsumer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]stream.SlowConsumer(nil), r.evs...)
}

// stall is what became of a consumer whose goroutine was busy when a burst filled its mailbox, and whose
// user then took nothing while many more values came.
type stall struct {
	reports []stream.SlowConsumer // the slow-consumer reports
	most    int                   // the most values the consumer held while its user took nothing
	got     []int                 // what its user got once it read again, after the hub completed
	emitted int
	dropped uint64
}

// stallOf runs the stall of a consumer of path p with policy pol and mailbox n, and lets its user read
// everything once the hub has completed.
func stallOf(t *testing.T, p stallPath, pol stream.ObserveOption, n int) stall {
	var st stall
	synctest.Test(t, func(t *testing.T) {
		var reports slowReports
		var dropped atomic.Uint64
		h := stream.NewHub[int](stream.NeverWait(), stream.DropCounter(&dropped), stream.OnSlowConsumer(reports.add))
		gate, resume := make(chan struct{}), make(chan struct{})
		read := p.start(t.Context(), h, gate, resume, pol, stream.WithBuffer(n))
		emit := func(k int) {
			for range k {
				h.Emit(st.emitted)
				st.emitted++
			}
			synctest.Wait() // the consumer's goroutine has done all it can
			st.most = max(st.most, st.emitted-int(dropped.Load())-p.took)
		}
		emit(1)      // the consumer's goroutine holds 0 until gate closes
		emit(n + 10) // a burst fills its mailbox
		require.Len(t, reports.all(), 1, "the full mailbox is reported")
		close(gate) // the goroutine goes on; the user takes nothing
		synctest.Wait()
		for range 20 {
			emit(n)
		}
		st.reports, st.dropped = reports.all(), dropped.Load()
		close(resume)
		h.Complete(nil)
		st.got = read()
	})
	return st
}

// With a drop policy, a consumer that takes nothing holds at most its mailbox (n values, counting those
// its goroutine took from it and has not begun to hand on), the value being handed on, and the buffer of
// its Observe channel (min(n, 32)), however large the batches its goroutine takes. Nothing else is lost:
// every value it held reaches its user once it reads again, in order, and the drop count is exact. With
// Block it loses nothing.
func TestStalledConsumerHoldsAtMostItsMailbox(t *testing.T) {
	const n = 64
	for _, p := range stallPaths {
		for _, pol := range stallPolicies {
			t.Run(p.name+"/"+pol.name, func(t *testing.T) {
				st := stallOf(t, p, pol.opt, n)
				bound := n + 1
				if p.channel {
					bound += min(n, 32)
				}
				if pol.name == "Block" {
					assert.Zero(t, st.dropped)
				} else {
					assert.LessOrEqual(t, st.most, bound, "values held by a consumer that takes nothing")
				}
				assert.Len(t, st.got, st.emitted-int(st.dropped), "every value held reaches the user: the drop count is exact")
				for i := 1; i < len(st.got); i++ {
					require.Less(t, st.got[i-1], st.got[i], "order is kept")
				}
				require.NotEmpty(t, st.got)
				assert.Equal(t, 0, st.got[0], "the value its goroutine held is not lost")
				if pol.name != "DropNewest" {
					assert.Equal(t, st.emitted-1, st.got[len(st.got)-1], "DropOldest and Block keep the newest")
				}
			})
		}
	}
}

// The same stall is one episode: it is reported once, however many values keep coming, with any policy
// (Block too: its mailbox grows instead of dropping, and that is reported once).
func TestStalledConsumerIsReportedOnce(t *testing.T) {
	const n = 64
	for _, p := range stallPaths {
		for _, pol := range stallPolicies {
			t.Run(p.name+"/"+pol.name, func(t *testing.T) {
				st := stallOf(t, p, pol.opt, n)
				require.Len(t, st.reports, 1, "one stall, one report")
				assert.Equal(t, n, st.reports[0].Queued)
				assert.Equal(t, pol.name == "Block", st.reports[0].Blocking)
			})
		}
	}
}

// The scenario of the report: a consumer observed with Observe that never reads, and a burst far larger
// than its mailbox, emitted while its goroutine runs. Whatever the interleaving, it is reported once and
// holds at most its mailbox, the value being handed on and the channel's buffer.
func TestStalledObserverOfABurstIsReportedOnce(t *testing.T) {
	const n, burst = 1024, 100_000
	for _, pol := range stallPolicies {
		t.Run(pol.name, func(t *testing.T) {
			var reports slowReports
			var dropped atomic.Uint64
			h := stream.NewHub[int](stream.NeverWait(), stream.DropCounter(&dropped), stream.OnSlowConsumer(reports.add))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			out := h.Stream().Observe(ctx, pol.opt, stream.WithBuffer(n))
			for i := range burst {
				h.Emit(i)
			}
			assert.Len(t, reports.all(), 1, "one stall, one report")
			h.Complete(nil)
			got := drainAll(out)
			if pol.name == "Block" {
				assert.Len(t, got, burst, "Block loses nothing")
				return
			}
			assert.LessOrEqual(t, len(got), n+1+32, "values held by a consumer that read nothing")
			assert.Equal(t, burst, len(got)+int(dropped.Load()), "every value delivered or counted")
		})
	}
}

// An episode ends once the consumer's user has caught up, having taken a value that arrived after the
// episode started; taking some of the values queued before does not end it. The next full mailbox is then
// a new episode.
func TestSlowConsumerEpisodeEndsWhenItsUserCatchesUp(t *testing.T) {
	const n = 8 // the channel holds 8 too
	for _, p := range []struct {
		name    string
		observe func(ctx context.Context, h *stream.Hub[int], opts ...stream.ObserveOption) <-chan int
	}{
		{"Hub.Stream", func(ctx context.Context, h *stream.Hub[int], opts ...stream.ObserveOption) <-chan int {
			return h.Stream().Observe(ctx, opts...)
		}},
		{"MapHub", func(ctx context.Context, h *stream.Hub[int], opts ...stream.ObserveOption) <-chan int {
			return stream.MapHub(h, new(stream.Workers), nil, func() func(int) (int, bool) {
				return func(v int) (int, bool) { return v, true }
			}).Observe(ctx, opts...)
		}},
	} {
		t.Run(p.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var reports slowReports
				h := stream.NewHub[int](stream.NeverWait(), stream.OnSlowConsumer(reports.add))
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				out := p.observe(ctx, h, stream.DropNewest(), stream.WithBuffer(n))
				emitted := 0
				emit := func(k int) {
					for range k {
						h.Emit(emitted)
						emitted++
					}
					synctest.Wait()
				}
				var got []int
				take := func(k int) { // the user takes k values, or all there are when k < 0
					for ; k != 0; k-- {
						synctest.Wait()
						select {
						case v := <-out:
							got = append(got, v)
						default:
							require.Negative(t, k, "a value to take")
							return
						}
					}
				}

				emit(3 * n) // fills the channel, the value being handed on and the mailbox
				require.Len(t, reports.all(), 1)
				take(n / 2) // some of the values queued before the episode started
				emit(n)     // half of them fit
				assert.Len(t, reports.all(), 1, "the user has not caught up: the same episode")
				take(-1) // the user catches up
				for i := 1; i < len(got); i++ {
					require.Less(t, got[i-1], got[i])
				}
				emit(1)
				take(-1)
				emit(3 * n)
				evs := reports.all()
				require.Len(t, evs, 2, "falling behind again is a new episode")
				assert.Equal(t, n, evs[1].Queued)
				cancel()
				drainAll(out)
			})
		})
	}
}
