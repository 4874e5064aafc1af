package realtimetest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Change types, as they appear in the "type" field of a postgres_changes
// payload.
const (
	Insert = "INSERT"
	Update = "UPDATE"
	Delete = "DELETE"
)

// Column describes one column of the changed table, in table (attnum) order.
type Column struct {
	// Name is the column name.
	Name string
	// Type is the Postgres type name (pg_type.typname): "int4", "int8",
	// "text", "bool", "jsonb", "timestamptz", "_text" for text[], ...
	// Filters compare values as numbers for numeric types and as booleans
	// for bool; without a type they follow the JSON value.
	Type string
	// PrimaryKey marks primary-key columns, which a binding's "select"
	// always keeps.
	PrimaryKey bool
}

// Change is one row change to deliver as a postgres_changes message, as the
// real server produces it from the write-ahead log.
type Change struct {
	// Type is Insert, Update or Delete (case-insensitive).
	Type string
	// Schema and Table name the changed table, e.g. "public", "messages".
	Schema string
	Table  string
	// Columns lists the table's columns with their types.
	Columns []Column
	// Record is the new row for INSERT and UPDATE (ignored for DELETE): a
	// map, a struct, or raw JSON ([]byte / json.RawMessage) encoding an
	// object. Its keys are sent in Columns order, then in their own order.
	Record any
	// OldRecord is the old row for UPDATE and DELETE (ignored for INSERT);
	// without REPLICA IDENTITY FULL the real server sends only the primary
	// key here. nil is sent as {}.
	OldRecord any
	// CommitTimestamp is the commit time; the zero value means now. It is
	// sent in UTC with millisecond precision.
	CommitTimestamp time.Time
	// Errors is sent as the payload's "errors" list (null when empty), e.g.
	// []string{"Error 413: Payload Too Large"}.
	Errors []string
}

// change is a validated Change ready for matching and encoding.
type change struct {
	typ, schema, table string
	columns            []Column
	types              map[string]string
	record, oldRecord  record
	ts                 time.Time
	errors             []string
}

func (c *Change) validate(now time.Time) (*change, error) {
	typ := strings.ToUpper(c.Type)
	switch typ {
	case Insert, Update, Delete:
	default:
		return nil, fmt.Errorf("%w: type %q is not INSERT, UPDATE or DELETE", ErrInvalidChange, c.Type)
	}
	if c.Schema == "" || c.Table == "" {
		return nil, fmt.Errorf("%w: schema and table are required", ErrInvalidChange)
	}
	out := &change{typ: typ, schema: c.Schema, table: c.Table, columns: c.Columns, errors: c.Errors, ts: c.CommitTimestamp}
	if out.ts.IsZero() {
		out.ts = now
	}
	out.types = make(map[string]string, len(c.Columns))
	for _, col := range c.Columns {
		out.types[col.Name] = col.Type
	}
	var err error
	if typ != Delete {
		if out.record, err = toRecord(c.Record); err != nil {
			return nil, fmt.Errorf("%w: record: %v", ErrInvalidChange, err)
		}
		out.record = orderByColumns(out.record, c.Columns)
	}
	if typ != Insert {
		if out.oldRecord, err = toRecord(c.OldRecord); err != nil {
			return nil, fmt.Errorf("%w: old record: %v", ErrInvalidChange, err)
		}
		out.oldRecord = orderByColumns(out.oldRecord, c.Columns)
	}
	return out, nil
}

// orderByColumns puts the fields named in cols first, in column order.
func orderByColumns(r record, cols []Column) record {
	if len(r) < 2 || len(cols) == 0 {
		return r
	}
	out := make(record, 0, len(r))
	for _, col := range cols {
		if raw, ok := r.get(col.Name); ok {
			out = append(out, field{name: col.Name, raw: raw})
		}
	}
	for _, f := range r {
		if !slices.ContainsFunc(cols, func(c Column) bool { return c.Name == f.name }) {
			out = append(out, f)
		}
	}
	return out
}

// timestampLayout is YYYY-MM-DD"T"HH24:MI:SS.MS"Z".
const timestampLayout = "2006-01-02T15:04:05.000Z"

// dataJSON renders the "data" object of a postgres_changes payload, limited
// to the selected columns (plus primary keys) when sel is not nil.
func (c *change) dataJSON(sel []string) []byte {
	keep := func(string) bool { return true }
	if sel != nil {
		pk := map[string]bool{}
		for _, col := range c.columns {
			if col.PrimaryKey {
				pk[col.Name] = true
			}
		}
		keep = func(name string) bool { return pk[name] || slices.Contains(sel, name) }
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"schema":`...)
	b = appendString(b, c.schema)
	b = append(b, `,"table":`...)
	b = appendString(b, c.table)
	b = append(b, `,"commit_timestamp":`...)
	b = appendString(b, c.ts.UTC().Format(timestampLayout))
	b = append(b, `,"type":`...)
	b = appendString(b, c.typ)
	b = append(b, `,"columns":[`...)
	n := 0
	for _, col := range c.columns {
		if !keep(col.Name) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"name":`...)
		b = appendString(b, col.Name)
		b = append(b, `,"type":`...)
		b = appendString(b, col.Type)
		b = append(b, '}')
	}
	b = append(b, ']')
	if c.typ != Delete {
		b = append(b, `,"record":`...)
		b = c.record.appendJSON(b, keep)
	}
	if c.typ != Insert {
		b = append(b, `,"old_record":`...)
		b = c.oldRecord.appendJSON(b, keep)
	}
	b = append(b, `,"errors":`...)
	if len(c.errors) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, e := range c.errors {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// changePayload renders {"ids":[...],"data":...}.
func changePayload(ids []int64, data []byte) []byte {
	b := make([]byte, 0, len(data)+32)
	b = append(b, `{"ids":[`...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, `],"data":`...)
	b = append(b, data...)
	return append(b, '}')
}
