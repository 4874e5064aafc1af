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
	// Each socket names itself: connection ids follow the order in which the
	// server registers the handshakes, not the order of the dials.
	a, err := transport.Dial(ctx, s.URL()+"/websocket?apikey=anon-key&vsn=2.0.0&client=a")
	require.NoError(t, err)
	defer a.CloseNow()
	b, err := transport.Dial(ctx, s.URL()+"/websocket?apikey=anon-key&vsn=2.0.0&client=b")
	require.NoError(t, err)
	defer b.CloseNow()
	as, bs := s.ConnsWithParam("client", "a"), s.ConnsWithParam("client", "b")
	require.Len(t, as, 1)
	require.Len(t, bs, 1)

	require.True(t, s.Faults().DropConn(as[0]))
	// The server's view first, so that a wrong drop fails here instead of
	// blocking in ReadFrame until the idle timeout.
	require.Eventually(t, func() bool { return len(s.Clients()) == 1 }, 2*time.Second, 5*time.Millisecond)
	require.Equal(t, bs[0], s.Clients()[0].ID, "the other connection stays")
	_, _, err = a.ReadFrame()
	require.Error(t, err, "the dropped connection is closed")
	require.False(t, s.Faults().DropConn(as[0]), "an unknown connection")

	// b still works.
	require.NoError(t, b.WriteFrame(ctx, []byte(`[null,"1","phoenix","heartbeat",{}]`), false))
	reply, _, err := b.ReadFrame()
	require.NoError(t, err)
	require.Contains(t, string(reply), `"phx_reply"`)
}
