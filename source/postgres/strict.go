package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrUnknownColumn is matched (errors.Is) by the [*DecodeError] of
// [CheckColumns]: a row has a column that no field of the row type takes.
var ErrUnknownColumn = errors.New("no field of the row type takes this column")

// CheckColumns reports, as a [*DecodeError] naming the column and wrapping
// [ErrUnknownColumn], the first column of env's rows (record, then
// old_record) that no field of T takes, when T is a struct (or a pointer to
// one) without its own UnmarshalJSON. Fields are matched to columns as
// encoding/json matches them to keys (tags, embedded structs, case-folding).
// For any other T (maps, any, json.RawMessage, custom unmarshalers) it
// returns nil.
//
// It is how a stream that may receive rows of several tables tells a row of
// another table from a row of T's: a plain decode would leave T's fields
// zero without an error. Columns missing from the row (a DELETE's old row
// holding only the key, a binding's column selection) are not errors.
func CheckColumns[T any](env *Envelope) error {
	rt := reflect.TypeFor[T]()
	if !strictType(rt) {
		return nil
	}
	if err := checkRows(env); err != nil {
		return err
	}
	if env.Record != nil {
		if err := checkRow(rt, env.Record, "data.record"); err != nil {
			return err
		}
	}
	if env.OldRecord != nil {
		if err := checkRow(rt, env.OldRecord, "data.old_record"); err != nil {
			return err
		}
	}
	return nil
}

// DecodeEnvelopeWith is [DecodeEnvelope] with the rows decoded by unmarshal
// (a payload codec's, such as a faster JSON library's) alone: no value is
// converted by its column type. A row unmarshal rejects is reported as a
// [*DecodeError] for its field.
func DecodeEnvelopeWith[T any](env *Envelope, dst *Change[T], unmarshal func(data []byte, v any) error) error {
	if err := checkRows(env); err != nil {
		return err
	}
	copyEnvelope(env, dst)
	if env.Record != nil {
		if err := unmarshal(env.Record, &dst.New); err != nil {
			return &DecodeError{Field: "data.record", Err: err}
		}
	}
	if env.OldRecord != nil {
		if err := unmarshal(env.OldRecord, &dst.Old); err != nil {
			return &DecodeError{Field: "data.old_record", Err: err}
		}
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// strictType reports whether rt is a struct, or pointers to one, that
// encoding/json decodes field by field.
func strictType(rt reflect.Type) bool {
	for rt.Kind() == reflect.Pointer {
		if rt.Implements(unmarshalerType) {
			return false
		}
		rt = rt.Elem()
	}
	return rt.Kind() == reflect.Struct && !rt.Implements(unmarshalerType) && !reflect.PointerTo(rt).Implements(unmarshalerType)
}

// knownKeys caches, per row type and column name, whether a field takes
// the column. Column names come from the server's table definitions, so the
// set is small; it stops growing past maxKnownKeys all the same.
var (
	knownKeys  sync.Map // knownKey -> bool
	knownCount atomic.Int64
)

const maxKnownKeys = 1 << 14

type knownKey struct {
	t   reflect.Type
	key string
}

func checkRow(rt reflect.Type, raw []byte, field string) error {
	var bad string
	_, err := walkObject(raw, 0, func(key []byte, v int) (int, error) {
		end, err := skipValue(raw, v)
		if err != nil || bad != "" {
			return end, err
		}
		if !takesKey(rt, key) {
			bad = string(key)
		}
		return end, nil
	})
	if err != nil {
		return &DecodeError{Field: field, Err: err}
	}
	if bad != "" {
		return &DecodeError{Field: field, Column: bad, Err: ErrUnknownColumn}
	}
	return nil
}

// takesKey reports whether a field of rt takes the JSON key, by decoding
// {key: null} into a new rt with unknown fields disallowed: null leaves
// every field as it is, so the only error that matters is the unknown
// field.
func takesKey(rt reflect.Type, key []byte) bool {
	if v, ok := knownKeys.Load(knownKey{rt, string(key)}); ok { // no allocation for the lookup
		return v.(bool)
	}
	obj, _ := json.Marshal(map[string]any{string(key): nil})
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.DisallowUnknownFields()
	err := dec.Decode(reflect.New(rt).Interface())
	ok := err == nil || !strings.HasPrefix(err.Error(), "json: unknown field")
	if knownCount.Load() < maxKnownKeys {
		if _, loaded := knownKeys.LoadOrStore(knownKey{rt, string(key)}, ok); !loaded {
			knownCount.Add(1)
		}
	}
	return ok
}
