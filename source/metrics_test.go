package source_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport"
)

// recorder is a Metrics that records the errors and reconnects it is told of.
type recorder struct {
	source.NopMetrics
	mu         sync.Mutex
	kinds      map[error]string
	reconnects []error
}

func (r *recorder) Error(kind string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kinds == nil {
		r.kinds = map[error]string{}
	}
	r.kinds[err] = kind
}

func (r *recorder) Reconnect(_ int, _ time.Duration, cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reconnects = append(r.reconnects, cause)
}

func (r *recorder) kindOf(err error) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.kinds[err]
	return k, ok
}

// Issue 20, item 4: every error published on Client.Errors reaches the Metrics once, with its kind.
func TestMetricsCountErrorsByKind(t *testing.T) {
	s := newServer(t)
	rec := &recorder{}
	c := chConnect(t, s, source.WithMetrics(rec))
	errs := c.Errors().Observe(context.Background(), stream.Block())
	ctx := waitCtx(t)

	up := chNew(t, c, "up")
	require.NoError(t, up.Subscribe(ctx))

	s.Faults().SendMalformed() // decode
	s.Faults().RejectJoins("RealtimeRestarting: Realtime is restarting, please standby")
	refused := chNew(t, c, "refused")
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	require.Error(t, refused.Subscribe(short)) // join_refused
	cancel()
	s.Faults().RejectJoins("")
	s.Faults().DropReplies(true)
	silent := chNew(t, c, "silent")
	subscribed := make(chan error, 1)
	go func() { subscribed <- silent.Subscribe(ctx) }()
	_, err := silent.WaitStatus(ctx, source.StatusTimedOut) // join_timeout
	require.NoError(t, err)
	s.Faults().DropReplies(false)
	statuses := collect(t, up.Statuses())
	s.Faults().DropAll() // reconnect, and channel for the channels the drop errored
	statuses.next(t, chWait, func(ev source.StatusEvent) bool { return ev.Status == source.StatusChannelError })
	statuses.next(t, chWait, func(ev source.StatusEvent) bool { return ev.Status == source.StatusSubscribed })
	require.NoError(t, <-subscribed)
	require.NoError(t, c.Close(ctx))

	seen := map[string]int{}
	for err := range errs {
		kind, ok := rec.kindOf(err)
		require.True(t, ok, "no Metrics.Error for %v", err)
		seen[kind]++
		switch err.(type) {
		case *source.ReconnectError:
			assert.Equal(t, source.ErrorKindReconnect, kind, err)
		case *source.ChannelError:
			assert.Contains(t, []string{source.ErrorKindJoinRefused, source.ErrorKindJoinTimeout, source.ErrorKindChannel}, kind, err)
		}
	}
	for _, kind := range []string{source.ErrorKindDecode, source.ErrorKindJoinRefused, source.ErrorKindJoinTimeout,
		source.ErrorKindReconnect, source.ErrorKindChannel} {
		assert.Positive(t, seen[kind], kind)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, v := range seen {
		n += v
	}
	assert.Len(t, rec.kinds, n, "one Error call per error published")
}

// Issue 20, item 4: the cause of a reconnect, sorted into a bounded set for a label.
func TestReconnectCause(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, source.CauseOther},
		{source.ErrHeartbeatTimeout, source.CauseHeartbeatTimeout},
		{fmt.Errorf("session: %w", source.ErrHeartbeatTimeout), source.CauseHeartbeatTimeout},
		{&transport.HandshakeError{StatusCode: 503}, source.CauseHandshake},
		{&transport.DialError{Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}, source.CauseDial},
		{&transport.CloseError{Code: 4000, Reason: "bye"}, source.CauseServerClose},
		{&transport.CloseError{Code: transport.StatusAbnormal, Err: io.EOF}, source.CauseConnectionLost},
		{&transport.FrameTooLargeError{Size: 10, Limit: 5}, source.CauseProtocol},
		{io.ErrUnexpectedEOF, source.CauseConnectionLost},
	} {
		assert.Equal(t, tc.want, source.ReconnectCause(tc.err), "%v", tc.err)
	}

	// The causes a Metrics is given by real sessions.
	s := newServer(t)
	rec := &recorder{}
	c := connect(t, s, fast(source.WithMetrics(rec))...)
	ctx := waitCtx(t)
	causes := func() []string {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		var out []string
		for _, err := range rec.reconnects {
			out = append(out, source.ReconnectCause(err))
		}
		return out
	}
	states := collect(t, c.States())
	reopened := func() {
		t.Helper()
		states.next(t, chWait, func(sc source.StateChange) bool { return sc.State == source.StateOpen })
	}
	s.Faults().CloseAll(4000)
	reopened()
	s.Faults().DropAll()
	reopened()
	s.Faults().SetHalfOpen(true)
	states.next(t, chWait, func(sc source.StateChange) bool { return sc.State == source.StateReconnecting })
	s.Faults().SetHalfOpen(false)
	reopened()
	require.NoError(t, c.Close(ctx)) // every Reconnect call has run
	assert.Equal(t, []string{source.CauseServerClose, source.CauseConnectionLost, source.CauseHeartbeatTimeout}, causes())
}
