package realtimetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport"
)

// A fault injected right after a client's handshake completes reaches that
// client: the server registers a connection before any fault or Clients
// call can miss it.
func TestFaultsReachAClientRightAfterItsHandshake(t *testing.T) {
	s := realtimetest.NewServer()
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 100 {
		c, err := transport.Dial(ctx, s.URL()+"/websocket?apikey=k&vsn=2.0.0")
		require.NoError(t, err)
		require.Len(t, s.Clients(), 1, "round %d", i)
		s.Faults().DropAll()
		_, _, err = c.ReadFrame()
		require.Error(t, err, "round %d: DropAll missed the new connection", i)
		_ = c.CloseNow()
		require.Eventually(t, func() bool { return len(s.Clients()) == 0 }, 2*time.Second, time.Millisecond)
	}
}
