package source

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/rxrealtime/rxrealtime/transport"
)

// errIdle ends a session closed by the idle disconnect.
var errIdle = errors.New("rxrealtime: no channel left (idle disconnect)")

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

// channelGoneLocked arms the idle disconnect when the last channel has
// gone. c.mu held.
func (c *Client) channelGoneLocked() {
	if c.cfg.idleAfter <= 0 || c.closing || len(c.channels) > 0 {
		return
	}
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
	c.idleTimer = time.AfterFunc(c.cfg.idleAfter, c.goIdle)
}

// channelAddedLocked cancels a pending idle disconnect, as realtime-js
// does when a channel is created. c.mu held.
func (c *Client) channelAddedLocked() {
	if c.idleTimer != nil {
		c.idleTimer.Stop()
		c.idleTimer = nil
	}
}

// goIdle runs when the idle delay ran out: if still no channel, the
// current session is closed and no new one dialled until wakeIfIdle.
func (c *Client) goIdle() {
	c.mu.Lock()
	if c.closing || c.idle || len(c.channels) > 0 {
		c.mu.Unlock()
		return
	}
	c.idle = true
	c.wake = make(chan struct{})
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		s.fail(errIdle, transport.StatusNormalClosure, "idle")
	}
}

// wakeIfIdle ends an idle spell: a channel wants to join.
func (c *Client) wakeIfIdle() {
	c.mu.Lock()
	if c.idle {
		c.idle = false
		close(c.wake)
	}
	c.mu.Unlock()
}

func (c *Client) isIdle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.idle
}

// waitWhileIdle holds the connection while the client is idle, reporting
// StateIdle, then StateConnecting when a channel subscribes.
func (c *Client) waitWhileIdle(ctx context.Context) error {
	c.mu.Lock()
	if !c.idle {
		c.mu.Unlock()
		return nil
	}
	wake := c.wake
	c.state = StateIdle
	c.mu.Unlock()
	c.emitState(StateChange{State: StateIdle})
	select {
	case <-wake:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	if c.state == StateIdle {
		c.state = StateConnecting
	}
	c.mu.Unlock()
	c.emitState(StateChange{State: StateConnecting})
	c.logAttrs(slog.LevelInfo, "rxrealtime: a channel subscribes, reconnecting")
	return nil
}
