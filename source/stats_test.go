package source_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
)

// Issue 20, item 4: Stats counts the live channels by status, for a channel-status gauge.
func TestStatsCountChannelsByStatus(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	up, err := c.Channel("up")
	require.NoError(t, err)
	require.NoError(t, up.Subscribe(ctx))
	_, err = c.Channel("never") // never subscribed: no status
	require.NoError(t, err)
	s.Faults().RejectJoins("RealtimeRestarting: Realtime is restarting, please standby")
	refused, err := c.Channel("refused")
	require.NoError(t, err)
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	require.Error(t, refused.Subscribe(short)) // abandoned: CLOSED, still a live channel
	cancelShort()

	st := c.Stats()
	assert.Equal(t, 3, st.Channels)
	var want source.ChannelStatuses
	want[source.StatusSubscribed] = 1
	want[source.StatusClosed] = 1
	assert.Equal(t, want, st.ChannelStatuses)

	require.NoError(t, up.Unsubscribe(ctx))
	st = c.Stats()
	assert.Equal(t, 2, st.Channels)
	want[source.StatusSubscribed] = 0
	assert.Equal(t, want, st.ChannelStatuses)
}

// Issue 20, item 4: a Pool's Stats are the pool as one client (summed over its sockets) and each
// socket's own.
func TestPoolStatsSumTheSockets(t *testing.T) {
	s := newServer(t)
	p := connectPool(t, s, fast(source.WithChannelsPerSocket(2))...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		ch, err := p.Channel(name)
		require.NoError(t, err)
		require.NoError(t, ch.Subscribe(ctx))
	}
	require.Len(t, p.Sockets(), 3)

	st := p.Stats()
	require.Len(t, st.Sockets, 3)
	assert.Equal(t, 6, st.Channels)
	assert.Equal(t, 6, st.ChannelStatuses[source.StatusSubscribed])
	assert.Equal(t, source.StateOpen, st.State)
	var framesIn uint64
	for i, sock := range st.Sockets {
		assert.Equal(t, 2, sock.Channels, "socket %d", i)
		assert.Equal(t, source.StateOpen, sock.State, "socket %d", i)
		assert.Positive(t, sock.FramesIn, "socket %d", i)
		framesIn += sock.FramesIn
	}
	assert.Equal(t, framesIn, st.FramesIn)

	// One socket down: the pool is not open.
	require.NoError(t, p.Sockets()[1].Close(ctx))
	st = p.Stats()
	assert.Equal(t, source.StateClosed, st.State)
	assert.Equal(t, source.StateClosed, st.Sockets[1].State)
	assert.Equal(t, 4, st.Channels)
}
