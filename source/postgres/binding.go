package postgres

import (
	sjson "github.com/segmentio/encoding/json"
)

// Binding is one postgres_changes subscription of a channel: which events of
// which table, optionally narrowed by a row [Filter] and a column selection.
// It renders as an entry of the join payload's config.postgres_changes list:
//
//	{"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1","select":["id","done"]}
type Binding struct {
	// Event is INSERT, UPDATE, DELETE or * (any case); empty means *.
	Event EventType
	// Schema is the table's schema, or "*" for every schema. Empty means
	// "public" when Table is set.
	Schema string
	// Table is the table name, or "*" (or empty) for every table of Schema.
	Table string
	// Filter narrows the rows; the zero Filter passes every row. It needs
	// an explicit Table.
	Filter Filter
	// Select limits the columns sent to these (plus the primary key); nil
	// sends all. It needs an explicit Schema and Table.
	Select []string
}

// wireBinding is a binding as sent, and as echoed in the join reply.
type wireBinding struct {
	ID     *int64   `json:"id,omitempty"`
	Event  string   `json:"event"`
	Schema string   `json:"schema,omitempty"`
	Table  string   `json:"table,omitempty"`
	Filter string   `json:"filter,omitempty"`
	Select []string `json:"select,omitempty"`
}

// Validate reports a binding the server would reject, as a
// [*BindingError] (which wraps the [*FilterError] of a bad filter).
func (b Binding) Validate() error {
	_, err := b.wire()
	return err
}

// MarshalJSON renders the binding as the server expects it in the join
// payload. It fails, with the error of [Binding.Validate], for a binding the
// server would reject.
func (b Binding) MarshalJSON() ([]byte, error) {
	w, err := b.wire()
	if err != nil {
		return nil, err
	}
	return sjson.Marshal(w)
}

func (b Binding) wire() (wireBinding, error) {
	ev, ok := b.Event.normalize()
	if !ok {
		return wireBinding{}, &BindingError{Field: "event", Reason: "must be INSERT, UPDATE, DELETE or *"}
	}
	if err := b.Filter.Err(); err != nil {
		return wireBinding{}, &BindingError{Field: "filter", Reason: "bad filter", Err: err}
	}
	w := wireBinding{Event: string(ev), Schema: b.Schema, Table: b.Table, Filter: b.Filter.String()}
	if w.Schema == "" && w.Table == "" {
		return wireBinding{}, &BindingError{Field: "schema", Reason: "a schema or a table is required"}
	}
	if w.Schema == "" {
		w.Schema = "public"
	}
	if !validText(w.Schema) || !validText(w.Table) {
		return wireBinding{}, &BindingError{Field: "table", Reason: "schema and table must be valid UTF-8 without NUL"}
	}
	wildcard := w.Schema == "*" || w.Table == "*" || w.Table == ""
	if w.Filter != "" && w.Table == "" {
		return wireBinding{}, &BindingError{Field: "filter", Reason: "a filter needs a table"}
	}
	if len(b.Select) > 0 {
		if wildcard {
			return wireBinding{}, &BindingError{Field: "select", Reason: "column selection needs an explicit schema and table"}
		}
		for _, c := range b.Select {
			if c == "" || !validText(c) {
				return wireBinding{}, &BindingError{Field: "select", Reason: "column names must be non-empty valid UTF-8 without NUL"}
			}
		}
		w.Select = b.Select
	}
	return w, nil
}
