package realtimetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport"
)

func TestDropConnDropsOnlyThatConnection(t *testing.T) {
	s := realtimetest.NewServer()
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := transport.Dial(ctx, s.URL()+"/websocket?apikey=anon-key&vsn=2.0.0")
	require.NoError(t, err)
	defer a.CloseNow()
	b, err := transport.Dial(ctx, s.URL()+"/websocket?apikey=anon-key&vsn=2.0.0")
	require.NoError(t, err)
	defer b.CloseNow()
	require.Eventually(t, func() bool { return len(s.Clients()) == 2 }, 2*time.Second, 5*time.Millisecond)
	first := s.Clients()[0].ID

	require.True(t, s.Faults().DropConn(first))
	_, _, err = a.ReadFrame()
	require.Error(t, err, "the dropped connection is closed")
	require.Eventually(t, func() bool { return len(s.Clients()) == 1 }, 2*time.Second, 5*time.Millisecond)
	require.NotEqual(t, first, s.Clients()[0].ID, "the other connection stays")
	require.False(t, s.Faults().DropConn(first), "an unknown connection")
}
