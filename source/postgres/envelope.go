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
				e, err := skipValue(payload, v)
				if err != nil {
					return e, err
				}
				for k, name := range dataKeys {
					if string(key) == name {
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
		if env.table, err = lookupTable(d[dColumns]); err != nil {
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
