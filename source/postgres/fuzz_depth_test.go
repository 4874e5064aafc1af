package postgres

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// fuzzRowTypes are the column types FuzzDecodeMapRow gives its value.
var fuzzRowTypes = []string{"jsonb", "json", "text", "_jsonb"}

// FuzzDecodeMapRow decodes a row of one column, {"v": value}, into
// map[string]any (and into a struct with a []any field). The column's type
// is one of fuzzRowTypes; value is doc itself (raw) or a JSON string holding
// doc's text, the form a json or jsonb value sent as text takes, which the
// decoder parses again.
//
// Properties: no panic; every error is a *DecodeError; a value nested
// deeper than phoenix.MaxDepth (the row's own braces count as a level;
// JSON held in a string counts from its own start) fails with
// phoenix.ErrTooDeep; anything within the limit agrees with the reference,
// encoding/json with json.Number numbers, after the documented jsonb rule
// (a string is parsed if it holds exactly one JSON object or array).
func FuzzDecodeMapRow(f *testing.F) {
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	wide := "[" + strings.Repeat(`1,"x",{"a":[]},`, 700) + "null]"
	wideObject := "{" + strings.Repeat(`"k":[1],`, 700) + `"z":{}}`
	for _, seed := range []struct {
		typ      uint8
		asString bool
		doc      string
	}{
		{0, true, arrays(phoenix.MaxDepth)},
		{0, true, arrays(phoenix.MaxDepth + 1)},
		{1, true, objects(phoenix.MaxDepth + 1)},
		{0, true, objects(phoenix.MaxDepth)},
		{0, false, arrays(phoenix.MaxDepth - 1)},
		{0, false, arrays(phoenix.MaxDepth)},
		{0, false, quote(arrays(phoenix.MaxDepth + 1))},
		{0, true, strings.Repeat("[", 5000)},
		{2, true, arrays(5000)},
		{3, false, `[` + quote(arrays(phoenix.MaxDepth+1)) + `]`},
		{3, false, `["[1]","{\"a\":1}",[["[]"]],null,1]`},
		{3, true, `{"[1]",NULL}`},
		{0, true, wide},
		{0, false, wide},
		{1, true, wideObject},
		{0, true, `{"a":[1,2.5e3,{"b":null,"c":"]]]"}],"d":"\u00e9"}`},
		{0, true, ` [1] `},
		{0, true, `[1,]`},
		{0, true, `]]]][[[`},
		{0, true, `"[[["`},
		{0, true, `123`},
		{0, false, `{"a":"[[[["}`},
	} {
		f.Add(seed.typ, seed.asString, seed.doc)
	}
	f.Fuzz(func(t *testing.T, typIdx uint8, asString bool, doc string) {
		typ := fuzzRowTypes[int(typIdx)%len(fuzzRowTypes)]
		value := doc
		if asString {
			value = quote(doc)
		}
		payload := changePayload(`[{"name":"v","type":"`+typ+`"}]`, `{"v":`+value+`}`)
		var m Change[map[string]any]
		err := Decode(payload, &m)
		var typed Change[struct {
			V []any `json:"v"`
		}]
		typedErr := Decode(payload, &typed)
		for _, err := range []error{err, typedErr} {
			if err != nil {
				require.ErrorIs(t, err, ErrDecode)
				var de *DecodeError
				require.ErrorAs(t, err, &de)
			}
		}

		// The reference: what the row's value is, once decoded.
		if !json.Valid([]byte(value)) {
			return // not one JSON value: the row may be anything, or nothing
		}
		v := referenceDecode(t, value)
		if refDepth(value)+1 > phoenix.MaxDepth {
			require.ErrorIs(t, err, phoenix.ErrTooDeep, "a row nested %d levels", refDepth(value)+1)
			require.ErrorIs(t, typedErr, phoenix.ErrTooDeep)
			return
		}
		want, tooDeep, known := referenceConvert(t, typ, v)
		switch {
		case tooDeep:
			require.ErrorIs(t, err, phoenix.ErrTooDeep)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "v", de.Column)
		case known:
			require.NoError(t, err)
			assert.Equal(t, want, m.New["v"])
		}

		// The struct's []any field takes an array; a string holding one
		// is parsed for json and jsonb columns.
		if s, ok := v.(string); ok && (typ == "jsonb" || typ == "json") {
			text := strings.TrimSpace(s)
			if strings.HasPrefix(text, "[") && json.Valid([]byte(text)) {
				if refDepth(text) > phoenix.MaxDepth {
					require.ErrorIs(t, typedErr, phoenix.ErrTooDeep)
				} else {
					require.NoError(t, typedErr)
					var want []any
					require.NoError(t, json.Unmarshal([]byte(text), &want))
					assert.Equal(t, want, typed.New.V)
				}
			}
		}
	})
}

// referenceConvert is the documented conversion of a decoded value of a
// column of type typ into a map row. known is false where the reference
// does not say (a _jsonb value sent as an array literal); tooDeep reports
// JSON text nested deeper than phoenix.MaxDepth.
func referenceConvert(t *testing.T, typ string, v any) (want any, tooDeep, known bool) {
	switch typ {
	case "jsonb", "json":
		want, tooDeep = referenceJSONB(t, v)
		return want, tooDeep, true
	case "_jsonb":
		switch x := v.(type) {
		case string:
			return nil, false, false // a PostgreSQL array literal
		case []any:
			out, deep := referenceJSONBArray(t, x)
			return out, deep, true
		}
	}
	return v, false, true
}

func referenceJSONBArray(t *testing.T, elems []any) ([]any, bool) {
	out := make([]any, len(elems))
	for i, e := range elems {
		var deep bool
		if sub, ok := e.([]any); ok {
			out[i], deep = referenceJSONBArray(t, sub)
		} else {
			out[i], deep = referenceJSONB(t, e)
		}
		if deep {
			return nil, true
		}
	}
	return out, false
}

// referenceJSONB: a string whose text (without surrounding space) starts
// with { or [ is refused if nested too deep, replaced by its JSON value if
// it is exactly one, and kept otherwise; other values are kept.
func referenceJSONB(t *testing.T, v any) (any, bool) {
	s, ok := v.(string)
	if !ok {
		return v, false
	}
	text := strings.TrimSpace(s)
	if text == "" || (text[0] != '{' && text[0] != '[') {
		return s, false
	}
	if refDepth(text) > phoenix.MaxDepth {
		return nil, true
	}
	if !json.Valid([]byte(text)) {
		return s, false
	}
	return referenceDecode(t, text), false
}

// refDepth is the deepest nesting of brackets in s outside JSON strings (a
// closing bracket with nothing open is ignored), computed independently of
// the scanner under test.
func refDepth(s string) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range []byte(s) {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString:
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case (c == ']' || c == '}') && depth > 0:
			depth--
		}
	}
	return deepest
}
