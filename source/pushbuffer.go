package source

import (
	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A channel's push buffer: the pushes that wait for its join (channel_push.go sends them).

// bufferedPush is a push waiting for the channel's join.
type bufferedPush struct {
	m *phoenix.Message
	// done is how a push that waits for its reply learns its outcome; nil for one that waits for none.
	done func(socket.Reply, error)
}

// pushBuffer is a channel's pushes waiting for its join. Guarded by the channel's mu.
type pushBuffer struct {
	items    []bufferedPush
	flushing bool // a flush is sending the items: new pushes queue behind them, keeping the order
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
