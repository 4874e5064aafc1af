package source_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
)

// With the real defaults (25 s heartbeat, 25 s reply timeout, 1 s first
// reconnect delay) a half-open socket is detected 50 s after the last
// healthy heartbeat — checked in virtual time, over an in-memory pipe.
func TestHalfOpenDetectedWithDefaultTimingsInVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := realtimetest.NewServer(realtimetest.WithPipe())
		defer s.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, err := source.Connect(ctx, s.URL(), source.WithAPIKey("anon"), source.WithDialer(s.DialPipe))
		require.NoError(t, err)
		defer c.Close(context.Background())

		var mu sync.Mutex
		var heartbeats []source.HeartbeatEvent
		var states []source.StateChange
		hbSub := c.Heartbeats().Subscribe(ctx, func(e source.HeartbeatEvent) {
			mu.Lock()
			heartbeats = append(heartbeats, e)
			mu.Unlock()
		}, stream.WithBuffer(64))
		stSub := c.States().Subscribe(ctx, func(s source.StateChange) {
			mu.Lock()
			states = append(states, s)
			mu.Unlock()
		}, stream.WithBuffer(64))
		lastHeartbeat := func() source.HeartbeatEvent {
			mu.Lock()
			defer mu.Unlock()
			require.NotEmpty(t, heartbeats)
			return heartbeats[len(heartbeats)-1]
		}

		opened := time.Now()
		time.Sleep(25*time.Second + time.Millisecond) // first heartbeat one interval after open
		synctest.Wait()
		ok := lastHeartbeat()
		assert.Equal(t, source.HeartbeatOK, ok.Status)
		assert.Equal(t, 25*time.Second, ok.At.Sub(opened))

		s.Faults().SetHalfOpen(true)
		// The next heartbeat goes out 25 s after the reply; its reply timeout is 25 s.
		time.Sleep(ok.At.Add(50*time.Second).Sub(time.Now()) - time.Millisecond)
		synctest.Wait()
		assert.NotEqual(t, source.HeartbeatTimeout, lastHeartbeat().Status, "not yet timed out")
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		last := lastHeartbeat()
		assert.Equal(t, source.HeartbeatTimeout, last.Status)
		assert.Equal(t, 50*time.Second, last.At.Sub(ok.At))

		s.Faults().SetHalfOpen(false)
		time.Sleep(2 * time.Second) // the first reconnect waits at most 1 s (full jitter)
		synctest.Wait()
		mu.Lock()
		var reconnecting, reopened bool
		for _, st := range states {
			if st.State == source.StateReconnecting {
				reconnecting = true
				assert.ErrorIs(t, st.Cause, source.ErrHeartbeatTimeout)
				assert.LessOrEqual(t, st.Delay, time.Second)
			}
			if reconnecting && st.State == source.StateOpen {
				reopened = true
			}
		}
		mu.Unlock()
		assert.True(t, reconnecting, "a reconnect was started")
		assert.True(t, reopened, "the client reconnected")
		hbSub.Stop()
		stSub.Stop()
	})
}
