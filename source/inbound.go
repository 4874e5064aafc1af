package source

import (
	"sync"

	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A postgres change as the socket's reader hands it to the typed change streams: its envelope parsed once,
// its rows left for the consumers (channel_deliver.go makes it, channel_postgres.go reads it).

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
			ev.undecodable(&PayloadError{Topic: ic.topic, Event: phoenix.EventPostgres, What: ic.table(), Err: err})
		}
	})
	return !ic.bad
}

// table is the change's table, "schema.table".
func (ic *inboundChange) table() string { return ic.env.Schema + "." + ic.env.Table }
