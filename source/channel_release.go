package source

import (
	"context"
	"slices"
)

// Releasing: Unsubscribe, for a channel of its own and for a holder of a shared channel, and what follows
// a leave.

// Unsubscribe leaves the channel: it sends phx_leave and waits for the
// reply (or the push timeout, or ctx), then reports CLOSED and completes
// the channel's streams. The channel is then closed for good and its name
// free for a new [Client.Channel]. Concurrent calls all wait for the same
// leave.
//
// On a holder of a shared channel ([Client.Share]) Unsubscribe releases
// the holder: at once, its streams complete, it reports CLOSED and Done is
// closed, while the other holders go on undisturbed. The holder that
// releases last leaves the join as above (phx_leave, waiting for the
// reply); a holder that arrives meanwhile keeps the channel, which joins
// again once one of its holders subscribes.
func (ch *Channel) Unsubscribe(ctx context.Context) error {
	if ch.hold != nil {
		return ch.release(ctx)
	}
	return ch.awaitLeave(ctx, ch.startLeave())
}

// release lets go of the holder ch: its streams end, and the last holder to let go leaves the join.
func (ch *Channel) release(ctx context.Context) error {
	core := ch.hold.core
	// The last holder's leave begins as it goes, under the channel's lock: a holder that subscribes after
	// finds the channel leaving, and joins again once the leave is done (afterLeave).
	var l leaving
	var wasJoined bool
	core.mu.Lock()
	last, ok := core.dropHolder(ch)
	if last {
		l, wasJoined = core.beginLeaveLocked()
	}
	core.mu.Unlock()
	if !ok {
		return nil // released already, or its shared channel closed for good
	}
	ch.closeHolder(nil)
	if !last {
		return nil
	}
	return core.awaitLeave(ctx, core.sendLeave(l, wasJoined))
}

// awaitLeave waits for the leave's reply (or its timeout, or ctx), then closes the channel for good, or
// keeps a shared one that a holder came to meanwhile (afterLeave).
func (ch *Channel) awaitLeave(ctx context.Context, l leaving) error {
	over, err := ch.waitLeave(ctx, l)
	if !over {
		ch.afterLeave()
	}
	return err
}

// afterLeave closes the channel for good once its leave is done — unless it is a shared channel that
// a holder came to while it was leaving: that one stays, CLOSED, and joins again at once if a holder has
// subscribed meanwhile (later otherwise, on a holder's Subscribe).
func (ch *Channel) afterLeave() {
	if ch.shared {
		ch.mu.Lock()
		ch.holdMu.Lock()
		holders := ch.holderList()
		stay := len(holders) > 0 && !ch.dead
		ch.dead = !stay
		ch.holdMu.Unlock()
		if stay && !ch.isGone() {
			if ch.state == stLeaving {
				ch.state = stClosed
			}
			// A holder that subscribed while the join was left, or just before its leave went out.
			again := ch.subscribed || slices.ContainsFunc(holders, func(h *Channel) bool { return h.hold.subscribed.Load() })
			if again {
				ch.subscribed = true
				rearm(&ch.refusedCh)
				ch.refusal = nil
			}
			ch.mu.Unlock()
			if again {
				ch.join()
			}
			return
		}
		ch.mu.Unlock()
	}
	ch.finish(nil)
}
