package source_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// gateConn is a TCP connection whose writes a test can count, stall and fail.
type gateConn struct {
	net.Conn
	mu      sync.Mutex
	writes  int
	stall   chan struct{} // non-nil: writes wait until it is closed (or the connection is)
	failErr error
	closed  chan struct{}
	once    sync.Once
}

func (g *gateConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	st := g.stall
	g.mu.Unlock()
	if st != nil {
		select {
		case <-st:
		case <-g.closed:
			return 0, net.ErrClosed
		}
	}
	g.mu.Lock()
	g.writes++
	err := g.failErr
	g.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return g.Conn.Write(p)
}

func (g *gateConn) Close() error {
	g.once.Do(func() { close(g.closed) })
	return g.Conn.Close()
}

func (g *gateConn) writeCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.writes
}

// stallWrites makes writes wait until the returned function is called.
func (g *gateConn) stallWrites() (release func()) {
	st := make(chan struct{})
	g.mu.Lock()
	g.stall = st
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.stall = nil
			g.mu.Unlock()
			close(st)
		})
	}
}

func (g *gateConn) failWrites(err error) {
	g.mu.Lock()
	g.failErr = err
	g.mu.Unlock()
}

// gateDialer dials gateConns and remembers them.
type gateDialer struct {
	mu    sync.Mutex
	conns []*gateConn
}

func (d *gateDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	g := &gateConn{Conn: nc, closed: make(chan struct{})}
	d.mu.Lock()
	d.conns = append(d.conns, g)
	d.mu.Unlock()
	return g, nil
}

func (d *gateDialer) last() *gateConn {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conns[len(d.conns)-1]
}

func (d *gateDialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

// sentInts returns the int payloads of the broadcasts the server received on topic, in arrival order.
func sentInts(t *testing.T, s *realtimetest.Server, topic string) []int {
	t.Helper()
	var out []int
	for _, f := range inFrames(s, topic, phoenix.EventBroadcast) {
		payload := f.Msg.Payload
		if f.Msg.Kind != phoenix.KindUserBroadcastPush {
			_, p, _, err := phoenix.ParseBroadcast(payload)
			require.NoError(t, err)
			payload = p
		}
		n, err := strconv.Atoi(string(payload))
		require.NoError(t, err, "payload %q", payload)
		out = append(out, n)
	}
	return out
}

func upTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// Pushes queued while a write is in progress go out together: n sends cost far fewer than n socket writes,
// and arrive in order. (Each Send wrote and flushed its own frame before the session's writer.)
func TestSendsQueuedBehindAWriteAreBatched(t *testing.T) {
	s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000))
	d := &gateDialer{}
	c := chConnect(t, s, source.WithDialer(d.dial))
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	g := d.last()

	const n = 500
	release := g.stallWrites()
	time.AfterFunc(50*time.Millisecond, release)
	before := g.writeCount()
	ctx := chCtx(t)
	for i := range n {
		require.NoError(t, ch.Send(ctx, "n", i))
	}
	release()
	chEventually(t, func() bool { return len(inFrames(s, "realtime:room", phoenix.EventBroadcast)) >= n }, "%d broadcasts", n)
	writes := g.writeCount() - before
	assert.Less(t, writes, n/10, "%d socket writes for %d sends", writes, n)
	assert.Equal(t, upTo(n), sentInts(t, s, "realtime:room"), "in order, none lost or repeated")
	t.Logf("%d sends, %d socket writes", n, writes)
}

// A loop of sends that wait for no reply, then Close: the server receives every one, in order (Close
// leaves the channel and flushes the write queue before the socket's normal closure).
func TestSendLoopThenCloseDeliversEverything(t *testing.T) {
	s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000))
	c, err := source.Connect(chCtx(t), s.URL(), chClientOpts()...)
	require.NoError(t, err)
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	const n = 20000
	ctx := chCtx(t)
	for i := range n {
		require.NoError(t, ch.Send(ctx, "n", i))
	}
	require.NoError(t, c.Close(ctx))
	assert.Equal(t, upTo(n), sentInts(t, s, "realtime:room"))
}

// A write fails with pushes queued behind it: those that wait for no reply go out on the next session (in
// order, none lost; the failed batch's may go out twice), acked ones get their reply or ErrConnectionLost,
// none hangs.
func TestWriteFailureRequeuesQueuedPushes(t *testing.T) {
	s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000))
	d := &gateDialer{}
	c := chConnect(t, s, source.WithDialer(d.dial))
	ch := chNew(t, c, "room")
	acked := chNew(t, c, "acked", source.WithBroadcastAck())
	chSubscribe(t, ch)
	chSubscribe(t, acked)
	g := d.last()
	ctx := chCtx(t)

	release := g.stallWrites()
	const n = 300
	var wg sync.WaitGroup
	ackErrs := make([]error, 10)
	for i := range ackErrs {
		wg.Go(func() { ackErrs[i] = acked.Send(ctx, "a", i) })
	}
	for i := range n {
		require.NoError(t, ch.Send(ctx, "n", i))
	}
	g.failWrites(errors.New("injected write failure"))
	release()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(chWait):
		t.Fatal("acked sends still waiting after the socket failed")
	}
	for i, err := range ackErrs {
		if err != nil {
			assert.ErrorIs(t, err, source.ErrConnectionLost, "acked send %d", i)
		}
	}
	require.Eventually(t, func() bool { return d.count() > 1 }, chWait, 5*time.Millisecond, "reconnected")
	chEventually(t, func() bool { return len(inFrames(s, "realtime:room", phoenix.EventBroadcast)) >= n }, "%d broadcasts", n)
	got := sentInts(t, s, "realtime:room")
	// At least once: every one arrives, in order after dropping repeats of what the failed write carried.
	var dedup []int
	for _, v := range got {
		if len(dedup) == 0 || v > dedup[len(dedup)-1] {
			dedup = append(dedup, v)
		}
	}
	assert.Equal(t, upTo(n), dedup, "every push, in order")
}

// Pushes still queued when the client is closed are reported as never sent (UnsentError), not lost silently.
func TestQueuedPushesOfAClosedClientAreReportedUnsent(t *testing.T) {
	s := rtServer(t)
	d := &gateDialer{}
	c, err := source.Connect(chCtx(t), s.URL(), chClientOpts(source.WithDialer(d.dial))...)
	require.NoError(t, err)
	errs := collect(t, c.Errors())
	ch := chNew(t, c, "room")
	chSubscribe(t, ch)
	g := d.last()
	release := g.stallWrites()
	defer release()
	ctx := chCtx(t)
	const n = 50
	for i := range n {
		require.NoError(t, ch.Send(ctx, "n", i))
	}
	closeCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_ = c.Close(closeCtx) // the stalled socket cannot take the queue
	select {
	case <-c.Done():
	case <-time.After(chWait):
		t.Fatal("client did not stop")
	}
	unsent := 0
	for unsent < n-1 { // the first send was in the write the stall holds
		e := errs.next(t, chWait, func(err error) bool { return true })
		var ue *source.UnsentError
		if errors.As(e, &ue) {
			assert.Equal(t, "realtime:room", ue.Topic)
			unsent++
		}
	}
}

// A socket whose writes are stuck, with a full write queue behind them, is still detected by the
// heartbeat: heartbeats never wait for queue space, and the missing reply times out.
func TestHeartbeatDetectsStuckWritesWithAFullQueue(t *testing.T) {
	s := rtServer(t)
	d := &gateDialer{}
	c := connect(t, s, fast(source.WithDialer(d.dial))...)
	states := collect(t, c.States())
	hbs := collect(t, c.Heartbeats())
	ch, err := c.Channel("room")
	require.NoError(t, err)
	require.NoError(t, ch.Subscribe(waitCtx(t)))
	g := d.last()
	release := g.stallWrites()
	defer release()

	// Fill the queue past its bound: the last sends wait for space.
	sendCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	big := make([]byte, 64<<10)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			if err := ch.Send(sendCtx, "big", big); err != nil {
				return
			}
		}
	})
	start := time.Now()
	hbs.next(t, time.Second, func(ev source.HeartbeatEvent) bool { return ev.Status == source.HeartbeatTimeout })
	t.Logf("heartbeat timeout after %v", time.Since(start))
	// Closing the socket waits up to 1 s for the stuck write to give up the write lock (transport.Conn.Close).
	st := states.next(t, 3*time.Second, isState(source.StateReconnecting))
	assert.ErrorIs(t, st.Cause, source.ErrHeartbeatTimeout)
	cancel()
	wg.Wait()
}
