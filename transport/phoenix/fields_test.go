package phoenix_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func TestFieldsLocatesValuesWithoutDecoding(t *testing.T) {
	obj := []byte(` {"b": [1, {"x":"}"}], "a":"s\"q", "skip":{"n":null}, "a":2 } `)
	out := make([][]byte, 3)
	require.NoError(t, phoenix.Fields(obj, []string{"a", "b", "missing"}, out))
	assert.Equal(t, `2`, string(out[0]), "the last occurrence wins")
	assert.Equal(t, `[1, {"x":"}"}]`, string(out[1]))
	assert.Nil(t, out[2])
}

func TestFieldsRejectsMalformedObjects(t *testing.T) {
	out := make([][]byte, 1)
	for _, bad := range []string{``, `[]`, `{"a":}`, `{"a":1`, `{"a":1} x`, `{"a" 1}`, "{\"a\":\"\x01\"}"} {
		err := phoenix.Fields([]byte(bad), []string{"a"}, out)
		assert.ErrorIs(t, err, phoenix.ErrMalformed, bad)
		var pe *phoenix.PayloadError
		assert.ErrorAs(t, err, &pe, bad)
	}
}

func TestFieldsDoesNotAllocate(t *testing.T) {
	obj := []byte(`{"ids":[1,2],"data":{"type":"INSERT","record":{"id":1}}}`)
	keys := []string{"ids", "data"}
	out := make([][]byte, 2)
	allocs := testing.AllocsPerRun(100, func() {
		if err := phoenix.Fields(obj, keys, out); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestElements(t *testing.T) {
	var got []string
	require.NoError(t, phoenix.Elements([]byte(` [1, "two", {"three":[3]}, null] `), func(e []byte) error {
		got = append(got, string(e))
		return nil
	}))
	assert.Equal(t, []string{`1`, `"two"`, `{"three":[3]}`, `null`}, got)
	require.NoError(t, phoenix.Elements([]byte(`[]`), func([]byte) error { t.Fatal("no element"); return nil }))

	stop := errors.New("stop")
	n := 0
	err := phoenix.Elements([]byte(`[1,2,3]`), func([]byte) error { n++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, n)

	for _, bad := range []string{`{}`, `[1,]`, `[1 2]`, `[1`, `[1] x`} {
		assert.ErrorIs(t, phoenix.Elements([]byte(bad), func([]byte) error { return nil }), phoenix.ErrMalformed, bad)
	}
}
