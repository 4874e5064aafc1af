package source

import (
	"sync"

	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Deliver, for a channel: the socket's reader hands every message of the topic to the channel's Handle
// (channel.go), which hands postgres changes here and presence to channel_presence.go, before the
// topic's stream gets the message (socket/deliver.go).

// inboundChange is a postgres_changes message whose envelope (ids, type,
// table, columns, and the bounds of its rows) the reader parsed once. It
// is shared, read-only, by every Changes and AllChanges consumer, each of
// which decodes only the rows, into its own type, on its own goroutine.
type inboundChange struct {
	topic string
	env   postgres.Envelope
	// multiTable: the channel's bindings name several tables, so a struct row type decodes the change
	// strictly (see AllChanges).
	multiTable bool
	// ids are the server ids of ch's bindings, by binding index, as of the
	// join the change arrived under: a per-binding consumer that reads the
	// change after a rejoin still matches it against the right ids.
	ids []int

	// The reader only locates the rows (postgres.ScanEnvelope); the first
	// consumer to read the change checks them, once for all consumers, so
	// the check runs beside the reader instead of on it.
	checkOnce sync.Once
	bad       bool // the rows are malformed; reported once
}

// rowsOK checks the change's rows on first use and reports malformed ones
// once. Every consumer calls it before reading env's rows.
func (ic *inboundChange) rowsOK(ev *events) bool {
	ic.checkOnce.Do(func() {
		if err := ic.env.CheckRows(); err != nil {
			ic.bad = true
			ev.report(&PayloadError{Topic: ic.topic, Event: phoenix.EventPostgres, Err: err})
		}
	})
	return !ic.bad
}

// deliverChange parses the envelope of a postgres_changes message once (but for its rows, which
// consumers check: see inboundChange.rowsOK), if anyone consumes typed changes, checks that the change
// belongs to one of the channel's bindings (by id, as realtime-js does), and hands it to the channel's
// and the client's change streams. It runs on the reader.
func (ch *Channel) deliverChange(m *phoenix.Message) {
	if ch.changes.Consumers() == 0 && ch.allChanges.Consumers() == 0 {
		return
	}
	in := &inboundChange{topic: m.Topic, multiTable: ch.multiTable}
	if err := postgres.ScanEnvelope(m.Payload, &in.env); err != nil {
		ch.ev.report(&PayloadError{Topic: m.Topic, Event: m.Event, Err: err})
		return
	}
	p := ch.pgIDs.Load()
	if p == nil || !ownedBy(*p, in.env.IDs) {
		return
	}
	in.ids = *p
	ch.changes.Emit(in)
	ch.allChanges.Emit(in)
}
