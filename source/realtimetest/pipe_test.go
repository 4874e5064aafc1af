package realtimetest_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func TestPipeServerAnswersHeartbeatsInVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := realtimetest.NewServer(realtimetest.WithPipe())
		defer s.Close()
		assert.Equal(t, "ws://"+realtimetest.PipeHost+"/socket", s.URL())
		ctx := context.Background()
		c, err := transport.Dial(ctx, s.URL()+"/websocket?apikey=k&vsn=2.0.0", transport.WithNetDialer(s.DialPipe))
		require.NoError(t, err)
		defer c.CloseNow()
		time.Sleep(30 * time.Second) // virtual time: below the 60 s idle timeout
		frame, _, err := phoenix.V2.Encode(nil, &phoenix.Message{Ref: "1", Topic: "phoenix", Event: "heartbeat", Payload: []byte("{}")})
		require.NoError(t, err)
		require.NoError(t, c.WriteFrame(ctx, frame, false))
		data, _, err := c.ReadFrame()
		require.NoError(t, err)
		assert.JSONEq(t, `[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]`, string(data))
	})
}

func TestPipeServerStopsAndRestarts(t *testing.T) {
	s := realtimetest.NewServer(realtimetest.WithPipe())
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Faults().Stop()
	_, err := s.DialPipe(ctx, "tcp", "")
	assert.ErrorIs(t, err, realtimetest.ErrNoPipe)
	require.NoError(t, s.Faults().Start())
	c, err := transport.Dial(ctx, s.URL()+"/websocket?apikey=k&vsn=2.0.0", transport.WithNetDialer(s.DialPipe))
	require.NoError(t, err)
	require.NoError(t, c.CloseNow())
}
