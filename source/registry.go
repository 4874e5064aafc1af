package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// registry is the client's live channels, by topic: a channel is in it from Client.Channel until it is
// closed for good. When the last channel goes it arms the idle disconnect (WithIdleDisconnect).
type registry struct {
	c *Client

	mu        sync.Mutex
	channels  map[string]*Channel
	closing   bool        // the client is closing: no new channel
	idleTimer *time.Timer // armed when the last channel goes
}

func (r *registry) init(c *Client) { r.c = c }

// add registers ch under its topic, or fails: the client is closing, or the topic has a live channel.
// attach, run under the registry's lock, makes ch's route (so that a channel of the same name cannot
// attach between the check and the route).
func (r *registry) add(ch *Channel, attach func()) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return ErrClosed
	}
	if r.channels == nil {
		r.channels = make(map[string]*Channel)
	}
	if _, ok := r.channels[ch.topic]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicateChannel, ch.topic)
	}
	r.channels[ch.topic] = ch
	if r.idleTimer != nil { // a channel is created: cancel a pending idle disconnect, as realtime-js does
		r.idleTimer.Stop()
		r.idleTimer = nil
	}
	attach()
	return nil
}

// forget removes a channel closed for good and runs detach (which completes its streams) under the
// registry's lock, so that a new channel of the same name cannot attach to the route and share the streams
// it completes.
func (r *registry) forget(ch *Channel, detach func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.channels[ch.topic] == ch {
		delete(r.channels, ch.topic)
		r.armIdleLocked()
	}
	detach()
}

// armIdleLocked arms the idle disconnect when the last channel has gone. r.mu held.
func (r *registry) armIdleLocked() {
	after := r.c.cfg.idleAfter
	if after <= 0 || r.closing || len(r.channels) > 0 {
		return
	}
	if r.idleTimer != nil {
		r.idleTimer.Stop()
	}
	r.idleTimer = time.AfterFunc(after, r.goIdle)
}

// goIdle runs when the idle delay ran out: if still no channel, the socket closes its session and dials
// no new one until a channel subscribes.
func (r *registry) goIdle() {
	r.mu.Lock()
	idle := !r.closing && len(r.channels) == 0
	r.mu.Unlock()
	if idle {
		r.c.sock.Idle()
	}
}

// close refuses new channels and stops the idle timer.
func (r *registry) close() {
	r.mu.Lock()
	r.closing = true
	if r.idleTimer != nil {
		r.idleTimer.Stop()
	}
	r.mu.Unlock()
}

// live returns the live channels, sorted by topic.
func (r *registry) live() []*Channel {
	r.mu.Lock()
	out := make([]*Channel, 0, len(r.channels))
	for _, ch := range r.channels {
		out = append(out, ch)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *Channel) int { return strings.Compare(a.topic, b.topic) })
	return out
}

// count returns the number of live channels.
func (r *registry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.channels)
}

// leaveAll leaves every channel: all leaves go out first, then their replies are awaited (until ctx
// ends).
func (r *registry) leaveAll(ctx context.Context) error {
	chans := r.live()
	leaves := make([]leaving, len(chans))
	for i, ch := range chans {
		leaves[i] = ch.startLeave()
	}
	var errs []error
	for i, ch := range chans {
		if err := ch.awaitLeave(ctx, leaves[i]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ch.topic, err))
		}
	}
	return errors.Join(errs...)
}

// Channels returns the client's live channels (created and not yet closed
// for good, subscribed or not), sorted by topic: realtime-js's
// getChannels.
func (c *Client) Channels() []*Channel { return c.reg.live() }

// RemoveChannel leaves ch ([Channel.Unsubscribe]: phx_leave, then CLOSED)
// and forgets it: it is no longer in [Client.Channels] and its name is
// free. The client stays connected (see [WithIdleDisconnect] for
// realtime-js's disconnect once no channel is left). Removing a channel
// already closed for good does nothing; a channel of another client is an
// error wrapping [ErrInvalidChannel].
func (c *Client) RemoveChannel(ctx context.Context, ch *Channel) error {
	if ch == nil || ch.host != channelHost(c) {
		return fmt.Errorf("%w: not a channel of this client", ErrInvalidChannel)
	}
	return ch.Unsubscribe(ctx)
}

// RemoveAllChannels removes every channel as [Client.RemoveChannel] does,
// sending all the leaves first and then waiting for their replies (until
// ctx ends). The client stays connected. The error joins the channels'
// errors (ctx's error when it ended first).
func (c *Client) RemoveAllChannels(ctx context.Context) error { return c.reg.leaveAll(ctx) }
