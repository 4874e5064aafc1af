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
