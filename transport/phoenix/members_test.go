package phoenix_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

type member struct{ name, value string }

func members(t *testing.T, obj string) []member {
	t.Helper()
	var got []member
	require.NoError(t, phoenix.Members([]byte(obj), func(name, value []byte) error {
		got = append(got, member{string(name), string(value)})
		return nil
	}))
	return got
}

func TestMembers(t *testing.T) {
	assert.Equal(t, []member{
		{"a", `1`}, {"b", `"two"`}, {"c", `{"d":[3]}`}, {"a", `null`}, {`e"\é😀`, `[]`},
	}, members(t, ` {"a" : 1, "b":"two", "c":{"d":[3]}, "a":null, "e\"\\\u00e9\ud83d\ude00":[]} `))
	assert.Empty(t, members(t, `{ }`))

	// A long escaped name does not fit the scratch buffer and is still
	// right.
	long := strings.Repeat(`\u0041`, 100)
	assert.Equal(t, []member{{strings.Repeat("A", 100), `0`}}, members(t, `{"`+long+`":0}`))

	stop := errors.New("stop")
	n := 0
	err := phoenix.Members([]byte(`{"a":1,"b":2}`), func(_, _ []byte) error { n++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, n)

	for _, bad := range []string{``, `[]`, `null`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":[1}`, `{} x`, `{"a":tru}`} {
		err := phoenix.Members([]byte(bad), func(_, _ []byte) error { return nil })
		assert.ErrorIs(t, err, phoenix.ErrMalformed, bad)
		var pe *phoenix.PayloadError
		assert.ErrorAs(t, err, &pe, bad)
	}
}

// A value may nest MaxDepth levels below the object, not more, and a
// deeper one is refused before f sees it.
func TestMembersRefusesDeepValues(t *testing.T) {
	nested := func(n int) []byte {
		return []byte(`{"ok":1,"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	var seen []string
	err := phoenix.Members(nested(phoenix.MaxDepth+1), func(name, _ []byte) error {
		seen = append(seen, string(name))
		return nil
	})
	require.ErrorIs(t, err, phoenix.ErrTooDeep)
	require.ErrorIs(t, err, phoenix.ErrMalformed)
	assert.Equal(t, []string{"ok"}, seen)
	require.NoError(t, phoenix.Members(nested(phoenix.MaxDepth), func(_, _ []byte) error { return nil }))
}

func TestMembersAgreesWithEncodingJSON(t *testing.T) {
	obj := `{"id":7,"name":"a\nb","tags":["x",{"y":null}],"n":-1.5e3,"ok":true}`
	var want map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(obj), &want))
	got := map[string]string{}
	for _, m := range members(t, obj) {
		got[m.name] = m.value
	}
	require.Len(t, got, len(want))
	for k, v := range want {
		assert.Equal(t, string(v), got[k], k)
	}
}

func TestMembersDoesNotAllocate(t *testing.T) {
	obj := []byte(`{"phx_ref":"F1","phx_ref_prev":"F0","name":"alice","meta":{"a":[1,2]}}`)
	n := 0
	f := func(_, _ []byte) error { n++; return nil }
	allocs := testing.AllocsPerRun(100, func() { _ = phoenix.Members(obj, f) })
	assert.Zero(t, allocs)
	assert.Equal(t, 4*101, n)
}

func TestStringValue(t *testing.T) {
	for in, want := range map[string]string{
		`""`:                   "",
		`"F1"`:                 "F1",
		`"a\"b\\c\/d\n"`:       "a\"b\\c/d\n",
		`"\u00e9\ud83d\ude00"`: "é😀",
		`"\ud800"`:             "\uFFFD",
	} {
		got, ok := phoenix.StringValue([]byte(in))
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{``, `"`, `"a`, `a"`, `1`, `null`, `["a"]`, ` "a"`, `"a" `, `"a""b"`, `"\x"`, "\"\x01\""} {
		_, ok := phoenix.StringValue([]byte(bad))
		assert.False(t, ok, bad)
	}
}
