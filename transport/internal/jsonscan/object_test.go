package jsonscan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyAndNextWalkAnObject(t *testing.T) {
	data := []byte(` { "a" : 1 , "b\u0063" :[true] , "d":null } `)
	var buf [16]byte
	i := SkipSpace(data, 0)
	require.Equal(t, byte('{'), data[i])
	i = SkipSpace(data, i+1)

	var keys []string
	var values []string
	for {
		key, v, err := Key(data, i, buf[:])
		require.NoError(t, err)
		end, err := Skip(data, v)
		require.NoError(t, err)
		keys = append(keys, string(key))
		values = append(values, string(data[v:end]))
		var more bool
		i, more, err = Next(data, end, '}')
		require.NoError(t, err)
		if !more {
			break
		}
	}
	assert.Equal(t, []string{"a", "bc", "d"}, keys)
	assert.Equal(t, []string{"1", "[true]", "null"}, values)
	assert.Equal(t, len(data)-1, i)
	assert.True(t, IsNull(data, len(data)-7))
	assert.False(t, IsNull(data, len(data)-3))
}

func TestKeyErrors(t *testing.T) {
	var buf [8]byte
	for _, in := range []string{`1:2`, `"a"`, `"a" 1`, `"a`, `"a"   `} {
		_, _, err := Key([]byte(in), 0, buf[:])
		var se *Error
		assert.ErrorAs(t, err, &se, in)
	}
	// An escaped key longer than the buffer still decodes (by growing).
	key, _, err := Key([]byte(`"\u0061bcdefghijklmnop":1`), 0, buf[:])
	require.NoError(t, err)
	assert.Equal(t, "abcdefghijklmnop", string(key))
}

func TestNextErrors(t *testing.T) {
	_, _, err := Next([]byte(`  `), 0, ']')
	assert.Error(t, err)
	_, _, err = Next([]byte(` x`), 0, ']')
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, reasonArrayNext, se.Reason)
	_, _, err = Next([]byte(` x`), 0, '}')
	require.ErrorAs(t, err, &se)
	assert.Equal(t, reasonObjectNext, se.Reason)
}
