package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStringDecodesLikeEncodingJSON(t *testing.T) {
	cases := []string{
		`""`, `"abc"`, `"a\"b"`, `"\\\/\b\f\n\r\t"`, `"\u0041\u00e9\u65e5"`,
		`"\uD83D\uDE00"`, `"\ud83d\ude00 mixed"`, `"\uD83D"`, `"\uDE00"`, `"\uD83Dx"`,
		`"\uD83D\u0041"`, `"\uD83D\uD83D\uDE00"`, `"é日本🎉"`, `"x\u0000y"`,
		`"long ` + strings.Repeat("abcdefgh", 20) + `\n end"`,
	}
	for _, c := range cases {
		var want string
		require.NoError(t, json.Unmarshal([]byte(c), &want), c)
		got, end, err := String([]byte(c), 0)
		require.NoError(t, err, c)
		assert.Equal(t, want, got, c)
		assert.Equal(t, len(c), end)
		assert.Equal(t, want, string(AppendUnescaped([]byte("prefix"), []byte(c[1:len(c)-1]))[6:]), c)
	}
}

func TestStringAllocations(t *testing.T) {
	plain := []byte(`"realtime:room1"`)
	escaped := []byte(`"realtime:\u00e9t\u00e9"`)
	empty := []byte(`""`)
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _, _, _ = String(plain, 0) }))
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _, _, _ = String(escaped, 0) }))
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { _, _, _ = String(empty, 0) }))
}

func TestUnquoteMalformedDoesNotPanic(t *testing.T) {
	for _, raw := range []string{`\`, `a\`, `\u`, `\u12`, `\uZZZZ`, `\q`, `\uD83D\u`, `\uD83D\`} {
		got := Unquote([]byte(raw))
		assert.NotEmpty(t, got, raw)
	}
	assert.Equal(t, `\q`, Unquote([]byte(`\q`)))
	assert.Equal(t, `\u12`, Unquote([]byte(`\u12`)))
}

func TestAppendStringRoundTrips(t *testing.T) {
	cases := []string{
		"", "abc", `quote " and \ backslash`, "ctl \x00\x01\x1f\n\r\t\b\f", "é日本🎉", "realtime:room1",
		"</script>&", "\u2028\u2029", strings.Repeat("z", 300),
	}
	for _, c := range cases {
		enc := AppendString(nil, c)
		require.True(t, utf8.Valid(enc))
		var back string
		require.NoError(t, json.Unmarshal(enc, &back), string(enc))
		assert.Equal(t, c, back)
		got, end, err := String(enc, 0)
		require.NoError(t, err)
		assert.Equal(t, c, got)
		assert.Equal(t, len(enc), end)
	}
}

func TestAppendStringInvalidUTF8(t *testing.T) {
	enc := AppendString(nil, "a\xffb\xc3")
	assert.Equal(t, `"a\ufffdb\ufffd"`, string(enc))
	var back string
	require.NoError(t, json.Unmarshal(enc, &back))
	assert.Equal(t, "a\uFFFDb\uFFFD", back)
}

func TestAppendStringDoesNotAllocate(t *testing.T) {
	dst := make([]byte, 0, 128)
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendString(dst[:0], "realtime:room1 \"é\"\n")
	})
	assert.Zero(t, allocs)
}
