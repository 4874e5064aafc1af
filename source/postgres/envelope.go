package postgres

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"time"

	sjson "github.com/segmentio/encoding/json"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Envelope is a postgres_changes payload with everything but the rows
// decoded: enough to route the message to the bindings whose ids it lists
// and whose event matches, before any consumer decodes the rows into its own
// type with [DecodeEnvelope].
//
// Record and OldRecord alias the payload given to [ParseEnvelope]; they are
// valid only while that buffer is. Columns is shared by every change that
// carries the same columns list and must not be modified.
type Envelope struct {
	// IDs are the server ids of this channel's bindings that match the row
	// (see [MatchReply]).
	IDs []int
	// Type is INSERT, UPDATE or DELETE.
	Type EventType
	// Schema and Table name the table the row belongs to.
	Schema, Table string
	// CommitTimestamp is when the transaction committed (UTC); zero if the
	// server sent null (as it does with errors 400 and 401).
	CommitTimestamp time.Time
	// Errors is nil, or the server's errors for this row, such as
	// "Error 413: Payload Too Large" (values over 64 bytes were dropped) or
	// "Error 401: Unauthorized".
	Errors []string
	// Columns lists the row's columns and their PostgreSQL types.
	Columns []Column
	// Record is the new row as JSON (INSERT, UPDATE), or nil.
	Record []byte
	// OldRecord is the old row as JSON (UPDATE, DELETE), or nil. Without
	// REPLICA IDENTITY FULL it holds only the primary key.
	OldRecord []byte

	table *table
	// rowsUnchecked: Record and OldRecord were located by [ScanEnvelope]
	// and not checked yet (see [Envelope.CheckRows]).
	rowsUnchecked bool
}

// Has reports whether the change matches the binding with server id id.
func (e *Envelope) Has(id int) bool { return slices.Contains(e.IDs, id) }

var (
	dataKeys = []string{"schema", "table", "commit_timestamp", "type", "columns", "record", "old_record", "errors"}
)

// Indexes into dataKeys.
const (
	dSchema = iota
	dTable
	dCommit
	dType
	dColumns
	dRecord
	dOld
	dErrors
	dCount
)

// ParseEnvelope decodes a postgres_changes payload, {"ids":[...],
// "data":{...}}, into env, except for the rows, which it only locates (in
// one pass over the payload, without copying). It reuses the capacity of
// env.IDs. Errors are [*DecodeError].
func ParseEnvelope(payload []byte, env *Envelope) error {
	return parseEnvelope(payload, env, false)
}

// ScanEnvelope is [ParseEnvelope] for routing: it checks and decodes
// everything but the rows, which it only locates, stepping over them
// without checking that they are well-formed JSON. The rows are checked
// before they are used: by [DecodeEnvelope], [DecodeEnvelopeWith] and
// [CheckColumns], or once and for all by [Envelope.CheckRows]. A router
// that reads many changes and hands each to another goroutine to decode
// (package source does) keeps the check off its own goroutine this way.
func ScanEnvelope(payload []byte, env *Envelope) error {
	return parseEnvelope(payload, env, true)
}

// CheckRows checks that Record and OldRecord are well-formed JSON, if
// [ScanEnvelope] left them unchecked, and records that they are: the
// decoders then do not check them again. It returns a [*DecodeError] for
// the row at fault. It writes to env: call it before several goroutines
// share the envelope, or under the same synchronization.
func (e *Envelope) CheckRows() error {
	if !e.rowsUnchecked {
		return nil
	}
	if err := checkRows(e); err != nil {
		return err
	}
	e.rowsUnchecked = false
	return nil
}

// checkRows checks the rows of an envelope whose rows are unchecked,
// without recording the result (so concurrent decoders may call it).
func checkRows(e *Envelope) *DecodeError {
	if !e.rowsUnchecked {
		return nil
	}
	if err := checkRowJSON(e.Record); err != nil {
		return &DecodeError{Field: "data.record", Err: err}
	}
	if err := checkRowJSON(e.OldRecord); err != nil {
		return &DecodeError{Field: "data.old_record", Err: err}
	}
	return nil
}

// checkRowJSON checks that raw (nil: absent) is exactly one well-formed JSON
// value.
func checkRowJSON(raw []byte) error {
	if raw == nil {
		return nil
	}
	end, err := skipValue(raw, 0)
	if err != nil {
		return err
	}
	if skipSpace(raw, end) != len(raw) {
		return errors.New("unexpected data after the row")
	}
	return nil
}

func parseEnvelope(payload []byte, env *Envelope, lazyRows bool) error {
	var d [dCount][]byte
	ids := env.IDs[:0]
	idsErr := error(nil)
	end, err := walkObject(payload, 0, func(key []byte, v int) (int, error) {
		switch string(key) {
		case "ids":
			e, err := skipValue(payload, v)
			if err != nil {
				return e, err
			}
			if !isNull(payload[v:e]) {
				idsErr = phoenix.Elements(payload[v:e], func(el []byte) error {
					id, err := strconv.Atoi(string(el))
					if err != nil {
						return errors.New("an id is not an integer")
					}
					ids = append(ids, id)
					return nil
				})
			}
			return e, nil
		case "data":
			return walkObject(payload, v, func(key []byte, v int) (int, error) {
				// The rows are checked by CheckRows or the decoders, the
				// columns by lookupTable the first time they are seen.
				lazy := lazyRows && (string(key) == "record" || string(key) == "old_record" || string(key) == "columns")
				skip := skipValue
				if lazy {
					skip = locateValue
				}
				e, ok := sameColumns(payload, v, string(key) == "columns")
				if !ok {
					var err error
					if e, err = skip(payload, v); err != nil {
						return e, err
					}
				}
				for k, name := range dataKeys {
					if string(key) == name {
						if lazy && d[k] != nil {
							// A repeated key replaces the value before, which
							// nothing would check later: check it now.
							if err := checkRowJSON(d[k]); err != nil {
								return v, err
							}
						}
						d[k] = payload[v:e:e]
					}
				}
				return e, nil
			})
		}
		return skipValue(payload, v)
	})
	if err != nil {
		return &DecodeError{Field: "payload", Err: err}
	}
	if skipSpace(payload, end) != len(payload) {
		return &DecodeError{Field: "payload", Err: errors.New("unexpected data after the payload object")}
	}
	if idsErr != nil {
		return &DecodeError{Field: "ids", Err: idsErr}
	}
	*env = Envelope{IDs: ids}
	if env.Type, err = eventType(d[dType]); err != nil {
		return &DecodeError{Field: "data.type", Err: err}
	}
	if env.Schema, err = rawString(d[dSchema]); err != nil {
		return &DecodeError{Field: "data.schema", Err: err}
	}
	if env.Table, err = rawString(d[dTable]); err != nil {
		return &DecodeError{Field: "data.table", Err: err}
	}
	if env.CommitTimestamp, err = rawTime(d[dCommit]); err != nil {
		return &DecodeError{Field: "data.commit_timestamp", Err: err}
	}
	if !isNull(d[dErrors]) {
		if err := sjson.Unmarshal(d[dErrors], &env.Errors); err != nil {
			return &DecodeError{Field: "data.errors", Err: err}
		}
	}
	if !isNull(d[dColumns]) {
		if env.table, err = tableFor(d[dColumns]); err != nil {
			return &DecodeError{Field: "data.columns", Err: err}
		}
		env.Columns = env.table.columns
	}
	if !isNull(d[dRecord]) {
		env.Record = d[dRecord]
	}
	if !isNull(d[dOld]) {
		env.OldRecord = d[dOld]
	}
	env.rowsUnchecked = lazyRows && (env.Record != nil || env.OldRecord != nil)
	return nil
}

var (
	rawInsert = []byte(`"INSERT"`)
	rawUpdate = []byte(`"UPDATE"`)
	rawDelete = []byte(`"DELETE"`)
)

func eventType(raw []byte) (EventType, error) {
	switch {
	case bytes.Equal(raw, rawInsert):
		return Insert, nil
	case bytes.Equal(raw, rawUpdate):
		return Update, nil
	case bytes.Equal(raw, rawDelete):
		return Delete, nil
	case raw == nil:
		return "", errors.New("missing")
	}
	return "", errors.New("want \"INSERT\", \"UPDATE\" or \"DELETE\"")
}

func isNull(raw []byte) bool { return raw == nil || string(raw) == "null" }

// rawString returns the string a raw JSON value holds ("" for null or
// absent), interning plain strings.
func rawString(raw []byte) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	if len(raw) < 2 || raw[0] != '"' {
		return "", errors.New("not a string")
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return internBytes(inner), nil
	}
	var s string
	if err := sjson.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

func rawTime(raw []byte) (time.Time, error) {
	if isNull(raw) {
		return time.Time{}, nil
	}
	if len(raw) < 2 || raw[0] != '"' || bytes.IndexByte(raw[1:len(raw)-1], '\\') >= 0 {
		return time.Time{}, errors.New("not a timestamp string")
	}
	t, ok := parseTime(string(raw[1 : len(raw)-1]))
	if !ok {
		return time.Time{}, errors.New("not a timestamp: " + quoteForError(string(raw[1:len(raw)-1])))
	}
	return t, nil
}
