package source_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

// burstFrames is how many messages the saturating bursts below send: many times the consumers' mailboxes.
const burstFrames = 20_000

// burstColumns are todo's columns without a primary key: the test server then appends each row to its table
// without looking for it first.
var burstColumns = []realtimetest.Column{{Name: "id", Type: "int8"}, {Name: "title", Type: "text"}, {Name: "done", Type: "bool"}}

// A consumer that keeps up on average loses nothing with the default options, even when the server writes a
// burst as fast as the socket takes it: the README's own loop, and a Subscribe callback that only counts.
// The burst is held on the server until all of it is queued, then written at once, so the socket's reader
// outruns the consumer whenever the scheduler favours it.
func TestKeepingUpConsumerLosesNothing(t *testing.T) {
	t.Run("Changes/Observe", func(t *testing.T) {
		s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1<<30), realtimetest.WithMaxRecordedFrames(0))
		c := connect(t, s, source.WithAPIKey("anon-key")) // default options: heartbeats wait out the hold
		ch := chNew(t, c, "burst", source.WithPostgresChanges(postgres.Binding{Table: "burst"}))
		chSubscribe(t, ch)

		var got, sum atomic.Int64
		changes := source.Changes[todo](ch).Observe(t.Context())
		go func() {
			for chg := range changes { // the README's loop: nothing else in it
				sum.Add(chg.New.ID)
				got.Add(1)
			}
		}()
		s.Faults().HoldWrites(true)
		for i := range burstFrames {
			require.Equal(t, 1, emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "burst",
				Columns: burstColumns, Record: todo{ID: int64(i)}}))
		}
		s.Faults().HoldWrites(false)
		lossless(t, c, &got, burstFrames)
		assert.Equal(t, int64(burstFrames*(burstFrames-1)/2), sum.Load(), "every change, each once")
	})
	t.Run("Broadcasts/Subscribe", func(t *testing.T) {
		s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1<<30), realtimetest.WithMaxRecordedFrames(0))
		c := connect(t, s, source.WithAPIKey("anon-key"))
		ch := chNew(t, c, "burst")
		chSubscribe(t, ch)

		var got atomic.Int64
		sub := source.Broadcasts[int](ch, "n").Subscribe(t.Context(), func(source.Broadcast[int]) { got.Add(1) })
		s.Faults().HoldWrites(true)
		for i := range burstFrames {
			n, err := s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "burst", Event: "n", Payload: []byte(fmt.Sprint(i))})
			require.NoError(t, err)
			require.Equal(t, 1, n)
		}
		s.Faults().HoldWrites(false)
		lossless(t, c, &got, burstFrames)
		assert.Zero(t, sub.Dropped())
	})
}

// lossless waits until the consumer counting in got has received n messages or the client has dropped some
// (every message then either delivered or dropped), and requires that none was dropped.
func lossless(t *testing.T, c *source.Client, got *atomic.Int64, n int64) {
	t.Helper()
	chEventually(t, func() bool { return got.Load()+int64(c.Stats().Dropped) >= n }, "every message delivered or dropped")
	st := c.Stats()
	require.Zerof(t, st.Dropped, "dropped %d of %d messages for a consumer that keeps up (%d slow-consumer reports)",
		st.Dropped, n, st.SlowConsumers)
	assert.Equal(t, n, got.Load())
}

// A consumer that stops reading delays another channel's acknowledged round trips once, by the client's
// consumer wait at most (capped at a quarter of the heartbeat timeout), however many messages keep coming
// for it: checked in virtual time over an in-memory pipe, where nothing but that wait takes time. The
// stopped consumer is then reported once, with the time the reader waited for it.
func TestStoppedConsumerDelaysOtherChannelsOnceByTheWaitAtMost(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []source.Option
		wait time.Duration
	}{
		{"default", nil, source.DefaultConsumerWait},
		{"WithConsumerWait(1s,5s)", []source.Option{source.WithConsumerWait(time.Second, 5*time.Second)}, time.Second},
		{"WithConsumerWait(0,0)", []source.Option{source.WithConsumerWait(0, 0)}, 0},
		// The wait is capped at a quarter of the heartbeat timeout: waiting cannot make a heartbeat time out.
		{"WithHeartbeat(1s,200ms)", []source.Option{source.WithHeartbeat(time.Second, 200*time.Millisecond)}, 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := realtimetest.NewServer(realtimetest.WithPipe(), realtimetest.WithMaxEventsPerSecond(1<<30),
					realtimetest.WithMaxRecordedFrames(0))
				defer s.Close()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				c, err := source.Connect(ctx, s.URL(), append([]source.Option{source.WithAPIKey("anon"),
					source.WithDialer(s.DialPipe)}, tc.opts...)...)
				require.NoError(t, err)
				defer c.Close(context.Background())
				stuck, err := c.Channel("stuck")
				require.NoError(t, err)
				acked, err := c.Channel("acked", source.WithBroadcastAck())
				require.NoError(t, err)
				require.NoError(t, stuck.Subscribe(ctx))
				require.NoError(t, acked.Subscribe(ctx))
				errs := collect(t, c.Errors())

				_ = source.Broadcasts[int](stuck, "n").Observe(ctx) // never read
				const rounds, per = 40, 100                         // 4,000 messages: ~4 mailboxes
				var total, most time.Duration
				for i := range rounds {
					for j := range per {
						_, err := s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "stuck", Event: "n", Payload: []byte(fmt.Sprint(i*per + j))})
						require.NoError(t, err)
					}
					start := time.Now()
					require.NoError(t, acked.Send(ctx, "ping", map[string]int{"i": i}))
					rtt := time.Since(start)
					total += rtt
					most = max(most, rtt)
				}
				assert.Equal(t, tc.wait, most, "the longest round trip waited for the stopped consumer")
				assert.Equal(t, tc.wait, total, "once")
				st := c.Stats()
				assert.Zero(t, st.Reconnects, "no heartbeat timed out")
				assert.Equal(t, uint64(1), st.SlowConsumers)
				assert.Equal(t, uint64(rounds*per-(source.DefaultStreamBuffer+1+32)), st.Dropped,
					"the stopped consumer holds its mailbox, the message being handed on and its channel's buffer")
				err = errs.next(t, time.Minute, func(err error) bool { return errors.Is(err, source.ErrSlowConsumer) })
				var sce *source.SlowConsumerError
				require.ErrorAs(t, err, &sce)
				assert.Equal(t, tc.wait, sce.Waited)
				assert.Equal(t, "realtime:stuck", sce.Topic)
			})
		})
	}
}
