package source

import (
	"slices"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A channel's push buffer: the pushes that wait for its join (channel_push.go sends them).

// bufferedPush is a push waiting for the channel's join.
type bufferedPush struct {
	m *phoenix.Message
	// done is how a push that waits for its reply learns its outcome; nil for one that waits for none.
	done func(socket.Reply, error)
	// returned is the generation of the hand-back that brought it back (the socket's session ended
	// before writing it), 0 for a push the channel buffered itself.
	returned uint64
}

// pushBuffer is a channel's pushes waiting for its join. Guarded by the channel's mu.
type pushBuffer struct {
	items    []bufferedPush
	flushing bool   // a flush is sending the items: new pushes queue behind them, keeping the order
	returns  uint64 // hand-backs so far (Channel.Returned)
}

// Order. A push the socket hands back is older than every push the buffer holds: a push is written
// directly only while the buffer is empty, and a flush takes the oldest first. So a hand-back goes to the
// front — but for the push a flush holds at that moment (taken, not yet queued): it is newer than what
// was handed back and older than the rest, and goes back between them (putBack).

// handBack puts pushes the socket handed back, in order, at the front.
func (b *pushBuffer) handBack(items []bufferedPush) {
	b.returns++
	for i := range items {
		items[i].returned = b.returns
	}
	b.items = append(items, b.items...)
}

// startFlush reports whether there is something to flush, and marks the flush as started.
func (b *pushBuffer) startFlush() bool {
	if len(b.items) == 0 || b.flushing {
		return false
	}
	b.flushing = true
	return true
}

func (b *pushBuffer) takeAll() []bufferedPush {
	items := b.items
	b.items, b.flushing = nil, false
	return items
}

// take takes the oldest push for a flush; since is the hand-back count at that moment, for putBack.
func (b *pushBuffer) take() (it bufferedPush, since uint64) {
	it = b.items[0]
	b.items = b.items[1:]
	return it, b.returns
}

// putBack returns to the buffer a push that a flush took (when the hand-back count was since) and could
// not send: after the pushes handed back since then, which were queued before it, and before the rest.
func (b *pushBuffer) putBack(it bufferedPush, since uint64) {
	i := 0
	for i < len(b.items) && b.items[i].returned > since {
		i++
	}
	it.returned = 0
	b.items = slices.Insert(b.items, i, it)
}

// remove withdraws the push of m; it reports whether it was still waiting.
func (b *pushBuffer) remove(m *phoenix.Message) bool {
	for i, it := range b.items {
		if it.m == m {
			b.items = append(b.items[:i], b.items[i+1:]...)
			return true
		}
	}
	return false
}
