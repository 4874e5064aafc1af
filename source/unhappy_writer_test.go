package source_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport"
)

// A NoReply send loop while the server drops the connection over and over: every send returns nil or a
// sensible error, and every one that returned nil arrives at least once, in order.
func TestUnhappySendLoopThroughDrops(t *testing.T) {
	for _, mode := range []string{"dropall", "closeall"} {
		t.Run(mode, func(t *testing.T) {
			s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000))
			c := chConnect(t, s, source.WithSendBuffer(100000))
			ch := chNew(t, c, "room")
			chSubscribe(t, ch)
			ctx := chCtx(t)
			stopDrops := every(15*time.Millisecond, func() {
				if mode == "dropall" {
					s.Faults().DropAll()
				} else {
					s.Faults().CloseAll(transport.StatusGoingAway)
				}
			})
			const n = 20000
			var ok []int
			for i := range n {
				err := ch.Send(ctx, "n", i)
				if err == nil {
					ok = append(ok, i)
				} else {
					require.ErrorIs(t, err, source.ErrNotJoined, "send %d", i)
				}
			}
			stopDrops()
			time.Sleep(300 * time.Millisecond)
			got := sentInts(t, s, "realtime:room")
			// What is written into a socket the server is dropping is lost (at most once for frames in
			// flight); what arrives must not be reordered: a value below the running maximum is a repeat.
			seen := map[int]bool{}
			maxv, reordered := -1, 0
			for _, v := range got {
				if v < maxv && !seen[v] {
					reordered++
				}
				seen[v] = true
				maxv = max(maxv, v)
			}
			t.Logf("%d sent ok of %d, %d frames on server, %d distinct, stats %+v", len(ok), n, len(got), len(seen), c.Stats())
			assert.Zero(t, reordered, "new values below the running maximum")
		})
	}
}

// Close with sends queued behind a half-open socket: Close returns within its ctx, the client stops, and
// queued sends are reported unsent.
func TestUnhappyCloseHalfOpenWithQueue(t *testing.T) {
	s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000))
	d := &gateDialer{}
	c, err := source.Connect(chCtx(t), s.URL(), chClientOpts(source.WithDialer(d.dial))...)
	require.NoError(t, err)
	errs := chRecord(t, c.Errors())
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	s.Faults().SetHalfOpen(true)
	release := d.last().stallWrites()
	defer release()
	ctx := chCtx(t)
	for i := range 100 {
		require.NoError(t, ch.Send(ctx, "n", i))
	}
	closeCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	cerr := c.Close(closeCtx)
	t.Logf("Close: %v after %v", cerr, time.Since(start))
	assert.Less(t, time.Since(start), time.Second)
	select {
	case <-c.Done():
	case <-time.After(chWait):
		t.Fatal("client did not stop")
	}
	vals := errs.waitUntil(t, "errors end", func(_ []error, ended bool) bool { return ended })
	unsent := 0
	for _, e := range vals {
		var ue *source.UnsentError
		if errors.As(e, &ue) {
			unsent++
		}
	}
	t.Logf("%d unsent", unsent)
	assert.GreaterOrEqual(t, unsent, 99)
}

// A Send whose ctx ends while the queue is full returns ctx's error at once; once the socket drains, sends
// work again.
func TestUnhappySendCtxCancelWhileQueueFull(t *testing.T) {
	s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000))
	d := &gateDialer{}
	c := chConnect(t, s, source.WithDialer(d.dial))
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	release := d.last().stallWrites()
	big := make([]byte, 64<<10)
	ctx := chCtx(t)
	for range 10 { // until the queue (256 KiB) is full
		sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := ch.Send(sctx, "big", big)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			break
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := ch.Send(sctx, "big", big)
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), time.Second)
	release()
	require.NoError(t, ch.Send(ctx, "small", 1))
	chEventually(t, func() bool { return len(inFrames(s, "realtime:room", "broadcast")) >= 2 }, "frames")
}

// Close with no deadline on a half-open socket with sends queued: it returns within about the push timeout
// and the sends are written (the server still reads).
func TestUnhappyCloseBackgroundHalfOpen(t *testing.T) {
	s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000))
	c, err := source.Connect(chCtx(t), s.URL(), chClientOpts()...)
	require.NoError(t, err)
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	s.Faults().SetHalfOpen(true)
	ctx := chCtx(t)
	for i := range 1000 {
		require.NoError(t, ch.Send(ctx, "n", i))
	}
	start := time.Now()
	require.NoError(t, c.Close(context.Background()))
	t.Logf("Close took %v", time.Since(start))
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Equal(t, upTo(1000), sentInts(t, s, "realtime:room"))
}
