package realtimetest_test

import (
	"context"
	"io"
	"os"
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

// ExampleWithPipe is meant to be run in a testing/synctest bubble: run so,
// it prints what it prints outside one, the reconnect's second of backoff
// passing on the bubble's clock.
func TestExampleWithPipeInABubble(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	printed := make(chan string, 1)
	go func() { // outside the bubble: reading the pipe is not a durable block
		b, _ := io.ReadAll(r)
		printed <- string(b)
	}()
	stdout := os.Stdout
	os.Stdout = w
	func() {
		defer func() { os.Stdout = stdout }()
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			ExampleWithPipe()
			assert.GreaterOrEqual(t, time.Since(start), time.Second, "the backoff, on the bubble's clock")
		})
	}()
	require.NoError(t, w.Close())
	assert.Equal(t, `alice's room: CHANNEL_ERROR
alice's room: JOINING
alice's room: SUBSCRIBED
back after 1s
alice hears: {From:bob Text:welcome back}
bob kept his connection: true
`, <-printed)
	require.NoError(t, r.Close())
}
