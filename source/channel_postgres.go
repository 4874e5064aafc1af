package source

import (
	"reflect"

	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Changes is the hot stream of all the channel's postgres_changes, rows
// decoded into T, optionally only of the given event types (none: all).
// For the changes of one binding only, decoded into that binding's row
// type, use [Bind] (realtime-js's one callback per .on(...)).
//
// As in realtime-js, a change is delivered when its ids include the
// server id of one of the channel's bindings (from the current join). The
// envelope is read first and the rows are decoded only for changes that
// pass those checks. Decoding runs on the consumer's goroutine, not the
// socket reader's; with Observe, a few decoding goroutines that the
// client's change streams share serve every consumer (see
// [stream.MapHub]), so an idle consumer costs no goroutine. A payload
// that does not decode is reported on [Client.Errors] as a
// [*PayloadError] and skipped.
//
// # Channels of several tables
//
// On a channel whose bindings name more than one table (messages and
// reactions, say), or a wildcard (every table of a schema), this stream
// receives the rows of all of them. A struct T then decodes strictly: a row
// with a column that no field of T takes (see [postgres.CheckColumns]) is
// not delivered — it would arrive as a T with zero fields — but reported on
// [Client.Errors] as a [*PayloadError] wrapping [postgres.ErrUnknownColumn]
// and naming the column. So Changes[Message] on that channel delivers the
// messages rows — provided Message has a field for every column of
// messages — and reports every reactions row. Use a [Bind] stream per
// table (where T may omit columns), or Changes[map[string]any] (never
// strict) and Change.Table, to receive both. On a channel of one table, T
// may omit columns, as before.
func Changes[T any](ch *Channel, types ...postgres.EventType) stream.Stream[postgres.Change[T]] {
	return typedChanges[T](ch.ev, ch.decoders, ch.changes, changeSpec{name: "Changes", types: types, binding: -1, strict: strictFor[T](ch)})
}

// ChangesWith is [Changes] with the rows decoded by codec (a faster JSON
// library's Unmarshal, say) instead of the built-in decoder. Rows are JSON,
// so codec is given JSON even if wrapped by [Binary], and no value is
// converted by its column type (the built-in decoder reads PostgreSQL text
// forms such as "t" or "{1,2}"; see package postgres).
func ChangesWith[T any](ch *Channel, codec Codec, types ...postgres.EventType) stream.Stream[postgres.Change[T]] {
	return typedChanges[T](ch.ev, ch.decoders, ch.changes, changeSpec{name: "ChangesWith", types: types, binding: -1, codec: codec, strict: strictFor[T](ch)})
}

// changeSpec says which changes a typed stream delivers and how it decodes
// them.
type changeSpec struct {
	// name is the function that made the stream, for its consumers' PayloadErrors.
	name  string
	types []postgres.EventType
	// binding is the index, in the channel's (deduplicated) bindings, of
	// the binding whose changes the stream delivers; -1: any.
	binding int
	// codec decodes the rows; nil: the built-in decoder.
	codec Codec
	// strict says, per change, whether to check its columns against T
	// (postgres.CheckColumns); nil: never.
	strict func(*inboundChange) bool
}

// typedChanges decodes the rows of the changes of hub into T, on the
// consumer's goroutine or, with Observe, on c's decoding workers; a row
// that does not decode is reported and skipped.
func typedChanges[T any](ev *events, decoders *stream.Workers, hub *stream.Hub[*inboundChange], spec changeSpec) stream.Stream[postgres.Change[T]] {
	// The event types and the binding are checked on the reader (the keep function): changes this stream
	// does not want never enter its mailbox, so another binding's traffic cannot make its consumer slow.
	var keep func(*inboundChange) bool
	if len(spec.types) > 0 || spec.binding >= 0 {
		keep = func(ic *inboundChange) bool {
			return wanted(spec.types, ic.env.Type) &&
				(spec.binding < 0 || spec.binding < len(ic.ids) && ic.env.Has(ic.ids[spec.binding]))
		}
	}
	// MapHub: Observe runs the decoding on the client's shared workers, without a goroutine per consumer
	// (see stream.MapHub). At 10,000 channels that made a burst 1.1-1.6x faster (bench, workload 3).
	return stream.MapHub(hub, decoders, keep, func() func(*inboundChange) (postgres.Change[T], bool) {
		// One Change per run, decoded into afresh for each row: the decoders take its address, so a
		// variable per row would be a heap allocation per row (~400 bytes for a typical row type).
		// Returning it copies it, and zeroing it first keeps the copies from sharing any slice with the
		// next row.
		var chg postgres.Change[T]
		me := newConsumer[T](ev, spec.name)
		growStack() // on the goroutine that decodes, before the first change, not during its decode (see growStack)
		return func(ic *inboundChange) (postgres.Change[T], bool) {
			if !ic.rowsOK(ev) {
				return chg, false
			}
			if spec.strict != nil && spec.strict(ic) {
				if err := postgres.CheckColumns[T](&ic.env); err != nil {
					ev.failed(me, ic.topic, phoenix.EventPostgres, ic.table(), err)
					return chg, false
				}
			}
			chg = postgres.Change[T]{}
			var err error
			if spec.codec != nil {
				err = postgres.DecodeEnvelopeWith(&ic.env, &chg, spec.codec.Unmarshal)
			} else {
				err = postgres.DecodeEnvelope(&ic.env, &chg)
			}
			if err != nil {
				ev.failed(me, ic.topic, phoenix.EventPostgres, ic.table(), err)
				return chg, false
			}
			return chg, true
		}
	})
}

// strictFor returns the strictness of a stream of ch's changes into T:
// always when T is a struct and ch's bindings name several tables, else
// never (nil).
func strictFor[T any](ch *Channel) func(*inboundChange) bool {
	if !isStruct[T]() || !ch.multiTable {
		return nil
	}
	return func(*inboundChange) bool { return true }
}

// isStruct reports whether T is a struct or a pointer to one: the types
// whose fields a row of another table would leave zero.
func isStruct[T any]() bool {
	rt := reflect.TypeFor[T]()
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	return rt.Kind() == reflect.Struct
}
