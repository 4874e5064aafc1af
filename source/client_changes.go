package source

import (
	"context"

	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// AllChanges is the hot stream of the postgres_changes of every channel of
// the client, rows decoded into T, optionally only of the given event types
// (none: all). It is [Changes] for a service that watches many channels:
// one consumer (one goroutine, one mailbox) instead of one per channel, so
// the cost per change stays the same from 1 to 10,000 channels
// (bench: BenchmarkRouting). Change.Schema and Change.Table say where a
// change comes from; a change reaches this stream when its ids include a
// binding of the channel of its topic, as with Changes.
func AllChanges[T any](c *Client, types ...postgres.EventType) stream.Stream[postgres.Change[T]] {
	msgs := c.Messages()
	return stream.Derive(msgs, func(ctx context.Context, emit func(postgres.Change[T]) bool) error {
		var env postgres.Envelope // reused: one consumer goroutine
		return msgs.Run(ctx, func(m phoenix.Message) bool {
			if m.Event != phoenix.EventPostgres {
				return true
			}
			ch := c.channelOf(m.Topic)
			if ch == nil {
				return true
			}
			if chg, ok := changeOf[T](ch, &m, &env, types); ok {
				return emit(chg)
			}
			return true
		})
	})
}

// channelOf returns the live channel of topic, or nil: a lock-free router
// lookup.
func (c *Client) channelOf(topic string) *Channel {
	rt := c.router.get(topic)
	if rt == nil {
		return nil
	}
	ch, _ := rt.handler.(*Channel)
	return ch
}
