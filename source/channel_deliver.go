package source

import (
	"slices"

	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Deliver, for a channel: the socket's reader hands every message of the topic to the channel's Handle
// (channel.go), which hands postgres changes here and presence to channel_presence.go, before the
// topic's stream gets the message (socket/deliver.go).

// deliverChange parses the envelope of a postgres_changes message once (but for its rows, which
// consumers check: see inboundChange.rowsOK), if anyone consumes typed changes, checks that the change
// belongs to one of the channel's bindings (by id, as realtime-js does), and hands it to the channel's
// and the client's change streams. It runs on the reader.
func (ch *Channel) deliverChange(m *phoenix.Message) {
	if ch.changes.Consumers() == 0 && ch.allChanges.Consumers() == 0 && !ch.holdersWantChanges() {
		return
	}
	in := &inboundChange{topic: m.Topic, multiTable: ch.multiTable}
	if err := postgres.ScanEnvelope(m.Payload, &in.env); err != nil {
		ch.ev.undecodable(&PayloadError{Topic: m.Topic, Event: m.Event, Err: err})
		return
	}
	p := ch.pgIDs.Load()
	if p == nil || !ownedBy(*p, in.env.IDs) {
		return
	}
	in.ids = *p
	ch.changes.Emit(in)
	ch.eachHolder(func(h *Channel) { h.changes.Emit(in) })
	ch.allChanges.Emit(in)
}

// holdersWantChanges reports whether a holder of a shared channel has a consumer of its changes.
func (ch *Channel) holdersWantChanges() bool {
	want := false
	ch.eachHolder(func(h *Channel) { want = want || h.changes.Consumers() > 0 })
	return want
}

// multiTable reports whether bindings may deliver rows of more than one
// table: they name two tables, or one names every table of a schema, or
// every schema.
func multiTable(bs []postgres.Binding) bool {
	for i := range bs {
		s, t := tableOf(&bs[i])
		if s == "*" || t == "" || t == "*" {
			return true
		}
		if i > 0 {
			if s0, t0 := tableOf(&bs[0]); s != s0 || t != t0 {
				return true
			}
		}
	}
	return false
}

// tableOf returns the schema and table a binding names, the schema
// defaulted as the server does.
func tableOf(b *postgres.Binding) (schema, table string) {
	schema = b.Schema
	if schema == "" {
		schema = "public"
	}
	return schema, b.Table
}

// ownedBy reports whether ids (of a change) include one of bindingIDs.
func ownedBy(bindingIDs, ids []int) bool {
	for _, id := range bindingIDs {
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
