package realtimetest

import (
	"bytes"
	"fmt"
	"slices"
)

// Table is the content of one table of the emulated database, for
// [Server.SetTable]. The server keeps a copy of every table that
// [Server.EmitChange] touched or SetTable set, and serves it read-only over
// GET /rest/v1/<table> (see the package doc, "Table reads").
type Table struct {
	// Schema and Name name the table, e.g. "public", "messages".
	Schema string
	Name   string
	// Columns lists the table's columns with their types, in table order;
	// PrimaryKey marks the key by which changes find their row. Rows are
	// served with these columns first (null where a row lacks one), then
	// any other field of the row.
	Columns []Column
	// Rows are the rows, each a map, a struct, or raw JSON ([]byte /
	// json.RawMessage) encoding an object, served in this order unless the
	// request orders them.
	Rows []any
}

// table is the server's copy of one table. Guarded by Server.mu.
type table struct {
	columns []Column
	rows    []record
}

// tableKey identifies a table in Server.tables.
type tableKey struct{ schema, name string }

// SetTable replaces the content of a table (creating it) without sending
// any change: fixtures for the rows a client loads over GET
// /rest/v1/<table> before it subscribes, or an empty table that exists.
// Later changes from [Server.EmitChange] apply to it. The error wraps
// [ErrInvalidChange] for a missing schema or name or a row that is not a
// JSON object, and [ErrServerClosed] after Close.
func (s *Server) SetTable(t Table) error {
	if t.Schema == "" || t.Name == "" {
		return fmt.Errorf("%w: table schema and name are required", ErrInvalidChange)
	}
	tb := &table{columns: slices.Clone(t.Columns), rows: make([]record, 0, len(t.Rows))}
	for i, row := range t.Rows {
		r, err := toRecord(row)
		if err != nil || r == nil {
			if err == nil {
				err = errNotObject
			}
			return fmt.Errorf("%w: table %s.%s row %d: %v", ErrInvalidChange, t.Schema, t.Name, i, err)
		}
		tb.rows = append(tb.rows, orderByColumns(r, t.Columns))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("realtimetest: set table: %w", ErrServerClosed)
	}
	s.tables[tableKey{t.Schema, t.Name}] = tb
	return nil
}

// applyChange writes a change to the server's copy of its table, creating
// the table on its first change. The caller holds s.mu.
//
// A row is found by its primary key (the PrimaryKey columns of the change,
// or of the table when the change declares none) when the reference record
// carries every key column, else by every field of the reference record.
// INSERT replaces a row with the same key or appends; UPDATE replaces the
// row its old record (or, failing that, its new record) finds, or appends;
// DELETE removes the row its old record finds.
func (s *Server) applyChange(c *change) {
	k := tableKey{c.schema, c.table}
	t := s.tables[k]
	if t == nil {
		t = &table{}
		s.tables[k] = t
	}
	if len(c.columns) > 0 && !slices.Equal(t.columns, c.columns) {
		t.columns = slices.Clone(c.columns)
	}
	switch c.typ {
	case Insert:
		if i := t.find(c.record, true); i >= 0 {
			t.rows[i] = c.record
		} else {
			t.rows = append(t.rows, c.record)
		}
	case Update:
		i := t.find(c.oldRecord, false)
		if i < 0 {
			i = t.find(c.record, true)
		}
		if i >= 0 {
			t.rows[i] = c.record
		} else {
			t.rows = append(t.rows, c.record)
		}
	case Delete:
		if i := t.find(c.oldRecord, false); i >= 0 {
			t.rows = slices.Delete(t.rows, i, i+1)
		}
	}
}

// find returns the index of the row ref identifies, -1 if none: by the
// primary key when the table has one and ref carries all of it; otherwise,
// unless keyOnly, the first row that has every field of ref (an empty ref
// finds nothing).
func (t *table) find(ref record, keyOnly bool) int {
	var key []string
	for _, col := range t.columns {
		if col.PrimaryKey {
			key = append(key, col.Name)
		}
	}
	hasKey := len(key) > 0
	for _, name := range key {
		if _, ok := ref.get(name); !ok {
			hasKey = false
		}
	}
	switch {
	case hasKey:
	case keyOnly || len(ref) == 0:
		return -1
	default:
		key = nil
		for _, f := range ref {
			key = append(key, f.name)
		}
	}
	return slices.IndexFunc(t.rows, func(row record) bool {
		for _, name := range key {
			want, _ := ref.get(name)
			got, ok := row.get(name)
			if !ok || !bytes.Equal(got, want) {
				return false
			}
		}
		return true
	})
}
