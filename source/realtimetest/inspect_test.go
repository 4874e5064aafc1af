package realtimetest_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport"
)

func TestConnsWithParamFindsTheClientsConnection(t *testing.T) {
	s := realtimetest.NewServer()
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dial := func(query string, opts ...transport.Option) *transport.Conn {
		c, err := transport.Dial(ctx, s.URL()+"/websocket?"+query, opts...)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.CloseNow() })
		return c
	}
	a := dial("apikey=secret-key&vsn=2.0.0&client=a&tag=x&tag=y")
	dial("vsn=1.0.0&client=b", transport.WithHeader("x-api-key", "header-key"))
	dial("apikey=k&vsn=2.0.0&client=a")

	as := s.ConnsWithParam("client", "a")
	require.Len(t, as, 2)
	assert.Less(t, as[0], as[1], "by connection id")
	assert.Len(t, s.ConnsWithParam("client", "b"), 1)
	assert.Len(t, s.ConnsWithParam("tag", "y"), 1, "any value of a repeated parameter")
	assert.Empty(t, s.ConnsWithParam("client", "c"))
	assert.Empty(t, s.ConnsWithParam("apikey", "secret-key"), "the apikey is not kept")

	byID := map[realtimetest.ConnID]realtimetest.ClientInfo{}
	for _, ci := range s.Clients() {
		byID[ci.ID] = ci
	}
	tagged := s.ConnsWithParam("tag", "x")
	require.Len(t, tagged, 1)
	info := byID[tagged[0]]
	assert.Equal(t, url.Values{"vsn": {"2.0.0"}, "client": {"a"}, "tag": {"x", "y"}}, info.Params)
	assert.Equal(t, a.LocalAddr().String(), info.RemoteAddr)

	info.Params["client"][0] = "changed"
	info.Params.Set("vsn", "changed")
	assert.Len(t, s.ConnsWithParam("client", "a"), 2, "Params is a copy")
	assert.Equal(t, url.Values{"vsn": {"2.0.0"}, "client": {"a"}, "tag": {"x", "y"}}, clientInfo(t, s, tagged[0]).Params)

	require.NoError(t, a.CloseNow())
	require.Eventually(t, func() bool { return len(s.ConnsWithParam("client", "a")) == 1 }, 2*time.Second, 5*time.Millisecond)
	assert.Empty(t, s.ConnsWithParam("tag", "x"), "a closed connection is not listed")
}

// clientInfo returns the ClientInfo of id.
func clientInfo(t *testing.T, s *realtimetest.Server, id realtimetest.ConnID) realtimetest.ClientInfo {
	t.Helper()
	for _, ci := range s.Clients() {
		if ci.ID == id {
			return ci
		}
	}
	t.Fatalf("no connection %d", id)
	return realtimetest.ClientInfo{}
}
