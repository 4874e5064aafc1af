package source

import (
	"context"
	"slices"

	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Changes is the hot stream of the channel's postgres_changes, rows
// decoded into T, optionally only of the given event types (none: all).
//
// As in realtime-js, a change is delivered when its ids include the
// server id of one of the channel's bindings (from the current join). The
// envelope is read first and the rows are decoded only for changes that
// pass those checks. Decoding runs on the consumer's goroutine, not the
// socket reader's. A payload that does not decode is reported on
// [Client.Errors] as a [*PayloadError] and skipped.
func Changes[T any](ch *Channel, types ...postgres.EventType) stream.Stream[postgres.Change[T]] {
	return typedChanges[T](ch.c, ch.rt.changes, types)
}

// typedChanges decodes the rows of the changes of hub into T, on the
// consumer's goroutine; a row that does not decode is reported and skipped.
func typedChanges[T any](c *Client, hub *stream.Hub[*inboundChange], types []postgres.EventType) stream.Stream[postgres.Change[T]] {
	in := hub.Stream()
	return stream.Derive(in, func(ctx context.Context, emit func(postgres.Change[T]) bool) error {
		return in.Run(ctx, func(ic *inboundChange) bool {
			if !wanted(types, ic.env.Type) {
				return true
			}
			var chg postgres.Change[T]
			if err := postgres.DecodeEnvelope(&ic.env, &chg); err != nil {
				c.report(&PayloadError{Topic: ic.topic, Event: phoenix.EventPostgres, Err: err})
				return true
			}
			return emit(chg)
		})
	})
}

// ownsChange reports whether ids include one of the channel's binding ids.
func (ch *Channel) ownsChange(ids []int) bool {
	p := ch.pgIDs.Load()
	if p == nil {
		return false
	}
	for _, id := range *p {
		if slices.Contains(ids, id) {
			return true
		}
	}
	return false
}

func wanted(types []postgres.EventType, t postgres.EventType) bool {
	if len(types) == 0 {
		return true
	}
	for _, w := range types {
		if w.Matches(t) {
			return true
		}
	}
	return false
}
