package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseArrayLiteral(t *testing.T) {
	tests := []struct {
		in   string
		want []any
	}{
		{"{}", []any{}},
		{" { } ", []any{}},
		{"{1,2,3}", []any{"1", "2", "3"}},
		{"{ a , b c }", []any{"a", "b c"}},
		{`{"a,b","c\"d","e\\f",""}`, []any{"a,b", `c"d`, `e\f`, ""}},
		{`{NULL,null,"NULL",\NULL}`, []any{nil, nil, "NULL", "NULL"}},
		{`{a\,b,\ x\ }`, []any{"a,b", " x "}},
		{"{{1,2},{3,4}}", []any{[]any{"1", "2"}, []any{"3", "4"}}},
		{"{{},{}}", []any{[]any{}, []any{}}},
		{"[0:1]={7,8}", []any{"7", "8"}},
		{`{"[2021-01-01,2021-12-31)","(2021-01-01,2021-12-31]"}`, []any{"[2021-01-01,2021-12-31)", "(2021-01-01,2021-12-31]"}},
	}
	for _, tt := range tests {
		got, err := parseArrayLiteral(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
	for _, bad := range []string{"", "1,2", "{", "{1", "{1,", "{1,}", "{,1}", `{"a`, `{"a\`, `{a"b}`, "{a}x", "{{1}", "[1:2]", `{a\`, "{1 2}x"} {
		_, err := parseArrayLiteral(bad)
		assert.Error(t, err, bad)
	}
	deep := ""
	for i := 0; i < maxArrayDepth+1; i++ {
		deep = "{" + deep + "}"
	}
	_, err := parseArrayLiteral(deep)
	assert.ErrorIs(t, err, errArrayDepth)
}

func TestParseTime(t *testing.T) {
	ist := time.FixedZone("", 5*3600+30*60)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-01-02", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2024-01-02T03:04:05.123Z", time.Date(2024, 1, 2, 3, 4, 5, 123000000, time.UTC)},
		{"2024-01-02 03:04:05.123456789123", time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)},
		{"2024-01-02 03:04", time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC)},
		{"2024-01-02 03:04:05+00", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2024-01-02T03:04:05+00:00", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2024-01-02 08:34:05+05:30", time.Date(2024, 1, 2, 8, 34, 5, 0, ist)},
		{"2024-01-02 08:34:05+0530", time.Date(2024, 1, 2, 8, 34, 5, 0, ist)},
		{"2024-01-01 19:00:00-08", time.Date(2024, 1, 2, 3, 0, 0, 0, time.UTC)},
		{"2024-01-02 03:04:20+00:00:15", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"12024-01-02", time.Date(12024, 1, 2, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.in)
		require.True(t, ok, tt.in)
		assert.True(t, tt.want.Equal(got), "%s: got %v want %v", tt.in, got, tt.want)
	}
	for _, bad := range []string{"", "infinity", "-infinity", "2024", "2024-1-02", "2024-13-01", "2024-02-30", "2024-00-10",
		"2024-01-02T", "2024-01-02T25:00:00", "2024-01-02T03:60", "2024-01-02 03:04:05.", "2024-01-02 03:04:05 BC",
		"2024-01-02 03:04:05+", "2024-01-02 03:04:05+16", "2024-01-02 03:04:05+05:", "2024-01-02 03:04:05+05:61", "2024-01-02x"} {
		_, ok := parseTime(bad)
		assert.False(t, ok, bad)
	}
}
