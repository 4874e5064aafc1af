package transport

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithNetDialerIsUsedForTheConnection(t *testing.T) {
	srv := newWSServer(t, echo)
	var calls atomic.Int32
	var gotAddr atomic.Value
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		calls.Add(1)
		gotAddr.Store(addr)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c := dialT(t, srv.wsURL(), WithNetDialer(dial))
	require.NoError(t, c.WriteFrame(testCtx(t), []byte("hi"), false))
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, "hi", string(data))
	assert.EqualValues(t, 1, calls.Load())
	assert.True(t, strings.HasPrefix(srv.wsURL(), "ws://"+gotAddr.Load().(string)))
}
