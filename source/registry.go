package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Channels returns the client's live channels (created and not yet closed
// for good, subscribed or not), sorted by topic: realtime-js's
// getChannels.
func (c *Client) Channels() []*Channel {
	c.mu.Lock()
	out := make([]*Channel, 0, len(c.channels))
	for _, ch := range c.channels {
		out = append(out, ch)
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b *Channel) int { return strings.Compare(a.topic, b.topic) })
	return out
}

// RemoveChannel leaves ch ([Channel.Unsubscribe]: phx_leave, then CLOSED)
// and forgets it: it is no longer in [Client.Channels] and its name is
// free. The client stays connected (see [WithIdleDisconnect] for
// realtime-js's disconnect once no channel is left). Removing a channel
// already closed for good does nothing; a channel of another client is an
// error wrapping [ErrInvalidChannel].
func (c *Client) RemoveChannel(ctx context.Context, ch *Channel) error {
	if ch == nil || ch.c != c {
		return fmt.Errorf("%w: not a channel of this client", ErrInvalidChannel)
	}
	return ch.Unsubscribe(ctx)
}

// RemoveAllChannels removes every channel as [Client.RemoveChannel] does,
// sending all the leaves first and then waiting for their replies (until
// ctx ends). The client stays connected. The error joins the channels'
// errors (ctx's error when it ended first).
func (c *Client) RemoveAllChannels(ctx context.Context) error {
	return c.leaveAll(ctx)
}

// leaveAll leaves every channel: all leaves go out first, then their
// replies are awaited (until ctx ends).
func (c *Client) leaveAll(ctx context.Context) error {
	chans := c.Channels()
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
