package source_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Every error a user of package source sees starts with "rxrealtime: ":
// an error of a package beneath (here transport/phoenix's encoder and
// frame decoder) is wrapped, keeps its own prefix inside the text, and is
// still found by errors.Is and errors.As.
func TestErrorsOfLowerPackagesAreWrapped(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	errs := errorLog(t, c)
	ch := chNew(t, c, "room", source.WithBroadcastAck())
	chSubscribe(t, ch)
	ctx := chCtx(t)

	encodeFailures := map[string]error{}
	_, encodeFailures["Client.Push"] = c.Push(ctx, "realtime:room", "custom", []byte(`{"a":`))
	_, encodeFailures["Channel.Push"] = ch.Push(ctx, "custom", []byte(`{"a":`))
	encodeFailures["Channel.Send"] = ch.Send(ctx, "custom", json.RawMessage(`{"a":`))
	for call, err := range encodeFailures {
		require.Error(t, err, call)
		assert.True(t, strings.HasPrefix(err.Error(), "rxrealtime: "), "%s: %v", call, err)
		assert.Contains(t, err.Error(), "phoenix: cannot encode payload", call)
		assert.ErrorIs(t, err, phoenix.ErrEncode, call)
		var ee *phoenix.EncodeError
		assert.ErrorAs(t, err, &ee, call)
	}

	s.Faults().SendMalformed()
	err := errs.waitN(t, 1, "the malformed frame", func(err error) bool { return errors.Is(err, phoenix.ErrMalformed) })
	assert.True(t, strings.HasPrefix(err.Error(), "rxrealtime: "), err.Error())
	var de *phoenix.DecodeError
	assert.ErrorAs(t, err, &de)
	var fe *source.FrameError
	assert.ErrorAs(t, err, &fe)
}
