package phoenix_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func TestSkipChecksValues(t *testing.T) {
	end, err := phoenix.Skip([]byte(` {"a":[1,"]"]} , 2`), 0)
	require.NoError(t, err)
	assert.Equal(t, 14, end)
	for _, bad := range []string{``, `{"a":}`, `[1,]`, `"\x"`, "\"\x01\"", `tru`} {
		_, err := phoenix.Skip([]byte(bad), 0)
		assert.ErrorIs(t, err, phoenix.ErrMalformed, bad)
	}
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
