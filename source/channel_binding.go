package source

import (
	"errors"
	"fmt"

	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
)

// ErrUnknownBinding ends the stream of [TypedBinding.Changes] for a channel
// that was not created with that binding.
var ErrUnknownBinding = errors.New("rxrealtime: the channel has no such postgres_changes binding")

// TypedBinding is a postgres_changes binding with the Go type of its rows:
// realtime-js's channel.on('postgres_changes', filter, callback), where
// each .on(...) has its own callback. Create it with [Bind], add it to a
// channel with [TypedBinding.Option], and read its changes with
// [TypedBinding.Changes]:
//
//	messages := source.Bind[Message](postgres.Binding{Event: postgres.Insert, Table: "messages"})
//	reactions := source.Bind[Reaction](postgres.Binding{Table: "reactions"})
//	ch, err := c.Channel("room", messages.Option(), reactions.Option())
//	...
//	for chg := range messages.Changes(ch).All(ctx) { ... } // only rows of messages, as Message
//
// A TypedBinding is a value: one can serve several channels, and it finds
// its binding in a channel by the binding's content, so bindings given to
// [WithPostgresChanges] are addressable too, and a binding given twice (which
// the channel sends once) is the same binding.
type TypedBinding[T any] struct {
	binding postgres.Binding
	codec   Codec
}

// Bind returns the binding b with rows of type T.
func Bind[T any](b postgres.Binding) TypedBinding[T] { return TypedBinding[T]{binding: b} }

// WithCodec returns a copy of the binding whose rows are decoded by codec
// instead of the built-in decoder, as [ChangesWith] does.
func (b TypedBinding[T]) WithCodec(codec Codec) TypedBinding[T] {
	b.codec = codec
	return b
}

// Binding returns the postgres_changes binding.
func (b TypedBinding[T]) Binding() postgres.Binding { return b.binding }

// Option is the channel option that adds the binding: [WithPostgresChanges]
// with this binding.
func (b TypedBinding[T]) Option() ChannelOption { return WithPostgresChanges(b.binding) }

// Changes is the hot stream of the changes of this binding on ch, rows
// decoded into T, optionally only of the given event types (none: all). It
// follows realtime-js: a change is delivered when its ids include the
// server id of this binding (from the join the change arrived under), so
// rows of the channel's other bindings never reach it. As with [Changes],
// decoding runs on the consumer's goroutine and a row that does not decode
// is reported on [Client.Errors] as a [*PayloadError] and skipped.
//
// A binding of one table decodes T leniently (T may omit columns). A
// wildcard binding (every table of a schema, or every schema) receives
// rows of several tables: a struct T then decodes strictly, as on a
// channel of several tables (see [Changes]).
//
// If ch has no such binding, the stream ends at once with
// [ErrUnknownBinding].
func (b TypedBinding[T]) Changes(ch *Channel, types ...postgres.EventType) stream.Stream[postgres.Change[T]] {
	i, err := bindingIndex(ch, b.binding)
	if err != nil {
		return stream.Fail[postgres.Change[T]](err)
	}
	spec := changeSpec{name: "TypedBinding.Changes", types: types, binding: i, codec: b.codec}
	if isStruct[T]() && multiTable([]postgres.Binding{b.binding}) {
		spec.strict = func(*inboundChange) bool { return true }
	}
	return typedChanges[T](ch.ev, ch.decoders, ch.changes, spec)
}

// bindingIndex returns the index of b among ch's bindings, which are
// deduplicated: the index matches the server's ids (ch.pgIDs, and
// inboundChange.ids). Bindings are compared by what they send, as the
// deduplication compares them.
func bindingIndex(ch *Channel, b postgres.Binding) (int, error) {
	key, err := b.MarshalJSON()
	if err != nil {
		return -1, fmt.Errorf("%w: %w", ErrUnknownBinding, err)
	}
	for i, cb := range ch.cfg.bindings {
		if k, _ := cb.MarshalJSON(); string(k) == string(key) { // validated by Client.Channel
			return i, nil
		}
	}
	return -1, fmt.Errorf("%w: %s on %s", ErrUnknownBinding, key, ch.topic)
}
