package source_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
)

// A Broadcasts and a Changes consumer that never read, with the default options, are each one stall:
// each is reported once (Stats, Client.Errors), however many messages keep coming, and each holds at most
// its mailbox (DefaultStreamBuffer), the message being handed on and its Observe channel's buffer (32):
// the rest is dropped and counted. A consumer beside them that reads gets every message.
func TestStalledConsumersAreReportedOnce(t *testing.T) {
	const n = 3 * source.DefaultStreamBuffer
	const holds = source.DefaultStreamBuffer + 1 + 32
	s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1<<30)) // far more events than the default allows
	c := chConnect(t, s)
	ch := chNew(t, c, "stuck", source.WithPostgresChanges(postgres.Binding{Table: "stuck"}))
	chSubscribe(t, ch)
	errs := collect(t, c.Errors())
	ctx := t.Context()

	// The stalled consumers register first, so that each message reaches them before the witnesses.
	_ = source.Broadcasts[int](ch, "n").Observe(ctx) // never read
	_ = source.Changes[todo](ch).Observe(ctx)        // never read
	broadcasts := source.Broadcasts[int](ch, "n").Subscribe(ctx, nil, stream.Block())
	changes := source.Changes[todo](ch).Subscribe(ctx, nil, stream.Block())

	for i := range n {
		sent, err := s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "stuck", Event: "n", Payload: []byte(fmt.Sprint(i))})
		require.NoError(t, err)
		require.Equal(t, 1, sent)
		require.Equal(t, 1, emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "stuck",
			Columns: todoColumns, Record: todo{ID: int64(i), Title: "s"}}))
	}
	// Once the witnesses have every message, the reader has offered every one to the stalled consumers.
	chEventually(t, func() bool { return broadcasts.Delivered() == n && changes.Delivered() == n },
		"the reading consumers get every message")

	st := c.Stats()
	assert.Equal(t, uint64(2), st.SlowConsumers, "one report per stalled consumer")
	assert.GreaterOrEqual(t, st.Dropped, uint64(2*(n-holds)), "each stalled consumer holds at most %d messages", holds)
	for range st.SlowConsumers {
		err := errs.next(t, chWait, func(err error) bool { return errors.Is(err, source.ErrSlowConsumer) })
		var sce *source.SlowConsumerError
		require.ErrorAs(t, err, &sce)
		assert.Equal(t, "realtime:stuck", sce.Topic)
		assert.Equal(t, source.DefaultStreamBuffer, sce.Queued)
		assert.False(t, sce.Blocking)
	}
	assert.Zero(t, broadcasts.Dropped()+changes.Dropped())
}
