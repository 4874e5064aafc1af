package source

import "time"

// WithIdleDisconnect closes the socket once the client has had no channel
// for d: realtime-js's disconnectOnEmptyChannelsAfterMs. The delay starts
// when the last channel is removed ([Client.RemoveChannel],
// [Channel.Unsubscribe], a server close); creating a channel cancels it.
// The socket is closed with 1000 "idle", the client goes to [StateIdle]
// and stays connected to nothing, without reconnecting, until a channel
// subscribes: then it dials again and the channel joins as after any
// reconnect. Meanwhile [Client.Push] waits in the offline buffer, and
// [Client.Topic] streams receive nothing.
//
// It is off by default here (realtime-js turns it on, at 2 × the heartbeat
// interval): a Go service often uses the socket for more than channels —
// [Client.Push], [Client.Topic] and [Client.Messages] streams, the
// heartbeat as a liveness signal — and a connection that closes itself
// whenever the channel count touches zero would silently stop those. d
// must be positive; 2 × [DefaultHeartbeatInterval] matches realtime-js.
func WithIdleDisconnect(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("WithIdleDisconnect", "delay %v is not positive", d)
			return
		}
		c.idleAfter = d
	}
}
