package source_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport"
)

// Defect 1 of the stream contract: one consumer that stops reading, with the default options, must not
// freeze the client: heartbeats, other channels, acked sends, new joins and Close all go on, and the
// consumer is reported as slow.
func TestStalledConsumerDoesNotFreezeClient(t *testing.T) {
	s := newServer(t)
	slowErrs := make(chan error, 16)
	c := connect(t, s, fast(source.WithErrorHandler(func(err error) {
		var sc *source.SlowConsumerError
		if errors.As(err, &sc) {
			select {
			case slowErrs <- err:
			default:
			}
		}
	}))...)
	ctx := waitCtx(t)

	stuck, err := c.Channel("stuck")
	require.NoError(t, err)
	forgotten := source.Broadcasts[int](stuck, "n").Observe(ctx) // never read
	_ = forgotten
	require.NoError(t, stuck.Subscribe(ctx))
	other, err := c.Channel("other", source.WithBroadcastAck())
	require.NoError(t, err)
	require.NoError(t, other.Subscribe(ctx))

	for i := range 3000 {
		_, err := s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "stuck", Event: "n", Payload: []byte(fmt.Sprint(i))})
		require.NoError(t, err)
	}
	// Heartbeats go every 100 ms with a 100 ms timeout: a frozen reader would miss several by now.
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, source.StateOpen, c.State())

	sendCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	require.NoError(t, other.Send(sendCtx, "ping", map[string]int{"x": 1}), "an acked send on another channel completes")

	late, err := c.Channel("late")
	require.NoError(t, err)
	require.NoError(t, late.Subscribe(sendCtx), "a new channel joins")

	select {
	case err := <-slowErrs:
		assert.Contains(t, err.Error(), "realtime:stuck")
	case <-time.After(2 * time.Second):
		t.Fatal("the stalled consumer was not reported as slow")
	}

	closeCtx, cancelClose := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelClose()
	require.NoError(t, c.Close(closeCtx), "Close finishes within its ctx")
}

// Defect 2: every stream a user can get completes when its channel is closed for good or the client
// closes. One table, every stream, every way to end.
func TestEveryStreamEnds(t *testing.T) {
	type streams map[string]<-chan struct{}
	observe := func(ctx context.Context, c *source.Client, ch *source.Channel) streams {
		ends := streams{}
		add := func(name string, done <-chan struct{}) { ends[name] = done }
		add("Messages", drainDone(c.Messages().Observe(ctx)))
		add("Topic", drainDone(c.Topic(ch.Topic()).Observe(ctx)))
		add("Channel.Messages", drainDone(ch.Messages().Observe(ctx)))
		add("Changes", drainDone(source.Changes[map[string]any](ch).Observe(ctx)))
		add("AllChanges", drainDone(source.AllChanges[map[string]any](c).Observe(ctx)))
		add("Broadcasts", drainDone(source.Broadcasts[any](ch, "x").Observe(ctx)))
		add("PresenceEvents", drainDone(source.PresenceEvents[any](ch).Observe(ctx)))
		add("Statuses", drainDone(ch.Statuses().Observe(ctx)))
		add("Systems", drainDone(ch.Systems().Observe(ctx)))
		add("States", drainDone(c.States().Observe(ctx)))
		add("Errors", drainDone(c.Errors().Observe(ctx)))
		add("Heartbeats", drainDone(c.Heartbeats().Observe(ctx)))
		return ends
	}
	channelScoped := []string{"Topic", "Channel.Messages", "Changes", "Broadcasts", "PresenceEvents", "Statuses", "Systems"}

	for _, how := range []string{"Unsubscribe", "server close", "Client.Close"} {
		t.Run(how, func(t *testing.T) {
			s := newServer(t)
			c := connect(t, s, fast()...)
			ctx := waitCtx(t)
			ch, err := c.Channel("room")
			require.NoError(t, err)
			ends := observe(ctx, c, ch)
			require.NoError(t, ch.Subscribe(ctx))
			switch how {
			case "Unsubscribe":
				require.NoError(t, ch.Unsubscribe(ctx))
			case "server close":
				require.Equal(t, 1, s.Faults().ShutdownChannels("realtime:room", "Too many messages per second"))
			case "Client.Close":
				require.NoError(t, c.Close(ctx))
			}
			names := channelScoped
			if how == "Client.Close" {
				names = nil
				for name := range ends {
					names = append(names, name)
				}
			}
			for _, name := range names {
				select {
				case <-ends[name]:
				case <-time.After(3 * time.Second):
					t.Errorf("%s did not end after %s", name, how)
				}
			}
		})
	}
}

// drainDone reads ch until it closes and reports the end.
func drainDone[T any](ch <-chan T) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range ch {
		}
	}()
	return done
}

// Defect 3: Connect says why it failed, and does not retry what cannot succeed.
func TestConnectSaysWhy(t *testing.T) {
	s := newServer(t, realtimetest.WithJWTSecret("secret"))
	refused := func() string { // a loopback port nobody listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		return "ws://" + addr + "/socket"
	}()
	dnsFail := source.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "nope.example", IsNotFound: true}
	})
	for _, tc := range []struct {
		name      string
		url       string
		opts      []source.Option
		permanent bool // Connect returns at once, with context.Background()
		check     func(t *testing.T, err error)
	}{
		{"wrong key", s.URL(), []source.Option{source.WithAPIKey("not-a-jwt")}, true, func(t *testing.T, err error) {
			var he *transport.HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Contains(t, []int{401, 403}, he.StatusCode)
			assert.NotEmpty(t, he.Message, "the server's JSON error")
			assert.Contains(t, err.Error(), he.Message)
			assert.NotContains(t, err.Error(), "not-a-jwt", "no key in errors")
		}},
		{"missing key", s.URL(), []source.Option{source.WithAPIKey("")}, true, func(t *testing.T, err error) {
			var he *transport.HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, 401, he.StatusCode)
			assert.Contains(t, err.Error(), "API key is missing")
		}},
		{"wrong path", "ws://" + s.Addr() + "/nope", []source.Option{source.WithAPIKey("k")}, true, func(t *testing.T, err error) {
			var he *transport.HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, 404, he.StatusCode)
		}},
		{"connection refused", refused, []source.Option{source.WithAPIKey("k")}, false, func(t *testing.T, err error) {
			var oe *net.OpError
			require.ErrorAs(t, err, &oe)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}},
		{"unknown host", s.URL(), []source.Option{source.WithAPIKey("k"), dnsFail}, false, func(t *testing.T, err error) {
			var de *net.DNSError
			require.ErrorAs(t, err, &de)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append(fast(), tc.opts...)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if tc.permanent {
				ctx = context.Background()
			} else {
				ctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
			}
			start := time.Now()
			c, err := source.Connect(ctx, tc.url, opts...)
			require.Error(t, err)
			require.Nil(t, c)
			assert.Less(t, time.Since(start), 2*time.Second)
			assert.True(t, strings.HasPrefix(err.Error(), "rxrealtime:"), "error text: %v", err)
			tc.check(t, err)
		})
	}
}

// Defect 3, second half: the reconnect limit counts attempts truthfully and names no internal package.
func TestMaxReconnectsCountsAttempts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	dials := 0
	var mu sync.Mutex
	dialer := source.WithDialer(func(ctx context.Context, network, a string) (net.Conn, error) {
		mu.Lock()
		dials++
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, a)
	})
	_, err = source.Connect(context.Background(), "ws://"+addr+"/socket", fast(dialer, source.WithMaxReconnects(2))...)
	require.Error(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 3, dials, "one connect and two reconnects")
	assert.Contains(t, err.Error(), "3 attempts")
	assert.NotContains(t, err.Error(), "operators:")
	assert.True(t, strings.HasPrefix(err.Error(), "rxrealtime:"), err.Error())
}

// Defect 4: channel failures reach the error handler, the error stream and the log.
func TestChannelFailuresAreVisible(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(s *realtimetest.Server)
		want  string
	}{
		{"refused join", func(s *realtimetest.Server) { s.Faults().RejectJoins("ChannelRateLimitReached: Too many channels") }, "Too many channels"},
		{"server shutdown", func(s *realtimetest.Server) {
			s.Faults().ShutdownChannels("realtime:room", "Too many messages per second")
		}, "Too many messages per second"},
		{"crash", func(s *realtimetest.Server) { s.Faults().CrashChannels("realtime:room") }, "errored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			logs := &logBuffer{}
			handled := make(chan error, 64)
			c := connect(t, s, fast(source.WithLogger(logs.logger()), source.WithErrorHandler(func(err error) {
				select {
				case handled <- err:
				default:
				}
			}))...)
			ctx := waitCtx(t)
			errStream := collect(t, c.Errors())
			ch, err := c.Channel("room")
			require.NoError(t, err)
			if tc.name != "refused join" {
				require.NoError(t, ch.Subscribe(ctx))
			}
			tc.fault(s)
			if tc.name == "refused join" {
				sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
				require.Error(t, ch.Subscribe(sctx))
			}
			match := func(err error) bool {
				var ce *source.ChannelError
				return errors.As(err, &ce) && ce.Topic == "realtime:room" && strings.Contains(err.Error(), tc.want)
			}
			deadline := time.After(3 * time.Second)
			for found := false; !found; {
				select {
				case err := <-handled:
					found = match(err)
				case <-deadline:
					t.Fatal("the error handler was not told")
				}
			}
			errStream.next(t, 3*time.Second, match)
			require.Eventually(t, func() bool { return logs.contains("WARN", tc.want) }, 3*time.Second, 10*time.Millisecond,
				"logged at Warn: %s", logs.String())
		})
	}
}

// Defect 6: Subscribe whose ctx ends says why and abandons the join.
func TestSubscribeCancelledAbandonsJoin(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	// A transient refusal: the channel keeps rejoining until Subscribe's ctx ends (a permanent one would
	// end Subscribe at once: TestSubscribeEndsAtAPermanentRefusal).
	s.Faults().RejectJoins("RealtimeRestarting: Realtime is restarting, please standby")
	ch, err := c.Channel("room", source.WithRejoinBackoff(constBackoff(20*time.Millisecond)))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = ch.Subscribe(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var je *source.JoinError
	require.ErrorAs(t, err, &je, "the last cause: %v", err)
	assert.Contains(t, err.Error(), "RealtimeRestarting")

	st, ok := ch.Status()
	require.True(t, ok)
	assert.Equal(t, source.StatusClosed, st.Status, "the channel is back to closed")
	// A join written just before Subscribe gave up may still be on its way to the server: count once the
	// count has settled.
	joins := len(inFrames(s, "realtime:room", "phx_join"))
	for settled := 0; settled < 5; settled++ {
		time.Sleep(10 * time.Millisecond)
		if n := len(inFrames(s, "realtime:room", "phx_join")); n != joins {
			joins, settled = n, 0
		}
	}
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, joins, len(inFrames(s, "realtime:room", "phx_join")), "no join after Subscribe gave up")

	// Subscribe again works once the server accepts.
	s.Faults().RejectJoins("")
	require.NoError(t, ch.Subscribe(waitCtx(t)))
}

// logBuffer is a concurrency-safe slog text sink for tests.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// contains reports whether one logged line has the level and the text.
func (b *logBuffer) contains(level, text string) bool {
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, "level="+level) && strings.Contains(line, text) {
			return true
		}
	}
	return false
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Block is an explicit choice: the consumer loses nothing, its mailbox grows, and the socket, the other
// channels and Close go on regardless.
func TestBlockingConsumerLosesNothingAndStallsNothing(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	ctx := waitCtx(t)
	stuck, err := c.Channel("stuck")
	require.NoError(t, err)
	gate := make(chan struct{})
	var got []int
	sub := source.Broadcasts[int](stuck, "n").Subscribe(ctx, func(b source.Broadcast[int]) {
		<-gate
		got = append(got, b.Payload)
	}, stream.Block(), stream.WithBuffer(16))
	require.NoError(t, stuck.Subscribe(ctx))
	other, err := c.Channel("other", source.WithBroadcastAck())
	require.NoError(t, err)
	require.NoError(t, other.Subscribe(ctx))
	errs := collect(t, c.Errors())

	const n = 3000
	for i := range n {
		_, err := s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "stuck", Event: "n", Payload: []byte(fmt.Sprint(i))})
		require.NoError(t, err)
	}
	sc := errs.next(t, 3*time.Second, func(err error) bool { return errors.Is(err, source.ErrSlowConsumer) })
	var sce *source.SlowConsumerError
	require.ErrorAs(t, sc, &sce)
	assert.True(t, sce.Blocking, "reported as a growing mailbox, not as drops")
	assert.Equal(t, "realtime:stuck", sce.Topic)

	sendCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	require.NoError(t, other.Send(sendCtx, "ping", map[string]int{"x": 1}), "another channel's acked send completes")
	assert.Equal(t, source.StateOpen, c.State())

	close(gate)
	require.Eventually(t, func() bool { return sub.Delivered() == n }, 5*time.Second, 10*time.Millisecond)
	assert.Zero(t, sub.Dropped())
	sub.Stop()
	<-sub.Done()
	for i, v := range got {
		require.Equal(t, i, v, "in order, none lost")
	}
}

// An error handler that blocks or panics cannot stall or kill the socket: the socket goes on, later
// notifications still arrive, the panic is counted, and a blocked handler only holds up Close, within
// Close's ctx.
func TestCallbacksThatPanicOrBlockDoNotStallTheSocket(t *testing.T) {
	s := newServer(t)
	release := make(chan struct{})
	var calls atomic.Int64
	c, err := source.Connect(waitCtx(t), s.URL(), fast(source.WithErrorHandler(func(err error) {
		switch calls.Add(1) {
		case 1:
			panic("handler bug")
		case 2:
			<-release // blocks until the test releases it
		}
	}))...)
	require.NoError(t, err)
	ctx := waitCtx(t)
	ch, err := c.Channel("room", source.WithBroadcastAck())
	require.NoError(t, err)
	require.NoError(t, ch.Subscribe(ctx))

	s.Faults().SendMalformed() // notification 1: the handler panics
	s.Faults().SendMalformed() // notification 2: the handler blocks
	require.Eventually(t, func() bool { return calls.Load() == 2 }, 3*time.Second, 5*time.Millisecond)
	for range 5 {
		s.Faults().SendMalformed() // queued behind the blocked handler
	}
	sendCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	require.NoError(t, ch.Send(sendCtx, "ping", map[string]int{"x": 1}), "the socket works while the handler is blocked")
	assert.Equal(t, uint64(1), c.Stats().CallbackPanics)

	closeCtx, cancelClose := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancelClose()
	assert.ErrorIs(t, c.Close(closeCtx), context.DeadlineExceeded, "Close waits for the blocked handler, within its ctx")
	close(release)
	<-c.Done()
	assert.Equal(t, int64(7), calls.Load(), "the queued notifications ran before the client stopped")
}

// Defect 8: connections that break in the middle of the rejoin flush, again and again, must not leave a
// stale phx_join behind a newer one (the server would close the current join): once the faults stop every
// channel is SUBSCRIBED, none closed for good.
func TestDropsDuringRejoinFlushKeepEveryChannel(t *testing.T) {
	// Over an in-memory pipe a write to a connection the server dropped fails at once, as it does on a
	// real network once the kernel's buffers are full: the flush breaks in the middle.
	s := newServer(t, realtimetest.WithPipe())
	c := connect(t, s, fast(source.WithDialer(s.DialPipe), source.WithReconnectBackoff(constBackoff(time.Millisecond)))...)
	ctx := waitCtx(t)
	var chans []*source.Channel
	for _, name := range []string{"a", "b", "c"} {
		ch, err := c.Channel(name, source.WithRejoinBackoff(constBackoff(5*time.Millisecond)))
		require.NoError(t, err)
		require.NoError(t, ch.Subscribe(ctx))
		chans = append(chans, ch)
	}
	states := collect(t, c.States())
	for round := range 4 {
		s.Faults().DropAfterFrames(1 + round%3) // every connection breaks after 1 to 3 frames of the flush
		s.Faults().DropAll()
		deadline := time.Now().Add(300 * time.Millisecond)
		for time.Now().Before(deadline) {
			// Pushes buffered while offline make the flush longer than the rejoins alone.
			_, _ = c.Push(ctx, chans[round%3].Topic(), "noise", nil, source.NoReply())
			time.Sleep(5 * time.Millisecond)
		}
		s.Faults().Reset()
	}
	states.next(t, 3*time.Second, func(sc source.StateChange) bool { return sc.State == source.StateOpen })
	for _, ch := range chans {
		_, err := ch.WaitStatus(ctx, source.StatusSubscribed)
		require.NoError(t, err, "%s: %v", ch.Topic(), ch.Err())
		select {
		case <-ch.Done():
			t.Fatalf("%s closed for good: %v", ch.Topic(), ch.Err())
		default:
		}
	}
	assert.Greater(t, c.Stats().Reconnects, uint64(10), "the flush was broken many times")
}

// A range loop learns why its stream ended: the server's reason after a server close, nothing after
// Unsubscribe.
func TestAll2SaysWhyAChannelStreamEnded(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	ctx := waitCtx(t)
	for _, how := range []string{"server close", "Unsubscribe"} {
		ch, err := c.Channel("room")
		require.NoError(t, err)
		require.NoError(t, ch.Subscribe(ctx))
		ended := make(chan error, 1)
		ready := make(chan struct{})
		go func() {
			var last error
			close(ready)
			for _, err := range source.Broadcasts[int](ch, "n").All2(ctx) {
				last = err
			}
			ended <- last
		}()
		<-ready
		time.Sleep(50 * time.Millisecond) // the loop registers once it runs (All2 has no readiness)
		if how == "server close" {
			require.Equal(t, 1, s.Faults().ShutdownChannels("realtime:room", "Too many messages per second"))
		} else {
			require.NoError(t, ch.Unsubscribe(ctx))
		}
		select {
		case err := <-ended:
			if how == "server close" {
				var cr *source.CloseReason
				require.ErrorAs(t, err, &cr)
				assert.Equal(t, "Too many messages per second", cr.Message)
			} else {
				assert.NoError(t, err)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("the loop did not end after %s", how)
		}
	}
}

// A broadcast consumer is not made slow by the channel's other traffic: postgres changes, presence and
// other broadcast events never enter its mailbox.
func TestBroadcastConsumerIgnoresOtherTraffic(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	ctx := waitCtx(t)
	ch, err := c.Channel("room")
	require.NoError(t, err)
	gate := make(chan struct{})
	var got []int
	sub := source.Broadcasts[int](ch, "wanted").Subscribe(ctx, func(b source.Broadcast[int]) {
		<-gate
		got = append(got, b.Payload)
	}, stream.WithBuffer(16))
	require.NoError(t, ch.Subscribe(ctx))
	for i := range 2000 {
		_, err := s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "room", Event: "other", Payload: []byte(fmt.Sprint(i))})
		require.NoError(t, err)
		if i%200 == 0 {
			_, err = s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "room", Event: "wanted", Payload: []byte(fmt.Sprint(i))})
			require.NoError(t, err)
		}
	}
	close(gate)
	require.Eventually(t, func() bool { return sub.Delivered() == 10 }, 3*time.Second, 5*time.Millisecond)
	assert.Zero(t, sub.Dropped())
	assert.Zero(t, c.Stats().SlowConsumers, "2,000 other broadcasts did not fill a 16-message mailbox")
	sub.Stop()
	<-sub.Done()
	assert.Equal(t, []int{0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800}, got)
}
