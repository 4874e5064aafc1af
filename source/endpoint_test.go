package source

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/source/rest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

const testKey = "SECRET-anon-key"

// TestEndpointURL covers every URL form New accepts, with the query the
// client adds (apikey, params, log_level, vsn last).
func TestEndpointURL(t *testing.T) {
	const q = "?apikey=" + testKey + "&vsn=2.0.0"
	tests := []struct{ in, want string }{
		// Project URLs: hosted, self-hosted, local CLI, with a path prefix.
		{"https://abc.supabase.co", "wss://abc.supabase.co/realtime/v1/websocket" + q},
		{"https://abc.supabase.co/", "wss://abc.supabase.co/realtime/v1/websocket" + q},
		{"https://supabase.example.com", "wss://supabase.example.com/realtime/v1/websocket" + q},
		{"https://example.com/supabase/", "wss://example.com/supabase/realtime/v1/websocket" + q},
		{"http://localhost:54321", "ws://localhost:54321/realtime/v1/websocket" + q},
		{"http://localhost:54321/", "ws://localhost:54321/realtime/v1/websocket" + q},
		{" http://localhost:54321\n", "ws://localhost:54321/realtime/v1/websocket" + q},
		// The Realtime root, any scheme, with or without a trailing slash.
		{"https://abc.supabase.co/realtime/v1", "wss://abc.supabase.co/realtime/v1/websocket" + q},
		{"https://abc.supabase.co/realtime/v1/", "wss://abc.supabase.co/realtime/v1/websocket" + q},
		{"http://localhost:54321/realtime/v1", "ws://localhost:54321/realtime/v1/websocket" + q},
		{"wss://abc.supabase.co/realtime/v1", "wss://abc.supabase.co/realtime/v1/websocket" + q},
		{"wss://abc.supabase.co/realtime/v1/", "wss://abc.supabase.co/realtime/v1/websocket" + q},
		{"wss://abc.supabase.co/realtime/v1/websocket", "wss://abc.supabase.co/realtime/v1/websocket" + q},
		// Raw socket endpoints, unchanged.
		{"ws://127.0.0.1:4000/socket", "ws://127.0.0.1:4000/socket/websocket" + q},
		{"ws://127.0.0.1:4000/socket/", "ws://127.0.0.1:4000/socket/websocket" + q},
		{"ws://127.0.0.1:4000/socket/websocket", "ws://127.0.0.1:4000/socket/websocket" + q},
		{"wss://realtime.example.com/socket", "wss://realtime.example.com/socket/websocket" + q},
		{"ws://127.0.0.1:4000", "ws://127.0.0.1:4000/websocket" + q},
		{"http://127.0.0.1:4000/socket", "ws://127.0.0.1:4000/socket/websocket" + q},
		// The user's own query comes first.
		{"https://abc.supabase.co?x=1", "wss://abc.supabase.co/realtime/v1/websocket?x=1&apikey=" + testKey + "&vsn=2.0.0"},
		{"ws://h/socket?x=1", "ws://h/socket/websocket?x=1&apikey=" + testKey + "&vsn=2.0.0"},
	}
	cfg := defaultConfig()
	WithAPIKey(testKey)(&cfg)
	WithSerializer(phoenix.NewV2())(&cfg)
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := endpointURL(tt.in, &cfg)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSocketAndRESTEndpoint(t *testing.T) {
	for _, tt := range []struct{ in, socket, api string }{
		{"https://abc.supabase.co", "wss://abc.supabase.co/realtime/v1/websocket", "https://abc.supabase.co/realtime/v1/api"},
		{"http://localhost:54321/?apikey=" + testKey, "ws://localhost:54321/realtime/v1/websocket?apikey=" + testKey, "http://localhost:54321/realtime/v1/api"},
		{"wss://abc.supabase.co/realtime/v1", "wss://abc.supabase.co/realtime/v1/websocket", "https://abc.supabase.co/realtime/v1/api"},
		{"ws://127.0.0.1:4000/socket", "ws://127.0.0.1:4000/socket/websocket", "http://127.0.0.1:4000/api"},
	} {
		s, err := SocketEndpoint(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.socket, s, tt.in)
		a, err := RESTEndpoint(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.api, a, tt.in)
	}
}

func TestEndpointURLErrors(t *testing.T) {
	tests := []struct{ in, says string }{
		{"", "not an absolute URL"},
		{"abc.supabase.co?apikey=" + testKey, `"abc.supabase.co": not an absolute URL`},
		{"localhost:54321", `"localhost:54321": not a hierarchical URL`},
		{"ftp://h/x?apikey=" + testKey, `"ftp://h/x": scheme "ftp" is not http, https, ws or wss`},
		{"https://", `"https://": no host`},
		{"https://abc.supabase.co/rest/v1?apikey=" + testKey, `"https://abc.supabase.co/rest/v1": path ends in /rest/v1`},
		{"https://x\x7f.co/?apikey=" + testKey, "invalid control character"},
		{"https://user:" + testKey + "@h:port/", "invalid port"},
	}
	cfg := defaultConfig()
	WithAPIKey(testKey)(&cfg)
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			for _, err := range []error{
				func() error { _, err := endpointURL(tt.in, &cfg); return err }(),
				func() error { _, err := New(tt.in, WithAPIKey(testKey)); return err }(),
				func() error { _, err := RESTEndpoint(tt.in); return err }(),
				func() error { _, err := SocketEndpoint(tt.in); return err }(),
			} {
				require.ErrorIs(t, err, ErrInvalidURL)
				var ue *rest.URLError
				assert.True(t, errors.As(err, &ue))
				assert.Contains(t, err.Error(), tt.says)
				assert.True(t, strings.HasPrefix(err.Error(), ErrInvalidURL.Error()+": "), err.Error())
				assert.NotContains(t, err.Error(), testKey)
			}
		})
	}
}

// TestProjectURLAgainstServer connects with project-style URLs to the
// embedded server, which serves the hosted paths (/realtime/v1/websocket
// and /realtime/v1/api/...), and sends a REST broadcast to the endpoint
// RESTEndpoint derives from the same URL.
func TestProjectURLAgainstServer(t *testing.T) {
	srv := realtimetest.NewServer()
	t.Cleanup(srv.Close)
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	base := srv.HTTPURL() // http://127.0.0.1:port, a local project URL
	for _, in := range []string{base, base + "/", base + "/realtime/v1", base + "/realtime/v1/", srv.URL()} {
		t.Run(in, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := Connect(ctx, in, WithAPIKey("anon-key"))
			require.NoError(t, err)
			defer func() { require.NoError(t, c.Close(ctx)) }()
			assert.Eventually(t, func() bool { return len(srv.Clients()) == 1 }, 2*time.Second, 5*time.Millisecond)

			api, err := RESTEndpoint(in)
			require.NoError(t, err)
			rc, err := rest.New(in, "anon-key")
			require.NoError(t, err)
			require.NoError(t, rc.Broadcast(ctx, "room1", "ev", map[string]int{"n": 1}, false), api)
		})
		assert.Eventually(t, func() bool { return len(srv.Clients()) == 0 }, 2*time.Second, 5*time.Millisecond)
	}
}
