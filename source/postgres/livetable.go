package postgres

import (
	"maps"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
)

// LiveTable keeps a view of a table current from its changes: it starts
// from seed (for instance rows read once over REST; nil for empty) and
// applies each change in order — INSERT and UPDATE store New under
// key(New), DELETE removes key(Old) — emitting the whole view after each
// change. It is [operators.Scan] with a table-shaped step.
//
// key must read only primary-key fields: without REPLICA IDENTITY FULL,
// Old of a DELETE holds only the primary key. Each emitted map is a
// snapshot that the stream never modifies again, so consumers may keep
// it; the cost is one map copy per change, fine for the tables a client
// watches (a chat room, a board), not for millions of rows.
func LiveTable[K comparable, T any](changes stream.Stream[Change[T]], key func(T) K, seed map[K]T) stream.Stream[map[K]T] {
	start := maps.Clone(seed)
	if start == nil {
		start = map[K]T{}
	}
	return operators.Scan(changes, start, func(view map[K]T, c Change[T]) map[K]T {
		next := maps.Clone(view)
		switch c.Type {
		case Insert, Update:
			if c.Type == Update {
				// A key change arrives as an UPDATE whose Old holds the old key.
				delete(next, key(c.Old))
			}
			next[key(c.New)] = c.New
		case Delete:
			delete(next, key(c.Old))
		}
		return next
	})
}
