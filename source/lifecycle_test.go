package source_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// The socket's lifecycle rules (issue 19): a message larger than the server takes is refused before it is
// queued; a frame the server closed the socket for is never sent again; a permanent join refusal ends
// Subscribe at once; a Send while the socket is down is buffered, not lost.

// reported records what a client reports.
type reported struct {
	mu   sync.Mutex
	errs []error
}

func (l *reported) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *reported) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// joinedPair connects a client to s and subscribes two channels: the one a test abuses and a bystander.
func joinedPair(t *testing.T, s *realtimetest.Server, log *reported, opts ...source.ChannelOption) (*source.Client, *source.Channel, *source.Channel) {
	t.Helper()
	c := chConnect(t, s, source.WithErrorHandler(log.add))
	big, err := c.Channel("big", opts...)
	require.NoError(t, err)
	other, err := c.Channel("other", source.WithBroadcastSelf(), source.WithBroadcastAck())
	require.NoError(t, err)
	require.NoError(t, big.Subscribe(chCtx(t)))
	require.NoError(t, other.Subscribe(chCtx(t)))
	return c, big, other
}

// bystanderWorks checks that the other channel still does an acknowledged round trip.
func bystanderWorks(t *testing.T, other *source.Channel) {
	t.Helper()
	_, err := other.WaitStatus(chCtx(t), source.StatusSubscribed)
	require.NoError(t, err)
	require.NoError(t, other.Send(chCtx(t), "ping", map[string]int{"n": 1}))
}

// Item 1: a Send larger than the server's frame limit (5 MiB, as Supabase's) is refused before it is
// queued, with a typed error naming the size and the limit; the socket, the channel and another channel
// carry on, nothing is reported unsent, and the client never reconnects for it.
func TestOversizedSendIsRefusedBeforeItIsQueued(t *testing.T) {
	s := rtServer(t)
	var log reported
	c, big, other := joinedPair(t, s, &log)
	blob := map[string]string{"data": strings.Repeat("x", 6<<20)}
	for _, opts := range [][]source.CallOption{nil, {source.NoReply()}} {
		err := big.Send(chCtx(t), "blob", blob, opts...)
		require.Error(t, err)
		assert.ErrorIs(t, err, source.ErrMessageTooLarge)
		var mt *source.MessageTooLargeError
		require.ErrorAs(t, err, &mt)
		assert.Greater(t, mt.Size, 6<<20)
		assert.Equal(t, source.DefaultMaxFrameSize, mt.Limit)
		assert.Equal(t, "realtime:big", mt.Topic)
		assert.Contains(t, err.Error(), "5242880")
	}
	require.NoError(t, big.Send(chCtx(t), "small", map[string]int{"n": 1}), "the channel carries on")
	bystanderWorks(t, other)
	time.Sleep(300 * time.Millisecond) // two heartbeats: a drop would have shown
	assert.Zero(t, c.Stats().Reconnects)
	require.NoError(t, c.Close(chCtx(t)))
	for _, e := range log.all() {
		var unsent *source.UnsentError
		assert.False(t, errors.As(e, &unsent), "nothing is reported unsent: %v", e)
	}
}

// Item 1, the server's side: a server whose limit is below the client's (a self-hosted one) closes the
// socket with 1009 for a frame. That frame is never sent again: an acknowledged Send fails once, with the
// close as its cause and one prefix; an unacknowledged one is reported unsent with that cause. The client
// reconnects once and every channel is SUBSCRIBED again.
func TestFrameTheServerClosedForIsNeverResent(t *testing.T) {
	for _, ack := range []bool{true, false} {
		name := map[bool]string{true: "ack", false: "no ack"}[ack]
		t.Run(name, func(t *testing.T) {
			s := rtServer(t, realtimetest.WithMaxFrameSize(1<<20))
			var log reported
			var opts []source.ChannelOption
			if ack {
				opts = append(opts, source.WithBroadcastAck())
			}
			c, big, other := joinedPair(t, s, &log, opts...)
			err := big.Send(chCtx(t), "blob", map[string]string{"data": strings.Repeat("x", 2<<20)})
			if ack {
				require.Error(t, err)
				assert.ErrorIs(t, err, source.ErrConnectionLost)
				var ce *transport.CloseError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, transport.StatusMessageTooBig, ce.Code)
				assert.Equal(t, 1, strings.Count(err.Error(), "connection lost"), "one prefix: %v", err)
			} else {
				require.NoError(t, err, "queued")
				chEventually(t, func() bool {
					for _, e := range log.all() {
						var unsent *source.UnsentError
						var ce *transport.CloseError
						if errors.As(e, &unsent) && unsent.Event == "blob" && errors.As(e, &ce) && ce.Code == transport.StatusMessageTooBig {
							return true
						}
					}
					return false
				}, "the unacknowledged blob reported unsent, with the 1009 as its cause: %v", log.all())
			}
			_, err = big.WaitStatus(chCtx(t), source.StatusSubscribed)
			require.NoError(t, err)
			bystanderWorks(t, other)
			time.Sleep(500 * time.Millisecond)
			assert.Equal(t, uint64(1), c.Stats().Reconnects, "one reconnect: the frame was not sent again")
		})
	}
}

// Item 2: a permanent refusal (a private-only project, a channel created without WithPrivate) ends
// Subscribe at once with the server's reason; the channel does not rejoin. A transient one
// (RealtimeRestarting) keeps Subscribe waiting within its ctx while the channel rejoins.
func TestSubscribeEndsAtAPermanentRefusal(t *testing.T) {
	s := rtServer(t, realtimetest.WithPrivateOnly(), realtimetest.WithJoinErrorDelay(10*time.Millisecond))
	c := chConnect(t, s)
	room, err := c.Channel("room", chFast()...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	err = room.Subscribe(ctx)
	var je *source.JoinError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "PrivateOnly", je.Code)
	assert.True(t, je.Permanent)
	assert.NoError(t, ctx.Err(), "returned at the refusal, not at the ctx's end")
	assert.Less(t, time.Since(start), 2*time.Second)
	time.Sleep(200 * time.Millisecond) // twenty rejoin delays
	joins := 0
	for _, f := range s.Frames() {
		if f.Dir == realtimetest.In && f.Msg.Event == phoenix.EventJoin && f.Msg.Topic == "realtime:room" {
			joins++
		}
	}
	assert.Equal(t, 1, joins, "no rejoin after a permanent refusal")
	st, ok := room.Status()
	require.True(t, ok)
	assert.Equal(t, source.StatusClosed, st.Status)
	assert.ErrorAs(t, st.Err, &je)

	// The same channel made private joins.
	private, err := c.Channel("secret", append(chFast(), source.WithPrivate())...)
	require.NoError(t, err)
	require.NoError(t, private.Subscribe(chCtx(t)))
}

func TestSubscribeWaitsThroughATransientRefusal(t *testing.T) {
	s := rtServer(t, realtimetest.WithJoinErrorDelay(10*time.Millisecond))
	s.Faults().RejectJoins("RealtimeRestarting: Realtime is restarting, please standby")
	c := chConnect(t, s)
	room, err := c.Channel("room", chFast()...)
	require.NoError(t, err)
	go func() {
		time.Sleep(300 * time.Millisecond)
		s.Faults().RejectJoins("")
	}()
	require.NoError(t, room.Subscribe(chCtx(t)), "the refusal was transient: the rejoin got in")
}

// Item 3: a Send while the socket is down is buffered and goes out after the channel rejoins; an
// acknowledged one waits for its acknowledgement within its timeout. Neither waits out its timeout to
// fail with "channel not joined".
func TestSendWhileReconnectingIsBuffered(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	room, err := c.Channel("room", append(chFast(), source.WithBroadcastSelf())...)
	require.NoError(t, err)
	got := collect(t, source.Broadcasts[map[string]int](room, "*"))
	require.NoError(t, room.Subscribe(chCtx(t)))
	acked, err := c.Channel("acked", append(chFast(), source.WithBroadcastAck())...)
	require.NoError(t, err)
	require.NoError(t, acked.Subscribe(chCtx(t)))

	s.Faults().Stop()
	_, err = room.WaitStatus(chCtx(t), source.StatusChannelError)
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, room.Send(chCtx(t), "offline", map[string]int{"n": 1}))
	assert.Less(t, time.Since(start), 100*time.Millisecond, "buffered at once")

	ackErr := make(chan error, 1)
	go func() {
		ackErr <- acked.Send(chCtx(t), "offline", map[string]int{"n": 2}, source.Timeout(5*time.Second))
	}()
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, s.Faults().Start())
	require.NoError(t, <-ackErr, "acknowledged after the rejoin")
	b := got.next(t, 5*time.Second, func(source.Broadcast[map[string]int]) bool { return true })
	assert.Equal(t, "offline", b.Event)
	assert.Equal(t, 1, b.Payload["n"])

	// Down for longer than the timeout: the push times out, it does not fail as "not joined".
	s.Faults().Stop()
	_, err = acked.WaitStatus(chCtx(t), source.StatusChannelError)
	require.NoError(t, err)
	err = acked.Send(chCtx(t), "late", map[string]int{"n": 3}, source.Timeout(200*time.Millisecond))
	assert.ErrorIs(t, err, source.ErrPushTimeout)
	assert.NotErrorIs(t, err, source.ErrNotJoined)
	require.NoError(t, s.Faults().Start())
}
