package postgres

import (
	"context"
	"maps"

	"github.com/rxrealtime/rxrealtime/stream"
)

// LiveTable keeps a view of a table current from its changes: it starts
// from seed (for instance rows read once over REST; nil for empty) and
// applies each change in order with [View.Apply] — INSERT and UPDATE store
// New under key(New), DELETE removes key(Old), a change older than the
// last one applied to its key (by commit timestamp) is skipped — emitting
// the whole view after each change. It is a scan with a table-shaped step.
//
// key must read only primary-key fields: without REPLICA IDENTITY FULL,
// Old of a DELETE holds only the primary key. Each emitted map is a
// snapshot that the stream never modifies again, so consumers may keep
// it; the cost is one map copy per change that changes the view, fine for
// the tables a client watches (a chat room, a board), not for millions of
// rows.
//
// LiveTable trusts its changes to be all of them: changes lost while a
// channel was down, or dropped for a slow consumer, are never seen. A live
// query (source.Live) reloads the table after every rejoin and gap and
// reconciles.
func LiveTable[K comparable, T any](changes stream.Stream[Change[T]], key func(T) K, seed map[K]T) stream.Stream[map[K]T] {
	return stream.Derive(changes, func(ctx context.Context, emit func(map[K]T) bool) error {
		v := NewView(key, nil)
		maps.Copy(v.rows, seed)
		view := v.Rows()
		var diffs []Diff[K, T]
		return changes.Run(ctx, func(c Change[T]) bool {
			if diffs = v.Apply(c, diffs[:0]); len(diffs) > 0 {
				view = v.Rows()
			}
			return emit(view)
		})
	})
}
