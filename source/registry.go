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
	idleAfter time.Duration // WithIdleDisconnect; 0: never
	idle      func()        // closes the socket for want of channels

	mu        sync.Mutex
	channels  map[string]*Channel
	closing   bool        // the client is closing: no new channel
	idleTimer *time.Timer // armed when the last channel goes
}

func (r *registry) init(idleAfter time.Duration, idle func()) { r.idleAfter, r.idle = idleAfter, idle }

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
	if old, ok := r.channels[ch.topic]; ok {
		if old.shared {
			return fmt.Errorf("%w: %s is shared (Client.Share)", ErrDuplicateChannel, ch.topic)
		}
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
	if r.idleAfter <= 0 || r.closing || len(r.channels) > 0 {
		return
	}
	if r.idleTimer != nil {
		r.idleTimer.Stop()
	}
	r.idleTimer = time.AfterFunc(r.idleAfter, r.goIdle)
}

// goIdle runs when the idle delay ran out: if still no channel, the socket closes its session and dials
// no new one until a channel subscribes.
func (r *registry) goIdle() {
	r.mu.Lock()
	idle := !r.closing && len(r.channels) == 0
	r.mu.Unlock()
	if idle {
		r.idle()
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

// live returns the live channels as the user holds them, sorted by topic: a shared channel as its
// holders, in the order they came.
func (r *registry) live() []*Channel {
	r.mu.Lock()
	out := make([]*Channel, 0, len(r.channels))
	for _, ch := range r.channels {
		if ch.shared {
			out = append(out, ch.holderList()...)
		} else {
			out = append(out, ch)
		}
	}
	r.mu.Unlock()
	slices.SortStableFunc(out, func(a, b *Channel) int { return strings.Compare(a.topic, b.topic) })
	return out
}

// joins returns the channels that join (a shared channel itself, not its holders), sorted by topic.
func (r *registry) joins() []*Channel {
	r.mu.Lock()
	out := make([]*Channel, 0, len(r.channels))
	for _, ch := range r.channels {
		out = append(out, ch)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *Channel) int { return strings.Compare(a.topic, b.topic) })
	return out
}

// share returns a new holder of topic's shared channel, made (by newShared, and attached to its route
// by attach under the registry's lock) when the topic has no live channel. It fails when the client is
// closing, when a channel of its own ([Client.Channel]) holds the topic, or when the live shared
// channel's configuration is not cfg. A shared channel whose last holder just left it, and that is
// closing for good, is waited for: it is gone at once (its leave is done), and the topic free.
func (r *registry) share(topic string, cfg *channelConfig, newShared func() *Channel, attach func(*Channel)) (*Channel, error) {
	for {
		r.mu.Lock()
		if r.closing {
			r.mu.Unlock()
			return nil, ErrClosed
		}
		ch := r.channels[topic]
		switch {
		case ch == nil:
			ch = newShared()
			if r.channels == nil {
				r.channels = make(map[string]*Channel)
			}
			r.channels[topic] = ch
			if r.idleTimer != nil {
				r.idleTimer.Stop()
				r.idleTimer = nil
			}
			attach(ch)
		case !ch.shared:
			r.mu.Unlock()
			return nil, fmt.Errorf("%w: %s is held by a channel that is not shared (Client.Channel)", ErrDuplicateChannel, topic)
		default:
			if diff := configDiff(cfg, &ch.cfg); diff != nil {
				r.mu.Unlock()
				return nil, &ConfigMismatchError{Topic: topic, Differences: diff}
			}
		}
		h := ch.newHolder()
		added := ch.addHolder(h)
		r.mu.Unlock()
		if added {
			return h, nil
		}
		<-ch.Done() // dead: its finish is under way, and forgets it before Done
	}
}

// count returns the number of live channels.
func (r *registry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.channels)
}

// statuses counts the live channels by their current status. Each channel's status is read under the
// registry's lock (the lock order forget already uses: the registry, then a channel's streams), so no
// slice of the channels is made.
func (r *registry) statuses() ChannelStatuses {
	var out ChannelStatuses
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range r.channels {
		if ev, ok := ch.Status(); ok && int(ev.Status) < len(out) {
			out[ev.Status]++
		}
	}
	return out
}

// leaveAll leaves every channel: all leaves go out first, then their replies are awaited (until ctx
// ends).
func (r *registry) leaveAll(ctx context.Context) error {
	chans := r.joins()
	leaves := make([]leaving, len(chans))
	for i, ch := range chans {
		if ch.shared { // every holder lets go
			for _, h := range ch.takeHolders(false) {
				h.closeHolder(nil)
			}
		}
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

// distributeToken sends token in an access_token push to every joined
// channel whose join or last push carried another one; the first error is
// returned once every channel was tried. SetAuth and the token provider's
// refreshes (refreshToken) both use it.
func (r *registry) distributeToken(ctx context.Context, token string) error {
	var payload []byte
	var first error
	for _, ch := range r.joins() {
		if !ch.takeToken(token) {
			continue
		}
		if payload == nil {
			var err error
			if payload, err = tokenPayload(token); err != nil {
				return err
			}
		}
		if err := ch.pushToken(ctx, payload); err != nil && first == nil {
			first = err
		}
	}
	return first
}
