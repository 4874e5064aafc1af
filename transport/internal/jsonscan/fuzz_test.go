package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzValid checks the scanner against encoding/json on arbitrary input.
func FuzzValid(f *testing.F) {
	for _, v := range validValues {
		f.Add([]byte(v))
	}
	for _, v := range invalidValues {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := json.Valid(data)
		assert.Equal(t, want, Valid(data), "%q", data)
		end, err := Skip(data, 0)
		if err == nil {
			require.LessOrEqual(t, end, len(data))
			assert.True(t, json.Valid(data[:end]), "%q", data[:end])
		}
		// Locate ends where Skip does on every value Skip accepts that is
		// followed by the end or a delimiter (as values in JSON are: Skip
		// takes "01" for 0 and leaves "1", which its caller rejects), and
		// stays in bounds on anything.
		lend, lerr := Locate(data, 0)
		require.LessOrEqual(t, lend, len(data))
		if next := SkipSpace(data, end); err == nil && (next == len(data) || strings.IndexByte(",}]:", data[next]) >= 0) {
			require.NoError(t, lerr, "%q", data)
			assert.Equal(t, end, lend, "%q", data)
		}
	})
}

// FuzzString checks string decoding against encoding/json and that
// AppendString output reads back.
func FuzzString(f *testing.F) {
	f.Add(`"abc"`)
	f.Add(`"\uD83D\uDE00\n"`)
	f.Add(`"\uD800\uD800"`)
	f.Add("\"é\"")
	f.Fuzz(func(t *testing.T, s string) {
		data := []byte(s)
		got, end, err := String(data, 0)
		if err == nil && utf8.Valid(data[:end]) {
			var want string
			require.NoError(t, json.Unmarshal(data[:end], &want))
			assert.Equal(t, want, got)
		}
		enc := AppendString(nil, s)
		back, n, err := String(enc, 0)
		require.NoError(t, err)
		require.Equal(t, len(enc), n)
		if utf8.ValidString(s) {
			assert.Equal(t, s, back)
		}
	})
}
