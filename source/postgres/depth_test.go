package postgres

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// arrays returns n nested JSON arrays, [[...]].
func arrays(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// objects returns n nested JSON objects, {"a":{"a":...0}}.
func objects(n int) string { return strings.Repeat(`{"a":`, n) + "0" + strings.Repeat("}", n) }

// referenceDecode decodes JSON text with encoding/json (numbers as
// json.Number), the reference the map decoder must agree with.
func referenceDecode(t testing.TB, text string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var v any
	require.NoError(t, d.Decode(&v))
	return v
}

// requireTooDeep checks that err is the refusal of a value of column v
// nested deeper than phoenix.MaxDepth.
func requireTooDeep(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, phoenix.ErrTooDeep)
	assert.ErrorIs(t, err, ErrDecode)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "data.record", de.Field)
	assert.Equal(t, "v", de.Column)
	assert.Contains(t, err.Error(), strconv.Itoa(phoenix.MaxDepth), "the error names the limit")
}

// A jsonb or json value that arrives as a string holding JSON is parsed
// again; that parse is bounded by phoenix.MaxDepth like every other decode of
// server input: one level more fails the change with an error wrapping
// phoenix.ErrTooDeep, and MaxDepth levels decode as encoding/json does.
func TestDecodeMapJSONStringDepth(t *testing.T) {
	for _, typ := range []string{"jsonb", "json"} {
		for _, shape := range []struct {
			name string
			of   func(int) string
		}{{"arrays", arrays}, {"objects", objects}} {
			t.Run(typ+" "+shape.name+" past the limit", func(t *testing.T) {
				got, err := mapValue(typ, strconv.Quote(shape.of(phoenix.MaxDepth+1)))
				requireTooDeep(t, err)
				assert.Nil(t, got)
			})
			t.Run(typ+" "+shape.name+" at the limit", func(t *testing.T) {
				text := shape.of(phoenix.MaxDepth)
				got, err := mapValue(typ, strconv.Quote(text))
				require.NoError(t, err)
				assert.Equal(t, referenceDecode(t, text), got)
			})
		}
	}
	t.Run("_jsonb element strings", func(t *testing.T) {
		_, err := mapValue("_jsonb", `["[]",`+strconv.Quote(arrays(phoenix.MaxDepth+1))+`]`)
		requireTooDeep(t, err)
		text := arrays(phoenix.MaxDepth)
		got, err := mapValue("_jsonb", `[`+strconv.Quote(text)+`]`)
		require.NoError(t, err)
		assert.Equal(t, []any{referenceDecode(t, text)}, got)
	})
	t.Run("_jsonb array literal", func(t *testing.T) {
		_, err := mapValue("_jsonb", strconv.Quote("{"+arrays(phoenix.MaxDepth+1)+"}"))
		requireTooDeep(t, err)
		text := arrays(phoenix.MaxDepth)
		got, err := mapValue("_jsonb", strconv.Quote("{"+text+"}"))
		require.NoError(t, err)
		assert.Equal(t, []any{referenceDecode(t, text)}, got)
	})
	t.Run("a text column is not parsed", func(t *testing.T) {
		text := arrays(phoenix.MaxDepth + 1)
		got, err := mapValue("text", strconv.Quote(text))
		require.NoError(t, err)
		assert.Equal(t, text, got)
	})
}

// The same for rows decoded into a struct: a field that rejects the string
// gets the JSON it holds, parsed under the same bound.
func TestDecodeTypedJSONStringDepth(t *testing.T) {
	type doc = map[string]any
	tests := []struct {
		name      string
		typ       string
		deep, max func() (any, error) // MaxDepth+1 and MaxDepth levels
		want      func() any          // what max decodes to
	}{
		{
			name: "jsonb string into []any",
			typ:  "jsonb",
			deep: func() (any, error) { return decodeValue[[]any]("jsonb", strconv.Quote(arrays(phoenix.MaxDepth+1))) },
			max:  func() (any, error) { return decodeValue[[]any]("jsonb", strconv.Quote(arrays(phoenix.MaxDepth))) },
			want: func() any {
				var v []any
				require.NoError(t, json.Unmarshal([]byte(arrays(phoenix.MaxDepth)), &v))
				return v
			},
		},
		{
			name: "json string into a map",
			typ:  "json",
			deep: func() (any, error) { return decodeValue[doc]("json", strconv.Quote(objects(phoenix.MaxDepth+1))) },
			max:  func() (any, error) { return decodeValue[doc]("json", strconv.Quote(objects(phoenix.MaxDepth))) },
			want: func() any {
				var v doc
				require.NoError(t, json.Unmarshal([]byte(objects(phoenix.MaxDepth)), &v))
				return v
			},
		},
		{
			name: "_jsonb element strings into [][]any",
			typ:  "_jsonb",
			deep: func() (any, error) {
				return decodeValue[[][]any]("_jsonb", `[`+strconv.Quote(arrays(phoenix.MaxDepth+1))+`]`)
			},
			max: func() (any, error) {
				return decodeValue[[][]any]("_jsonb", `[`+strconv.Quote(arrays(phoenix.MaxDepth))+`]`)
			},
			want: func() any {
				var v [][]any
				require.NoError(t, json.Unmarshal([]byte("["+arrays(phoenix.MaxDepth)+"]"), &v))
				return v
			},
		},
		{
			name: "_jsonb array literal into [][]any",
			typ:  "_jsonb",
			deep: func() (any, error) {
				return decodeValue[[][]any]("_jsonb", strconv.Quote("{"+arrays(phoenix.MaxDepth+1)+"}"))
			},
			max: func() (any, error) {
				return decodeValue[[][]any]("_jsonb", strconv.Quote("{"+arrays(phoenix.MaxDepth)+"}"))
			},
			want: func() any {
				var v [][]any
				require.NoError(t, json.Unmarshal([]byte("["+arrays(phoenix.MaxDepth)+"]"), &v))
				return v
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.deep()
			requireTooDeep(t, err)
			got, err := tt.max()
			require.NoError(t, err)
			assert.Equal(t, tt.want(), got)
		})
	}
}

// Rows themselves are bounded by the walk that finds them (ParseEnvelope,
// or ScanEnvelope and CheckRows): a row one level too deep is refused
// before any decoder sees it, whatever the row type.
func TestDecodeRowDepth(t *testing.T) {
	// The row's own braces are its first level.
	deep := `{"v":` + arrays(phoenix.MaxDepth) + `}`
	ok := `{"v":` + arrays(phoenix.MaxDepth-1) + `}`
	cols := `[{"name":"v","type":"jsonb"}]`
	for _, lazy := range []bool{false, true} {
		t.Run("lazy="+strconv.FormatBool(lazy), func(t *testing.T) {
			decode := func(record string, dst *Change[map[string]any]) error {
				if !lazy {
					return Decode(changePayload(cols, record), dst)
				}
				var env Envelope
				if err := ScanEnvelope(changePayload(cols, record), &env); err != nil {
					return err
				}
				return DecodeEnvelope(&env, dst)
			}
			var m Change[map[string]any]
			err := decode(deep, &m)
			require.Error(t, err)
			assert.ErrorIs(t, err, phoenix.ErrTooDeep)
			assert.ErrorIs(t, err, ErrDecode)
			require.NoError(t, decode(ok, &m))
			assert.Equal(t, referenceDecode(t, arrays(phoenix.MaxDepth-1)), m.New["v"])
		})
	}
}

// depthChild names the test a child process of the test binary runs (see
// runChild).
const depthChild = "RXREALTIME_DEPTH_CHILD"

// runChild runs t alone in a new process of the test binary, with
// depthChild set to its name, and reports whether this process is that
// child. In the parent it fails t unless the child passed: a Go stack
// overflow is fatal, so a test that overflows must not run in the process
// that reports it.
func runChild(t *testing.T) (isChild bool) {
	t.Helper()
	if os.Getenv(depthChild) == t.Name() {
		return true
	}
	if testing.Short() {
		t.Skip("runs a child process that decodes megabytes")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), depthChild+"="+t.Name())
	out, err := cmd.CombinedOutput()
	tail := out[max(0, len(out)-2000):]
	if i := bytes.Index(out, []byte("fatal error")); i >= 0 {
		tail = out[i:min(len(out), i+500)]
	}
	require.NoError(t, err, "the child process failed:\n%s", tail)
	assert.Contains(t, string(out), "--- PASS: "+t.Name())
	return false
}

// millionLevels is the nesting of the report in issue 18: a 5.2 MB frame
// whose jsonb string holds 2.6 million nested arrays overflowed the
// goroutine stack (fatal, not a panic) in the map decoder.
const millionLevels = 2_600_000

func TestDecodeMapJSONStringOfMillionsOfLevelsFailsAlone(t *testing.T) {
	if !runChild(t) {
		return
	}
	_, err := mapValue("jsonb", strconv.Quote(arrays(millionLevels)))
	requireTooDeep(t, err)
	_, err = mapValue("_jsonb", `[`+strconv.Quote(arrays(millionLevels))+`]`)
	requireTooDeep(t, err)
}

func TestDecodeTypedJSONStringOfMillionsOfLevelsFailsAlone(t *testing.T) {
	if !runChild(t) {
		return
	}
	_, err := decodeValue[[]any]("jsonb", strconv.Quote(arrays(millionLevels)))
	requireTooDeep(t, err)
	_, err = decodeValue[[][]any]("_jsonb", `[`+strconv.Quote(arrays(millionLevels))+`]`)
	requireTooDeep(t, err)
}

// MatchReply reads the join reply's response: past the limit it is a
// *DecodeError wrapping phoenix.ErrTooDeep, not a decode that recurses.
func TestMatchReplyDepth(t *testing.T) {
	bindings := []Binding{{Table: "todos"}}
	for _, response := range []string{
		`{"postgres_changes":[{"id":1,"event":"*","schema":"public","table":"todos"}],"extra":` + arrays(phoenix.MaxDepth) + `}`,
		`{"postgres_changes":[{"id":1,"event":"*","schema":"public","table":"todos","x":` + objects(phoenix.MaxDepth) + `}]}`,
	} {
		_, err := MatchReply(bindings, []byte(response))
		require.Error(t, err)
		assert.ErrorIs(t, err, phoenix.ErrTooDeep)
		assert.ErrorIs(t, err, ErrDecode)
	}
	// The response, the list and the entry are three levels: the limit.
	ids, err := MatchReply(bindings, []byte(`{"postgres_changes":[{"id":1,"event":"*","schema":"public","table":"todos","extra":`+arrays(phoenix.MaxDepth-3)+`}]}`))
	require.NoError(t, err)
	assert.Equal(t, []int{1}, ids)
}
