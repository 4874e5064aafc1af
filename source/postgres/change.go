package postgres

import (
	"sync"
	"time"
)

// Change is one postgres_changes event with its rows decoded into T.
//
// New holds the new row (INSERT, UPDATE) and is the zero T for DELETE. Old
// holds the old row (UPDATE, DELETE) and is the zero T for INSERT; without
// REPLICA IDENTITY FULL on the table (and always for DELETE on a table with
// RLS enabled) the server sends only the primary key columns of the old
// row, so the other fields of Old stay zero.
type Change[T any] struct {
	// Type is INSERT, UPDATE or DELETE.
	Type EventType
	// Schema and Table name the table.
	Schema, Table string
	// CommitTimestamp is when the transaction committed (UTC).
	CommitTimestamp time.Time
	// New is the new row.
	New T
	// Old is the old row, or its primary key.
	Old T
	// Errors is nil, or the server's errors for this row (see
	// [Envelope.Errors]).
	Errors []string
	// IDs are the server ids of the bindings the change matched.
	IDs []int
	// Columns lists the columns and their PostgreSQL types. It is shared
	// between changes and must not be modified.
	Columns []Column
}

var envPool = sync.Pool{New: func() any { return new(Envelope) }}

// Decode decodes the payload of a postgres_changes message,
// {"ids":[...],"data":{...}}, into dst. It reuses the capacity of dst.IDs
// and replaces every other field of dst. dst does not alias payload after
// Decode returns. Errors are [*DecodeError]; bad input never panics.
//
// See the package documentation for how values are converted to T.
func Decode[T any](payload []byte, dst *Change[T]) error {
	env := envPool.Get().(*Envelope)
	defer func() {
		*env = Envelope{}
		envPool.Put(env)
	}()
	env.IDs = dst.IDs[:0]
	if err := ParseEnvelope(payload, env); err != nil {
		return err
	}
	return DecodeEnvelope(env, dst)
}

// copyEnvelope copies env's fields other than the rows into dst (IDs into
// dst.IDs's capacity) and zeroes dst.New and dst.Old.
func copyEnvelope[T any](env *Envelope, dst *Change[T]) {
	dst.Type = env.Type
	dst.Schema = env.Schema
	dst.Table = env.Table
	dst.CommitTimestamp = env.CommitTimestamp
	dst.Errors = env.Errors
	dst.Columns = env.Columns
	dst.IDs = append(dst.IDs[:0], env.IDs...)
	var zero T
	dst.New, dst.Old = zero, zero
}

// DecodeEnvelope decodes the rows of a parsed envelope into dst and copies
// the envelope's other fields. dst.IDs is set to a copy of env.IDs that
// reuses dst.IDs's capacity. Errors are [*DecodeError].
func DecodeEnvelope[T any](env *Envelope, dst *Change[T]) error {
	if err := checkRows(env); err != nil {
		return err
	}
	copyEnvelope(env, dst)
	if env.Record != nil {
		if err := decodeRow(env.Record, env.table, &dst.New); err != nil {
			err.Field = "data.record"
			return err
		}
	}
	if env.OldRecord != nil {
		if err := decodeRow(env.OldRecord, env.table, &dst.Old); err != nil {
			err.Field = "data.old_record"
			return err
		}
	}
	return nil
}

// decodeRow decodes one row: map[string]any gets every value converted by
// its column type; any other T is decoded directly and only the values it
// rejects are converted.
func decodeRow[T any](raw []byte, t *table, dst *T) *DecodeError {
	if m, ok := any(dst).(*map[string]any); ok {
		return decodeMapRow(raw, t, m)
	}
	return decodeTypedRow(raw, t, dst)
}
