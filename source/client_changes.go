package source

import (
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
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
	return typedChanges[T](c, c.changes, types)
}
