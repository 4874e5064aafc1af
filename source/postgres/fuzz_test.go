package postgres

import (
	"testing"

	sjson "github.com/segmentio/encoding/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecode feeds arbitrary payloads to Decode: it must never panic, and
// whatever it accepts must be JSON with one of the three change types.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{chatInsert, chatUpdate, chatDelete,
		string(changePayload(`[{"name":"v","type":"_int4"}]`, `{"v":"{1,2,{3}}"}`)),
		string(changePayload(`[{"name":"v","type":"bool"},{"name":"w","type":"timestamp"}]`, `{"v":"t","w":"2024-01-01 00:00:00"}`)),
		string(changePayload(`[{"name":"id","type":"int8"}]`, `{"id":"9007199254740993"}`)),
		`{"ids":[1],"data":{"type":"INSERT","errors":["Error 413: Payload Too Large"]}}`,
		`{"ids":null,"data":null}`, `{}`, `[]`, `"x"`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var typed Change[chatMessage]
		errTyped := Decode(payload, &typed)
		var generic Change[map[string]any]
		errGeneric := Decode(payload, &generic)
		var env Envelope
		errEnv := ParseEnvelope(payload, &env)

		for _, err := range []error{errTyped, errGeneric, errEnv} {
			if err != nil {
				assert.ErrorIs(t, err, ErrDecode)
				continue
			}
			require.True(t, sjson.Valid(payload), "accepted invalid JSON %q", payload)
		}
		if errEnv == nil {
			assert.Contains(t, []EventType{Insert, Update, Delete}, env.Type)
		} else {
			assert.Error(t, errTyped, "a payload whose envelope fails cannot decode")
			assert.Error(t, errGeneric)
		}

		// ScanEnvelope defers the rows' check to CheckRows and the decoders:
		// together they accept exactly what ParseEnvelope and Decode accept.
		var scanned Envelope
		errScan := ScanEnvelope(payload, &scanned)
		var lazyTyped Change[chatMessage]
		errLazyTyped := errScan
		if errScan == nil {
			errLazyTyped = DecodeEnvelope(&scanned, &lazyTyped)
			errScan = scanned.CheckRows()
		}
		for _, err := range []error{errScan, errLazyTyped} {
			if err != nil {
				assert.ErrorIs(t, err, ErrDecode)
			}
		}
		require.Equal(t, errEnv == nil, errScan == nil, "ParseEnvelope: %v; ScanEnvelope+CheckRows: %v", errEnv, errScan)
		require.Equal(t, errTyped == nil, errLazyTyped == nil, "Decode: %v; ScanEnvelope+DecodeEnvelope: %v", errTyped, errLazyTyped)
		if errEnv == nil {
			assert.Equal(t, env, scanned)
		}
		if errTyped == nil {
			assert.Equal(t, typed, lazyTyped)
		}
	})
}

// FuzzRawFilter checks that any filter the parser accepts renders to a
// string that parses back to the same filter, and that any valid text value
// survives quoting.
func FuzzRawFilter(f *testing.F) {
	for _, s := range []string{"id=eq.1", `a=in.("x,y",z)`, "a=not.is.null,b=gt.2", `n=eq."a\"b"`, ",", "=", `a=eq."`, "a=in.({1})"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := RawFilter(s)
		if r.Err() == nil {
			again := RawFilter(r.String())
			require.NoError(t, again.Err(), "%q -> %q", s, r.String())
			assert.Equal(t, r.String(), again.String())
		} else {
			assert.ErrorIs(t, r.Err(), ErrInvalidFilter)
		}

		eq := Eq("c", s)
		in := In("c", s, "x")
		if !validText(s) {
			assert.Error(t, eq.Err())
			assert.Error(t, in.Err())
			return
		}
		require.NoError(t, eq.Err())
		require.NoError(t, in.Err())
		assert.Equal(t, [][]any{{s}}, serverReads(t, eq.String()))
		assert.Equal(t, [][]any{{s, "x"}}, serverReads(t, in.String()))
	})
}
