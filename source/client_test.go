package source_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func isState(want source.State) func(source.StateChange) bool {
	return func(s source.StateChange) bool { return s.State == want }
}

func TestConnectOpensAndCloseStops(t *testing.T) {
	s := newServer(t)
	c, err := source.New(s.URL(), fast()...)
	require.NoError(t, err)
	states := collect(t, c.States())
	require.NoError(t, c.Connect(waitCtx(t)))
	assert.Equal(t, source.StateOpen, c.State())
	states.next(t, time.Second, isState(source.StateOpen))
	require.Eventually(t, func() bool { return len(s.Clients()) == 1 }, time.Second, 5*time.Millisecond)

	require.NoError(t, c.Close(waitCtx(t)))
	assert.Equal(t, source.StateClosed, c.State())
	last := states.next(t, time.Second, isState(source.StateClosed))
	assert.NoError(t, last.Cause, "a user close has no cause")
	assert.NoError(t, c.Err())
	require.Eventually(t, func() bool { return len(s.Clients()) == 0 }, time.Second, 5*time.Millisecond)
	_, err = c.Push(waitCtx(t), "realtime:x", "ev", nil)
	assert.ErrorIs(t, err, source.ErrClosed)
}

func TestURLCarriesAPIKeyAndVsn(t *testing.T) {
	s := newServer(t)
	for _, ser := range []phoenix.Serializer{phoenix.V1, phoenix.V2} {
		c := connect(t, s, fast(source.WithSerializer(ser), source.WithParam("x", "1"))...)
		// The server accepted the vsn: a heartbeat round trip works.
		hb := collect(t, c.Heartbeats())
		hb.next(t, 2*time.Second, func(e source.HeartbeatEvent) bool { return e.Status == source.HeartbeatOK })
	}
}

func TestReconnectAfterDropWithBackoffAndBufferedPushes(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	states := collect(t, c.States())

	// Take the server down: pushes made while offline wait in the buffer.
	s.Faults().Stop()
	rec := states.next(t, 2*time.Second, isState(source.StateReconnecting))
	assert.Equal(t, 1, rec.Attempt)
	assert.Error(t, rec.Cause)
	// With the server gone, attempts keep failing and are counted.
	states.next(t, 2*time.Second, func(s source.StateChange) bool {
		return s.State == source.StateReconnecting && s.Attempt >= 2
	})
	type result struct{ err error }
	done := make(chan result, 3)
	for _, ev := range []string{"first", "second", "third"} {
		go func() {
			_, err := c.Push(context.Background(), "phoenix", ev, []byte(`{}`), source.NoReply())
			done <- result{err}
		}()
		time.Sleep(5 * time.Millisecond) // keep the pushes in order
	}
	for range 3 {
		require.NoError(t, (<-done).err)
	}

	require.NoError(t, s.Faults().Start())
	states.next(t, 2*time.Second, isState(source.StateOpen))
	for _, ev := range []string{"first", "second", "third"} {
		_, err := s.WaitFor(waitCtx(t), func(f realtimetest.Frame) bool {
			return f.Dir == realtimetest.In && f.Msg.Event == ev
		})
		require.NoError(t, err, ev)
	}
	// The buffered pushes went out in the order they were made.
	var order []string
	for _, f := range s.Frames() {
		if f.Dir == realtimetest.In && f.Msg.Topic == "phoenix" && f.Msg.Event != phoenix.EventHeartbeat {
			order = append(order, f.Msg.Event)
		}
	}
	assert.Equal(t, []string{"first", "second", "third"}, order)
}

// A session is healthy once a heartbeat made a round trip: then the next loss starts the backoff afresh.
// One that ends before (a server that drops the socket at once, or closes it for what the client sends
// right after connecting) does not reset it.
func TestBackoffResetsAfterHealthySession(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	states := collect(t, c.States())
	hbs := collect(t, c.Heartbeats())
	isOK := func(e source.HeartbeatEvent) bool { return e.Status == source.HeartbeatOK }
	for range 3 {
		hbs.next(t, 2*time.Second, isOK)
		s.Faults().DropAll()
		rec := states.next(t, 2*time.Second, isState(source.StateReconnecting))
		assert.Equal(t, 1, rec.Attempt, "each healthy session starts the backoff afresh")
		states.next(t, 2*time.Second, isState(source.StateOpen))
	}
	// Dropped before its first round trip: the backoff goes on.
	hbs.next(t, 2*time.Second, isOK)
	s.Faults().DropAll()
	states.next(t, 2*time.Second, isState(source.StateOpen))
	s.Faults().DropAll()
	rec := states.next(t, 2*time.Second, isState(source.StateReconnecting))
	assert.Equal(t, 2, rec.Attempt, "a session without a round trip does not reset the backoff")
}

func TestHalfOpenSocketIsDetectedByHeartbeat(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	states := collect(t, c.States())
	hbs := collect(t, c.Heartbeats())
	hbs.next(t, time.Second, func(e source.HeartbeatEvent) bool { return e.Status == source.HeartbeatOK })

	s.Faults().SetHalfOpen(true)
	start := time.Now()
	hbs.next(t, time.Second, func(e source.HeartbeatEvent) bool { return e.Status == source.HeartbeatTimeout })
	rec := states.next(t, time.Second, isState(source.StateReconnecting))
	assert.ErrorIs(t, rec.Cause, source.ErrHeartbeatTimeout)
	// Detected within interval + timeout (100 ms each), with slack for a loaded machine.
	assert.Less(t, time.Since(start), 1500*time.Millisecond)

	s.Faults().SetHalfOpen(false)
	states.next(t, 2*time.Second, isState(source.StateOpen))
	hbs.next(t, time.Second, func(e source.HeartbeatEvent) bool { return e.Status == source.HeartbeatOK })
}

func TestServerCloseCodesReconnect(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	states := collect(t, c.States())
	for _, code := range []transport.StatusCode{1000, 1001, 1011, 1012} {
		s.Faults().CloseAll(code)
		rec := states.next(t, 2*time.Second, isState(source.StateReconnecting))
		var ce *transport.CloseError
		require.ErrorAs(t, rec.Cause, &ce, "code %d", code)
		assert.Equal(t, code, ce.Code)
		states.next(t, 2*time.Second, isState(source.StateOpen))
	}
}

func TestUserCloseDoesNotReconnect(t *testing.T) {
	s := newServer(t)
	c, err := source.Connect(waitCtx(t), s.URL(), fast()...)
	require.NoError(t, err)
	states := collect(t, c.States())
	require.NoError(t, c.Close(waitCtx(t)))
	time.Sleep(100 * time.Millisecond) // several backoff periods
	assert.Empty(t, s.Clients())
	for {
		select {
		case st, ok := <-states.ch:
			if !ok {
				return
			}
			assert.NotEqual(t, source.StateReconnecting, st.State)
		case <-time.After(time.Second):
			t.Fatal("state stream did not complete after Close")
		}
	}
}

func TestPushOutcomesAreDistinctErrors(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)

	// A reply with status error: a push to a topic the socket has not joined.
	_, err := c.Push(waitCtx(t), "realtime:nowhere", "custom", []byte(`{"a":1}`))
	var re *source.ReplyError
	require.ErrorAs(t, err, &re)
	assert.ErrorIs(t, err, source.ErrReply)
	assert.Equal(t, "unmatched topic", re.Reason)

	// The push timeout.
	s.Faults().DropReplies(true)
	_, err = c.Push(waitCtx(t), "realtime:nowhere", "custom", nil, source.Timeout(50*time.Millisecond))
	assert.ErrorIs(t, err, source.ErrPushTimeout)

	// The caller's context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = c.Push(ctx, "realtime:nowhere", "custom", nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, source.ErrPushTimeout)
	s.Faults().DropReplies(false)

	// A successful round trip: the heartbeat topic answers ok.
	r, err := c.Push(waitCtx(t), "phoenix", "heartbeat", nil)
	require.NoError(t, err)
	assert.Equal(t, "ok", r.Status)
}

func TestPushPendingWhenSocketDropsFailsFast(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	s.Faults().DropReplies(true)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Push(context.Background(), "realtime:nowhere", "custom", nil, source.Timeout(5*time.Second))
		errc <- err
	}()
	_, err := s.WaitFor(waitCtx(t), func(f realtimetest.Frame) bool {
		return f.Dir == realtimetest.In && f.Msg.Event == "custom"
	})
	require.NoError(t, err)
	s.Faults().DropAll()
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, source.ErrConnectionLost)
	case <-time.After(2 * time.Second):
		t.Fatal("push was not failed when its socket dropped")
	}
	s.Faults().DropReplies(false)
}

func TestOfflineBufferIsBounded(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast(source.WithSendBuffer(2))...)
	states := collect(t, c.States())
	s.Faults().Stop()
	states.next(t, 2*time.Second, isState(source.StateReconnecting))
	for range 2 {
		_, err := c.Push(waitCtx(t), "phoenix", "buffered", nil, source.NoReply())
		require.NoError(t, err)
	}
	_, err := c.Push(waitCtx(t), "phoenix", "overflow", nil, source.NoReply())
	assert.ErrorIs(t, err, source.ErrSendBufferFull)
	require.NoError(t, s.Faults().Start())
}

func TestSlowDroppingConsumerDoesNotBlockFastOne(t *testing.T) {
	s := newServer(t, realtimetest.WithMaxEventsPerSecond(100000))
	c := connect(t, s, fast()...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	isReply := func(m phoenix.Message) bool { return m.Topic == "realtime:nowhere" }

	// The slow consumer never reads and keeps one message.
	slow := c.Messages().Subscribe(ctx, func(phoenix.Message) { <-ctx.Done() }, stream.WithBuffer(1), stream.DropNewest())
	fast := c.Topic("realtime:nowhere").Observe(ctx)

	const n = 200
	for range n {
		_, err := c.Push(ctx, "realtime:nowhere", "custom", nil, source.NoReply())
		require.NoError(t, err)
	}
	got := 0
	deadline := time.After(5 * time.Second)
	for got < n {
		select {
		case m := <-fast:
			if isReply(m) {
				got++
			}
		case <-deadline:
			t.Fatalf("fast consumer got %d of %d replies", got, n)
		}
	}
	// The slow one holds at most 2 (one in its callback, one in its
	// mailbox) of the n replies (plus any heartbeat replies): the rest are
	// counted as dropped.
	require.Eventually(t, func() bool { return slow.Dropped()+slow.Delivered() >= n }, 5*time.Second, 5*time.Millisecond)
	assert.GreaterOrEqual(t, slow.Dropped(), uint64(n-2))
	slow.Stop()
}

func TestMalformedFrameIsReportedAndIgnored(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	errs := collect(t, c.Errors())
	s.Faults().SendMalformed()
	err := errs.next(t, time.Second, func(err error) bool { return errors.Is(err, phoenix.ErrMalformed) })
	var de *phoenix.DecodeError
	assert.ErrorAs(t, err, &de)
	// The connection carries on.
	r, err := c.Push(waitCtx(t), "phoenix", "heartbeat", nil)
	require.NoError(t, err)
	assert.Equal(t, "ok", r.Status)
	assert.Equal(t, source.StateOpen, c.State())
}

func TestOversizeFrameIsRefusedThenReconnects(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast(source.WithMaxFrameSize(256))...)
	states := collect(t, c.States())
	s.Faults().SendRaw(bytes.Repeat([]byte("x"), 1024), false)
	rec := states.next(t, 2*time.Second, isState(source.StateReconnecting))
	assert.ErrorIs(t, rec.Cause, transport.ErrFrameTooLarge)
	states.next(t, 2*time.Second, isState(source.StateOpen))
}

func TestServerRestartOnSamePortReconnects(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	states := collect(t, c.States())
	require.NoError(t, s.Faults().Restart())
	states.next(t, 2*time.Second, isState(source.StateReconnecting))
	states.next(t, 2*time.Second, isState(source.StateOpen))
	r, err := c.Push(waitCtx(t), "phoenix", "heartbeat", nil)
	require.NoError(t, err)
	assert.Equal(t, "ok", r.Status)
}

func TestMaxReconnectsEndsTheClient(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast(source.WithMaxReconnects(2))...)
	s.Faults().Stop()
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("client did not give up")
	}
	assert.Error(t, c.Err())
	assert.Equal(t, source.StateClosed, c.State())
}

func TestTokenProviderIsCalledBeforeEachConnect(t *testing.T) {
	s := newServer(t)
	calls := make(chan struct{}, 16)
	c := connect(t, s, fast(source.WithAccessToken(func(context.Context) (string, error) {
		calls <- struct{}{}
		return "tok", nil
	}))...)
	<-calls
	states := collect(t, c.States())
	s.Faults().DropAll()
	states.next(t, 2*time.Second, isState(source.StateOpen))
	select {
	case <-calls:
	case <-time.After(time.Second):
		t.Fatal("provider not called before the reconnect")
	}
}

func TestSecretsStayOutOfErrorsAndLogs(t *testing.T) {
	const key = "super-secret-api-key"
	s := newServer(t, realtimetest.WithJWTSecret("jwt-secret-at-least-32-bytes-long!!"))
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var seen []error
	_, err := source.Connect(ctx, s.URL(), fast(source.WithAPIKey(key), source.WithLogger(logger),
		source.WithErrorHandler(func(err error) { seen = append(seen, err) }))...)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), key)
	// A refused key is permanent: Connect gives up at once and says why.
	var he *transport.HandshakeError
	assert.ErrorAs(t, err, &he)
	for _, e := range seen {
		assert.NotContains(t, e.Error(), key)
	}
	assert.NotContains(t, logs.String(), key)
	assert.True(t, strings.Contains(logs.String(), "rxrealtime"), "errors were logged")
}

func TestBufferedNoReplyPushesDroppedByCloseAreReported(t *testing.T) {
	s := newServer(t)
	var mu sync.Mutex
	var reported []error
	c, err := source.Connect(waitCtx(t), s.URL(), fast(source.WithErrorHandler(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))...)
	require.NoError(t, err)
	states := collect(t, c.States())
	s.Faults().Stop()
	states.next(t, 2*time.Second, isState(source.StateReconnecting))
	_, err = c.Push(waitCtx(t), "realtime:x", "queued", nil, source.NoReply())
	require.NoError(t, err, "queued while offline")
	require.NoError(t, c.Close(waitCtx(t)))

	mu.Lock()
	defer mu.Unlock()
	var unsent *source.UnsentError
	found := false
	for _, e := range reported {
		if errors.As(e, &unsent) {
			found = true
			assert.Equal(t, "queued", unsent.Event)
			assert.ErrorIs(t, e, source.ErrClosed)
		}
	}
	assert.True(t, found, "the dropped push was reported: %v", reported)
}
