package source

import (
	"context"
	"fmt"
)

// WaitStatus waits until the channel's status is want (now or later) and
// returns that status event. It returns early with an error wrapping
// [ErrChannelClosed] when the channel is closed for good (unless want is
// StatusClosed), or with ctx's error and the channel's last status when ctx
// ends first. It is the helper for tests and start-up code that must not go
// on before a channel is, say, SUBSCRIBED again after a fault.
func (ch *Channel) WaitStatus(ctx context.Context, want Status) (StatusEvent, error) {
	if ev, ok := ch.Status(); ok && ev.Status == want {
		return ev, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	statuses := ch.Statuses().Observe(ctx)
	var last StatusEvent
	for ev := range statuses {
		last = ev
		if ev.Status == want {
			return ev, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return last, fmt.Errorf("rxrealtime: waiting for %s on %q (last status %s): %w", want, ch.topic, last.Status, err)
	}
	return last, closedErr(ch.Err())
}
