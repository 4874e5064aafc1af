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
	msgs := ch.Messages()
	return stream.Derive(msgs, func(ctx context.Context, emit func(postgres.Change[T]) bool) error {
		var env postgres.Envelope // reused: one consumer goroutine
		return msgs.Run(ctx, func(m phoenix.Message) bool {
			if chg, ok := changeOf[T](ch, &m, &env, types); ok {
				return emit(chg)
			}
			return true
		})
	})
}

// changeOf decodes a postgres_changes message of ch into a Change[T]. It
// reads the envelope first and decodes the rows only when the change
// belongs to one of ch's bindings and has a wanted type; a payload that
// does not decode is reported and skipped (ok false).
func changeOf[T any](ch *Channel, m *phoenix.Message, env *postgres.Envelope, types []postgres.EventType) (chg postgres.Change[T], ok bool) {
	if m.Event != phoenix.EventPostgres {
		return chg, false
	}
	if err := postgres.ParseEnvelope(m.Payload, env); err != nil {
		ch.c.report(&PayloadError{Topic: m.Topic, Event: m.Event, Err: err})
		return chg, false
	}
	if !ch.ownsChange(env.IDs) || !wanted(types, env.Type) {
		return chg, false
	}
	if err := postgres.DecodeEnvelope(env, &chg); err != nil {
		ch.c.report(&PayloadError{Topic: m.Topic, Event: m.Event, Err: err})
		return chg, false
	}
	return chg, true
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
