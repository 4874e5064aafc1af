package phoenix_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func nested(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

func TestCheckDepthRefusesPastMaxDepth(t *testing.T) {
	require.NoError(t, phoenix.CheckDepth([]byte(nested(phoenix.MaxDepth))))
	err := phoenix.CheckDepth([]byte(`{"a":` + nested(phoenix.MaxDepth) + `}`))
	require.Error(t, err)
	assert.ErrorIs(t, err, phoenix.ErrTooDeep)
	assert.ErrorIs(t, err, phoenix.ErrMalformed)
	var pe *phoenix.PayloadError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 5+phoenix.MaxDepth-1, pe.Offset)
	assert.Contains(t, err.Error(), "1000 levels")
}

// The checking serializers refuse a payload past the limit as a malformed frame that says why; the lazy
// ones do not walk the payload at all (whoever decodes it checks it).
func TestDecodeRefusesDeepPayloads(t *testing.T) {
	deep := nested(phoenix.MaxDepth + 1)
	frames := map[string]struct {
		s     phoenix.Serializer
		frame string
	}{
		"v1": {phoenix.V1, `{"topic":"t","event":"e","payload":` + deep + `,"ref":null}`},
		"v2": {phoenix.V2, `[null,null,"t","e",` + deep + `]`},
	}
	for name, tc := range frames {
		var m phoenix.Message
		err := tc.s.Decode(&m, []byte(tc.frame), false)
		require.Error(t, err, name)
		assert.ErrorIs(t, err, phoenix.ErrTooDeep, name)
		assert.ErrorIs(t, err, phoenix.ErrMalformed, name)
		assert.Contains(t, err.Error(), "deeper than 1000 levels", name)
	}
	// Within the limit both take it.
	ok := nested(phoenix.MaxDepth)
	var m phoenix.Message
	require.NoError(t, phoenix.V2.Decode(&m, []byte(`[null,null,"t","e",`+ok+`]`), false))
	assert.Len(t, m.Payload, len(ok))
}
