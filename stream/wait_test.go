package stream_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/stream"
)

// waitBound and waitTotal are the WaitForRoom bounds of the tests below: each time, and in all.
const waitBound, waitTotal = 100 * time.Millisecond, time.Second

// A consumer that stops holds Emit up once, for the hub's bound on each wait, then loses values by its policy (Block:
// its mailbox grows), reported once with the time waited; Emit does not wait for it again while it stays
// stopped. Once it reads again it gets everything it held.
func TestWaitForRoomStoppedConsumer(t *testing.T) {
	const n = 16
	for _, p := range stallPaths {
		for _, pol := range stallPolicies {
			t.Run(p.name+"/"+pol.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var reports slowReports
					var dropped atomic.Uint64
					h := stream.NewHub[int](stream.NeverWait(), stream.WaitForRoom(waitBound, waitTotal),
						stream.DropCounter(&dropped), stream.OnSlowConsumer(reports.add))
					gate, resume := make(chan struct{}), make(chan struct{})
					read := p.start(t.Context(), h, gate, resume, pol.opt, stream.WithBuffer(n))
					emitted := 0
					emit := func(k int) time.Duration {
						start := time.Now()
						for range k {
							h.Emit(emitted)
							emitted++
						}
						return time.Since(start)
					}
					emit(1) // the consumer's goroutine holds 0 and stops
					synctest.Wait()
					assert.Equal(t, waitBound, emit(10*n), "Emit waits for the bound, once")
					evs := reports.all()
					require.Len(t, evs, 1)
					assert.Equal(t, waitBound, evs[0].Waited)
					assert.Equal(t, pol.name == "Block", evs[0].Blocking)
					assert.Zero(t, emit(10*n), "and not again while the consumer stays stopped")
					assert.Len(t, reports.all(), 1, "one stop, one report")

					close(gate)
					close(resume)
					h.Complete(nil)
					got := read()
					assert.Len(t, got, emitted-int(dropped.Load()), "every value held reaches the user")
					if pol.name == "Block" {
						assert.Zero(t, dropped.Load())
					} else {
						assert.NotZero(t, dropped.Load())
					}
				})
			})
		}
	}
}

// A consumer that stops for less than the bound loses nothing and is not reported: Emit waits for it. The
// bound is spent over an episode and renewed once the consumer has caught up, so a consumer that pauses
// again after catching up loses nothing either.
func TestWaitForRoomBriefPauses(t *testing.T) {
	const n, pause = 16, 60 * time.Millisecond
	for _, p := range stallPaths {
		t.Run(p.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var reports slowReports
				var dropped atomic.Uint64
				h := stream.NewHub[int](stream.NeverWait(), stream.WaitForRoom(waitBound, waitTotal),
					stream.DropCounter(&dropped), stream.OnSlowConsumer(reports.add))
				gate, resume := make(chan struct{}), make(chan struct{})
				time.AfterFunc(pause, func() { close(gate); close(resume) })
				read := p.start(t.Context(), h, gate, resume, stream.DropNewest(), stream.WithBuffer(n))
				got := make(chan []int, 1)
				go func() { got <- read() }()

				start := time.Now()
				for i := range 10 * n {
					h.Emit(i)
				}
				assert.Equal(t, pause, time.Since(start), "Emit waited for the consumer to go on")
				synctest.Wait()
				assert.Empty(t, reports.all())
				h.Complete(nil)
				all := <-got
				require.Len(t, all, 10*n, "nothing lost")
				for i, v := range all {
					require.Equal(t, i, v)
				}
				assert.Zero(t, dropped.Load())
			})
		})
	}
}

// Pauses that add up to more than the total bound within one episode, each shorter than the bound on each
// wait, the consumer never catching up between them, make it a slow consumer once the total is spent; the
// same pauses with a catch-up between them do not.
func TestWaitForRoomIsSpentOverAnEpisode(t *testing.T) {
	const n, pause = 8, 60 * time.Millisecond
	for _, catchUp := range []bool{false, true} {
		name := map[bool]string{false: "behind", true: "caught-up"}[catchUp]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var reports slowReports
				var dropped atomic.Uint64
				h := stream.NewHub[int](stream.NeverWait(), stream.WaitForRoom(waitBound, waitBound),
					stream.DropCounter(&dropped), stream.OnSlowConsumer(reports.add))
				// The callback pauses on the values in pauses: the first one, and one queued behind it
				// (behind), or one that arrives once it has taken everything queued (caught-up).
				second := n / 2
				if catchUp {
					second = 3 * n
				}
				sub := h.Stream().Subscribe(t.Context(), func(v int) {
					if v == 0 || v == second {
						time.Sleep(pause)
					}
				}, stream.DropNewest(), stream.WithBuffer(n))
				for i := range 2 * n {
					h.Emit(i) // the first pause fills the mailbox; Emit waits
				}
				if catchUp {
					synctest.Wait() // the consumer takes everything queued
					for i := 2 * n; i < 5*n; i++ {
						h.Emit(i)
					}
				} else {
					for i := 2 * n; i < 4*n; i++ {
						h.Emit(i)
					}
				}
				h.Complete(nil)
				require.NoError(t, sub.Wait())
				if catchUp {
					assert.Empty(t, reports.all())
					assert.Zero(t, dropped.Load())
					return
				}
				evs := reports.all()
				require.Len(t, evs, 1)
				assert.Equal(t, waitBound, evs[0].Waited)
				assert.NotZero(t, dropped.Load())
			})
		})
	}
}

// EmitContext stops waiting for room when its ctx ends.
func TestWaitForRoomEmitContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := stream.NewHub[int](stream.NeverWait(), stream.WaitForRoom(time.Hour, time.Hour))
		gate := make(chan struct{})
		sub := h.Stream().Subscribe(t.Context(), func(int) { <-gate }, stream.WithBuffer(1))
		require.NoError(t, h.EmitContext(t.Context(), 0)) // taken: the callback holds it
		synctest.Wait()
		require.NoError(t, h.EmitContext(t.Context(), 1)) // queued
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		assert.ErrorIs(t, h.EmitContext(ctx, 2), context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start))
		close(gate)
		h.Complete(nil)
		require.NoError(t, sub.Wait())
		assert.Equal(t, uint64(2), sub.Delivered())
	})
}
