package postgres

import (
	"sync"
	"sync/atomic"

	sjson "github.com/segmentio/encoding/json"
)

// Column is one entry of a change's columns list: a column name and its
// PostgreSQL type name (pg_type.typname: "int8", "text", "_int4" for an
// int4 array, ...).
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// kind is how a column's values are converted.
type kind uint8

const (
	kindOther       kind = iota // no conversion (text, uuid, time, money, enums, ...)
	kindInt                     // int2, int4, int8, oid
	kindFloat                   // float4, float8
	kindNumeric                 // numeric
	kindBool                    // bool
	kindJSON                    // json, jsonb
	kindTimestamp               // timestamp (without time zone)
	kindTimestamptz             // timestamptz
	kindDate                    // date
	kindBytea                   // bytea
)

// colType is a column's conversion: its kind, or for an array type ("_int4")
// the kind of its elements.
type colType struct {
	kind  kind
	array bool
}

func typeOf(name string) colType {
	if len(name) > 1 && name[0] == '_' {
		return colType{kind: kindOfScalar(name[1:]), array: true}
	}
	return colType{kind: kindOfScalar(name)}
}

func kindOfScalar(name string) kind {
	switch name {
	case "int2", "int4", "int8", "oid":
		return kindInt
	case "float4", "float8":
		return kindFloat
	case "numeric":
		return kindNumeric
	case "bool":
		return kindBool
	case "json", "jsonb":
		return kindJSON
	case "timestamp":
		return kindTimestamp
	case "timestamptz":
		return kindTimestamptz
	case "date":
		return kindDate
	case "bytea":
		return kindBytea
	}
	return kindOther
}

// table is what one distinct columns list decodes to. It is shared by every
// change that carries the same list and must not be modified.
type table struct {
	raw     string // the columns list's JSON text, as received
	columns []Column
	types   map[string]colType
}

// lastTable is the table of the last columns list decoded: consecutive
// changes mostly come from one table, and comparing the payload with its
// text beats both stepping over the list and hashing it for the cache.
var lastTable atomic.Pointer[table]

// sameColumns reports whether the value at d[i], if it is a columns list
// (columns), is the last table's list, and returns the index just past it.
// A value that begins with that list's text is exactly that list (an array
// is self-delimiting, and the text is a checked array), so it needs no scan.
func sameColumns(d []byte, i int, columns bool) (int, bool) {
	if !columns {
		return 0, false
	}
	t := lastTable.Load()
	if t == nil || len(t.raw) == 0 || len(d)-i < len(t.raw) || string(d[i:i+len(t.raw)]) != t.raw {
		return 0, false
	}
	return i + len(t.raw), true
}

// tableFor returns the table of the columns list raw.
func tableFor(raw []byte) (*table, error) {
	if t := lastTable.Load(); t != nil && string(raw) == t.raw {
		return t, nil
	}
	t, err := lookupTable(raw)
	if err == nil {
		lastTable.Store(t)
	}
	return t, err
}

func (t *table) typeOf(column string) (colType, bool) {
	if t == nil {
		return colType{}, false
	}
	ct, ok := t.types[column]
	return ct, ok
}

// maxCached bounds the caches below; a full cache starts over, so hostile
// input cannot grow them without limit.
const maxCached = 256

// tables caches decoded columns lists by their exact JSON text. Every change
// of a table carries the same list, so after the first one a change costs a
// map lookup instead of a decode. Readers never lock (copy on write).
var tables cowCache[*table]

func lookupTable(raw []byte) (*table, error) {
	if t, ok := tables.get(raw); ok {
		return t, nil
	}
	// A list not seen before may come unchecked (ScanEnvelope locates it
	// only): check it as the strict walk would, then decode it.
	if err := checkRowJSON(raw); err != nil {
		return nil, err
	}
	var cols []Column
	if err := sjson.Unmarshal(raw, &cols); err != nil {
		return nil, err
	}
	t := &table{raw: string(raw), columns: cols, types: make(map[string]colType, len(cols))}
	for _, c := range cols {
		t.types[c.Name] = typeOf(c.Type)
	}
	tables.put(string(raw), t)
	return t, nil
}

// names interns the schema and table names every change repeats, so that
// decoding them does not allocate.
var names cowCache[string]

func internBytes(b []byte) string {
	if v, ok := names.get(b); ok {
		return v
	}
	s := string(b)
	names.put(s, s)
	return s
}

// cowCache is a bounded map read without locks and written by copying.
type cowCache[V any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]V]
}

func (c *cowCache[V]) get(key []byte) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[string(key)]
		return v, ok
	}
	var zero V
	return zero, false
}

func (c *cowCache[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	var next map[string]V
	if old == nil || len(*old) >= maxCached {
		next = make(map[string]V, 8)
	} else {
		next = make(map[string]V, len(*old)+1)
		for k, val := range *old {
			next[k] = val
		}
	}
	next[key] = v
	c.m.Store(&next)
}
