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
//
// A struct T decodes strictly, as with [Changes], the changes of a channel
// whose bindings name several tables. Across channels each bound to one
// table, every change is decoded into T: if those tables differ, use
// AllChanges[map[string]any] (and Change.Table), or a stream per channel
// or per binding ([Bind]), rather than a struct that fits only one table.
func AllChanges[T any](c *Client, types ...postgres.EventType) stream.Stream[postgres.Change[T]] {
	return typedChanges[T](c.ev, &c.decoders, c.changes, changeSpec{name: "AllChanges", types: types, binding: -1, strict: allStrict[T]()})
}

// AllChangesWith is [AllChanges] with the rows decoded by codec, as
// [ChangesWith] does.
func AllChangesWith[T any](c *Client, codec Codec, types ...postgres.EventType) stream.Stream[postgres.Change[T]] {
	return typedChanges[T](c.ev, &c.decoders, c.changes, changeSpec{name: "AllChangesWith", types: types, binding: -1, codec: codec, strict: allStrict[T]()})
}

// allStrict checks the columns of a change into a struct T when its
// channel's bindings name several tables.
func allStrict[T any]() func(*inboundChange) bool {
	if !isStruct[T]() {
		return nil
	}
	return func(ic *inboundChange) bool { return ic.multiTable }
}
