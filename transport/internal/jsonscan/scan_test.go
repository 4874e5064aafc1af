package jsonscan

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var validValues = []string{
	`0`, `-0`, `1`, `-12.5e+3`, `1E9`, `0.000`, `123456789012345678901234567890`,
	`true`, `false`, `null`, `""`, `"abc"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\uD83D\uDE00"`,
	`"é 日本 🎉"`, `[]`, `{}`, `[1,2,3]`, `{"a":1}`, ` { "a" : [ 1 , { "b" : null } ] , "c" : "}" } `,
	`[[[[[]]]]]`, `{"a":{"b":{"c":[{"d":"]"}]}}}`, `"\ud800"`, `"x\u0000y"`,
	"[\n\t1\r\n]",
}

var invalidValues = []string{
	``, ` `, `{`, `[`, `}`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{1:2}`,
	`{"a" 1}`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"a\nb\"", "\"\x01\"", `01`, `-`, `1.`, `1.e3`,
	`1e`, `1e+`, `.5`, `+1`, `tru`, `trux`, `nul`, `falsy`, `[1]]`, `{"a":1}}`, `NaN`, `'a'`,
	`[{]`, `{"a":[}`, `"\`, `"\u`, `[1,2`, `{"a":1`, `{"a":1,`, `{"a":1, "b"`,
}

func TestSkipAgreesWithEncodingJSON(t *testing.T) {
	for _, v := range validValues {
		require.True(t, json.Valid([]byte(v)), "test table: %q should be valid", v)
		assert.True(t, Valid([]byte(v)), "Valid(%q)", v)
	}
	for _, v := range invalidValues {
		require.False(t, json.Valid([]byte(v)), "test table: %q should be invalid", v)
		assert.False(t, Valid([]byte(v)), "Valid(%q)", v)
	}
}

func TestSkipReturnsEndOfFirstValue(t *testing.T) {
	cases := []struct {
		in   string
		at   int
		want int
	}{
		{`{"a":1} tail`, 0, 7},
		{`  [1,2] x`, 0, 7},
		{`"ab\"c",`, 0, 7},
		{`12,3`, 0, 2},
		{`[null,"x",{}]`, 1, 5},
		{`[null,"x",{}]`, 6, 9},
		{`[null,"x",{}]`, 10, 12},
		{`true]`, 0, 4},
	}
	for _, c := range cases {
		end, err := Skip([]byte(c.in), c.at)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, end, c.in)
	}
}

func TestSkipErrorOffsets(t *testing.T) {
	cases := []struct {
		in     string
		offset int
		reason string
	}{
		{`{"a":1,}`, 7, reasonString},
		{`[1 2]`, 3, reasonArrayNext},
		{`{"a" 1}`, 5, reasonColon},
		{`{"a":1 "b"}`, 7, reasonObjectNext},
		{`[1,`, 3, reasonEOF},
		{`"ab`, 3, reasonEOF},
		{"\"a\x01\"", 2, reasonControl},
		{`"\q"`, 2, reasonEscape},
		{`"\u12x4"`, 5, reasonEscape},
		{`tru`, 3, reasonEOF},
		{`trUe`, 0, reasonLiteral},
		{`-x`, 1, reasonNumber},
		{`1.x`, 2, reasonNumber},
		{`@`, 0, reasonValue},
	}
	for _, c := range cases {
		_, err := Skip([]byte(c.in), 0)
		var se *Error
		require.True(t, errors.As(err, &se), "%q: %v", c.in, err)
		assert.Equal(t, c.offset, se.Offset, c.in)
		assert.Equal(t, c.reason, se.Reason, c.in)
		assert.Contains(t, se.Error(), c.reason)
	}
}

func TestValidateValue(t *testing.T) {
	start, end, err := ValidateValue([]byte(`  {"a":1}  `))
	require.NoError(t, err)
	assert.Equal(t, 2, start)
	assert.Equal(t, 9, end)

	_, _, err = ValidateValue([]byte(`{"a":1} 2`))
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 8, se.Offset)
	assert.Equal(t, reasonTrailing, se.Reason)

	_, _, err = ValidateValue(nil)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, reasonEOF, se.Reason)
}

func TestSkipDeepNesting(t *testing.T) {
	// Deeper than the 64 levels kept in a word, within the limit.
	deep := strings.Repeat(`[{"a":`, 500) + `1` + strings.Repeat(`}]`, 500)
	end, err := Skip([]byte(deep), 0)
	require.NoError(t, err)
	assert.Equal(t, len(deep), end)

	// Mismatched closer deep down is found.
	bad := strings.Repeat(`[{"a":`, 100) + `1` + strings.Repeat(`]}`, 100)
	assert.False(t, Valid([]byte(bad)))

	// The depth limit: MaxDepth levels pass, one more is refused.
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	tooDeep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	assert.True(t, json.Valid([]byte(tooDeep)), "encoding/json takes it: the limit is ours")
	assert.True(t, Valid([]byte(ok)))
	assert.False(t, Valid([]byte(tooDeep)))
	_, err = Skip([]byte(tooDeep), 0)
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, reasonDepth, se.Reason)
	assert.True(t, se.TooDeep())
}

func TestDepthReasonNamesTheLimit(t *testing.T) {
	assert.Contains(t, reasonDepth, strconv.Itoa(MaxDepth))
}

// Every scanner refuses the same depth at the same place: Skip, Locate and CheckDepth, for arrays and
// objects, with strings that hold brackets in between.
func TestEveryScannerRefusesTheSameDepth(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat(`{"k[":[`, n) + `"]]}}"` + strings.Repeat(`]}`, n)
	}
	for _, n := range []int{MaxDepth / 2, MaxDepth/2 + 1} { // two levels per step
		doc := []byte(nest(n))
		_, skipErr := Skip(doc, 0)
		_, locErr := Locate(doc, 0)
		chkErr := CheckDepth(doc)
		if 2*n <= MaxDepth {
			assert.NoError(t, skipErr, "depth %d", 2*n)
			assert.NoError(t, locErr, "depth %d", 2*n)
			assert.NoError(t, chkErr, "depth %d", 2*n)
			continue
		}
		for name, err := range map[string]error{"Skip": skipErr, "Locate": locErr, "CheckDepth": chkErr} {
			var se *Error
			require.ErrorAs(t, err, &se, "%s at depth %d", name, 2*n)
			assert.True(t, se.TooDeep(), name)
			assert.Equal(t, len(`{"k[":[`)*(MaxDepth/2), se.Offset, name) // the '{' that opens level MaxDepth+1
		}
	}
	// A string is not a container, however many brackets it holds.
	assert.NoError(t, CheckDepth([]byte(`"`+strings.Repeat("[", 5*MaxDepth)+`"`)))
	// 2.6 million levels (the 5.2 MB frame) are refused at the first level past the limit.
	huge := []byte(strings.Repeat("[", 2_600_000) + strings.Repeat("]", 2_600_000))
	err := CheckDepth(huge)
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, MaxDepth, se.Offset)
	_, err = Locate(huge, 0)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, MaxDepth, se.Offset)
}

func TestSkipDoesNotAllocate(t *testing.T) {
	doc := []byte(`{"ids":[1,2],"data":{"schema":"public","table":"t","columns":[{"name":"id","type":"int8"}],` +
		`"record":{"id":1,"body":"h\u00e9llo \"w\"","ok":true,"n":-1.5e3},"errors":null}}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Skip(doc, 0); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestScanStringEscapedFlag(t *testing.T) {
	end, escaped, err := ScanString([]byte(`"plain text here, long enough for words" rest`), 0)
	require.NoError(t, err)
	assert.False(t, escaped)
	assert.Equal(t, 40, end)

	end, escaped, err = ScanString([]byte(`"has \n escape"`), 0)
	require.NoError(t, err)
	assert.True(t, escaped)
	assert.Equal(t, 15, end)

	_, _, err = ScanString([]byte(`abc`), 0)
	require.Error(t, err)
	_, _, err = ScanString([]byte(`"abc`), 5)
	require.Error(t, err)
}

func TestScanStringFindsSpecialBytesAtEveryPosition(t *testing.T) {
	// Exercise the 8-byte fast path: the terminating quote, an escape or a
	// control character at every offset within and across words.
	for n := 0; n < 40; n++ {
		body := strings.Repeat("é", n/2) + strings.Repeat("a", n%2)
		s := `"` + body + `"` + `xyz`
		end, escaped, err := ScanString([]byte(s), 0)
		require.NoError(t, err, n)
		assert.False(t, escaped)
		assert.Equal(t, len(body)+2, end, n)

		bad := `"` + body + "\x1f" + `"`
		_, _, err = ScanString([]byte(bad), 0)
		var se *Error
		require.ErrorAs(t, err, &se, n)
		assert.Equal(t, len(body)+1, se.Offset, n)

		esc := `"` + body + `\\` + body + `"`
		end, escaped, err = ScanString([]byte(esc), 0)
		require.NoError(t, err, n)
		assert.True(t, escaped)
		assert.Equal(t, len(esc), end)
	}
}
