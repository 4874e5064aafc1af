package presence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// refMeta is a meta as the reference decoder reads it.
type refMeta struct {
	Ref, RefPrev string
	Raw          json.RawMessage
}

// refDecodeState is a reference decoder of a presence_state built on
// encoding/json, written from the rules DecodeState documents: names match
// exactly and the last of a repeated name wins (every entry of a repeated
// key must still be a valid entry: the keys are walked one by one); an
// entry is an object whose metas is a list; a meta is an object with a
// phx_ref string and, if not null, a phx_ref_prev string. It does not
// limit nesting (encoding/json stops at 10,000 levels).
func refDecodeState(payload []byte) (map[string][]refMeta, bool) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	out := map[string][]refMeta{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key := tok.(string)
		var entry json.RawMessage
		if err := dec.Decode(&entry); err != nil {
			return nil, false
		}
		metas, ok := refDecodeEntry(entry)
		if !ok {
			return nil, false
		}
		out[key] = metas
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // trailing data
	}
	return out, true
}

func refDecodeEntry(entry json.RawMessage) ([]refMeta, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(entry, &fields) != nil || fields == nil {
		return nil, false
	}
	var list []json.RawMessage
	if raw, ok := fields["metas"]; !ok || json.Unmarshal(raw, &list) != nil || list == nil {
		return nil, false
	}
	metas := make([]refMeta, len(list))
	for i, raw := range list {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil || m == nil {
			return nil, false
		}
		ref, ok := m["phx_ref"]
		if !ok || string(ref) == "null" || json.Unmarshal(ref, &metas[i].Ref) != nil {
			return nil, false
		}
		if prev, ok := m["phx_ref_prev"]; ok && string(prev) != "null" && json.Unmarshal(prev, &metas[i].RefPrev) != nil {
			return nil, false
		}
		metas[i].Raw = raw
	}
	return metas, true
}

func refDecodeDiff(payload []byte) (joins, leaves map[string][]refMeta, ok bool) {
	var halves map[string]json.RawMessage
	if json.Unmarshal(payload, &halves) != nil || halves == nil {
		return nil, nil, false
	}
	half := func(name string) (map[string][]refMeta, bool) {
		raw, ok := halves[name]
		if !ok || string(raw) == "null" {
			return map[string][]refMeta{}, true
		}
		return refDecodeState(raw)
	}
	if joins, ok = half("joins"); !ok {
		return nil, nil, false
	}
	leaves, ok = half("leaves")
	return joins, leaves, ok
}

// jsonDepth is the nesting of a valid JSON document, counted with
// encoding/json's tokenizer (independently of the phoenix scanner).
func jsonDepth(payload []byte) int {
	dec := json.NewDecoder(bytes.NewReader(payload))
	depth, most := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return most
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			most = max(most, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// checkDecodeError checks the properties every decode error has.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	require.ErrorIs(t, err, ErrDecode)
	require.NotEmpty(t, err.Error())
}

// checkDepth checks the nesting rule on a payload that encoding/json
// accepts as JSON: refused with phoenix.ErrTooDeep past MaxDepth, and for
// no other reason than its content otherwise.
func checkDepth(t *testing.T, payload []byte, errs ...error) (within bool) {
	t.Helper()
	if !json.Valid(payload) {
		for _, err := range errs {
			require.Error(t, err, "malformed JSON decoded")
		}
		return false
	}
	deep := jsonDepth(payload) > phoenix.MaxDepth
	for _, err := range errs {
		require.Equal(t, deep, errors.Is(err, phoenix.ErrTooDeep), "depth %d, err %v", jsonDepth(payload), err)
	}
	return !deep
}

// sameState checks that a decoded state holds what the reference read.
func sameState[M any](t *testing.T, want map[string][]refMeta, got State[M], value func(M) []byte) {
	t.Helper()
	require.Len(t, got, len(want))
	for key, metas := range want {
		require.Len(t, got[key], len(metas), "key %q", key)
		for i, m := range metas {
			g := got[key][i]
			require.Equal(t, m.Ref, g.Ref, "key %q meta %d", key, i)
			require.Equal(t, m.RefPrev, g.RefPrev, "key %q meta %d", key, i)
			if value != nil {
				require.Equal(t, string(m.Raw), string(value(g.Value)), "key %q meta %d", key, i)
			}
		}
	}
}

// sameAny checks metas decoded into any against encoding/json's decoding
// of the same bytes: the decode fails if and only if encoding/json fails on
// a meta (a number out of float64's range, say), and gives the same values
// otherwise.
func sameAny(t *testing.T, want map[string][]refMeta, got State[any], err error) {
	t.Helper()
	values := map[string][]any{}
	for key, metas := range want {
		for _, m := range metas {
			var v any
			if json.Unmarshal(m.Raw, &v) != nil {
				require.Error(t, err, "key %q: encoding/json cannot decode %s", key, m.Raw)
				return
			}
			values[key] = append(values[key], v)
		}
	}
	require.NoError(t, err)
	sameState(t, want, got, nil)
	for key, vs := range values {
		for i, v := range vs {
			require.True(t, reflect.DeepEqual(v, got[key][i].Value), "key %q meta %d: want %#v, got %#v", key, i, v, got[key][i].Value)
		}
	}
}

// decodesAsAny reports whether encoding/json decodes every meta into any.
func decodesAsAny(s map[string][]refMeta) bool {
	for _, metas := range s {
		for _, m := range metas {
			var v any
			if json.Unmarshal(m.Raw, &v) != nil {
				return false
			}
		}
	}
	return true
}

// encodeState writes a decoded state back in wire form.
func encodeState(s State[json.RawMessage]) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for key, metas := range s {
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteString(`:{"metas":[`)
		for i, m := range metas {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(m.Value)
		}
		b.WriteString("]}")
	}
	b.WriteByte('}')
	return b.Bytes()
}

func rawValue(v json.RawMessage) []byte { return v }
func metaText(v RawMeta) []byte         { return []byte(v) }

// nest puts n levels of arrays around inner.
func nest(n int, inner string) string {
	return strings.Repeat("[", n) + inner + strings.Repeat("]", n)
}

// seedStates are presence_state payloads: the wire's own, malformed and
// odd ones, deep ones around the limit, a wide one.
func seedStates() []string {
	seeds := []string{
		`{}`,
		`null`,
		` {"u1":{"metas":[{"id":1,"phx_ref":"1"}]},"u2":{"metas":[{"phx_ref":"2","phx_ref_prev":"1","name":"a"}]}} `,
		`{"u":{"metas":[{"phx_ref":"1"},{"phx_ref":"2"}]}}`,
		`{"u":{"metas":[]}}`,
		`{"u":{"metas":null}}`,
		`{"u":null}`,
		`{"u":{}}`,
		`{"u":{"metas":[null]}}`,
		`{"u":{"metas":[{"phx_ref":null}]}}`,
		`{"u":{"metas":[{"phx_ref":1}]}}`,
		`{"u":{"metas":[{"phx_ref":"1","phx_ref_prev":null}]}}`,
		`{"u":{"metas":[{"phx_ref":"1","phx_ref_prev":2}]}}`,
		`{"u":{"metas":[{"phx_ref":"1","PHX_REF":"2"}],"Metas":[]}}`,
		`{"u":{"metas":[{"phx_ref":"1"}]},"u":{"metas":[{"phx_ref":"2"}]}}`,
		`{"u":{"metas":[]},"u":{"metas":[{"phx_ref":"2"}]}}`,
		`{"u":{"metas":[{"phx_ref":"1","phx_ref":"2"}],"metas":[{"phx_ref":"3"}]}}`,
		`{"\u00e9\"\\k\ud83d\ude00":{"metas":[{"phx_ref":"r\n\u0041","x":"\"phx_ref\":\"z\""}]}}`,
		`{"u":{"metas":[{"phx_ref":"1","n":1e400,"f":-0.5e-3,"b":[true,false,null],"o":{"a":{}}}]}}`,
		`{"u":{"metas":[{"phx_ref":"1"}]}} x`,
		`{"u":{"metas":[{"phx_ref":"1"}]}`,
		`{"u":{"metas":{"phx_ref":"1"}}}`,
		`[]`,
		`"x"`,
		`{"u":{"metas":[{"phx_ref":"1","x":` + nest(phoenix.MaxDepth-4, "") + `}]}}`,
		`{"u":{"metas":[{"phx_ref":"1","x":` + nest(phoenix.MaxDepth-3, "") + `}]}}`,
		`{"u":{"metas":[{"phx_ref":"1"}],"x":` + nest(phoenix.MaxDepth-1, "1") + `}}`,
		`{"u":{"metas":[{"phx_ref":"1"}]},"v":` + nest(phoenix.MaxDepth, "") + `}`,
		`{"u":{"metas":[{"phx_ref":"1","x":"` + nest(2000, "") + `"}]}}`,
	}
	var wide strings.Builder
	wide.WriteByte('{')
	for i := range 300 {
		if i > 0 {
			wide.WriteByte(',')
		}
		fmt.Fprintf(&wide, `"u%d":{"metas":[{"phx_ref":"F%d","n":%d}]}`, i, i, i%7)
	}
	wide.WriteByte('}')
	return append(seeds, wide.String())
}

// FuzzDecodeState: DecodeState never panics, fails only with a
// *DecodeError, refuses exactly the JSON nested deeper than MaxDepth with
// phoenix.ErrTooDeep, and otherwise agrees with a reference decoder built
// on encoding/json, for every M: json.RawMessage and RawMeta keep the
// meta's exact bytes, any holds what encoding/json decodes from them. A
// decoded state written back decodes to itself.
func FuzzDecodeState(f *testing.F) {
	for _, s := range seedStates() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		raw, rawErr := DecodeState[json.RawMessage](payload)
		text, textErr := DecodeState[RawMeta](payload)
		anys, anyErr := DecodeState[any](payload)
		for _, err := range []error{rawErr, textErr, anyErr} {
			if err != nil {
				checkDecodeError(t, err)
			}
		}
		if !checkDepth(t, payload, rawErr, textErr, anyErr) || !utf8.Valid(payload) {
			return // encoding/json rewrites invalid UTF-8: no reference
		}
		want, ok := refDecodeState(payload)
		require.Equal(t, ok, rawErr == nil, "reference ok %v, DecodeState error %v", ok, rawErr)
		require.Equal(t, ok, textErr == nil, "reference ok %v, DecodeState[RawMeta] error %v", ok, textErr)
		if !ok {
			return
		}
		sameState(t, want, raw, rawValue)
		sameState(t, want, text, metaText)
		sameAny(t, want, anys, anyErr)

		again, err := DecodeState[json.RawMessage](encodeState(raw))
		require.NoError(t, err)
		require.Equal(t, raw, again)
	})
}

// FuzzDecodeDiff is FuzzDecodeState for presence_diff payloads.
func FuzzDecodeDiff(f *testing.F) {
	for _, s := range seedStates() {
		f.Add([]byte(`{"joins":` + s + `,"leaves":{}}`))
		f.Add([]byte(`{"leaves":` + s + `}`))
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"joins":null,"leaves":null}`, `{"joins":1}`,
		`{"joins":{},"leaves":{},"joins":{"u":{"metas":[{"phx_ref":"1"}]}}}`,
		`{"joins":{},"leaves":{},"x":` + nest(phoenix.MaxDepth-1, "") + `}`,
		`{"joins":{},"leaves":{},"x":` + nest(phoenix.MaxDepth, "") + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		raw, rawErr := DecodeDiff[json.RawMessage](payload)
		text, textErr := DecodeDiff[RawMeta](payload)
		anys, anyErr := DecodeDiff[any](payload)
		for _, err := range []error{rawErr, textErr, anyErr} {
			if err != nil {
				checkDecodeError(t, err)
			}
		}
		if !checkDepth(t, payload, rawErr, textErr, anyErr) || !utf8.Valid(payload) {
			return
		}
		joins, leaves, ok := refDecodeDiff(payload)
		require.Equal(t, ok, rawErr == nil, "reference ok %v, DecodeDiff error %v", ok, rawErr)
		require.Equal(t, ok, textErr == nil, "reference ok %v, DecodeDiff[RawMeta] error %v", ok, textErr)
		if !ok {
			return
		}
		sameState(t, joins, raw.Joins, rawValue)
		sameState(t, leaves, raw.Leaves, rawValue)
		sameState(t, joins, text.Joins, metaText)
		sameState(t, leaves, text.Leaves, metaText)
		if anyErr == nil {
			sameAny(t, joins, anys.Joins, nil)
			sameAny(t, leaves, anys.Leaves, nil)
		} else {
			// Some meta of either half fails in encoding/json too.
			require.ErrorIs(t, anyErr, ErrDecode)
			require.True(t, !decodesAsAny(joins) || !decodesAsAny(leaves), "DecodeDiff[any]: %v", anyErr)
		}
	})
}
