package source_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/stream"
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
	c, err := source.Connect(context.Background(), s.URL(), chClientOpts(source.WithMetrics(rec))...)
	require.NoError(t, err)
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
	_, err = silent.WaitStatus(ctx, source.StatusTimedOut) // join_timeout
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
