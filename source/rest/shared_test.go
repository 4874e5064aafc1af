package rest_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/rest"
)

// One provider serves both clients: the types are assignable both ways.
var (
	_ rest.TokenProvider   = source.TokenProvider(nil)
	_ source.TokenProvider = rest.TokenProvider(nil)
)

func TestSharedTokenProviderAndProjectURL(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)

	var provider source.TokenProvider = func(context.Context) (string, error) { return "user-jwt", nil }
	// The socket client takes the same provider and the same URL.
	sock, err := source.New(srv.URL, source.WithAPIKey("anon"), source.WithAccessToken(provider))
	require.NoError(t, err)
	require.NoError(t, sock.Close(context.Background()))

	c, err := rest.New(srv.URL, "anon", rest.WithAccessToken(provider), rest.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	require.NoError(t, c.Broadcast(context.Background(), "room1", "ev", map[string]int{"a": 1}, false))

	api, err := source.RESTEndpoint(srv.URL)
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/realtime/v1/api", api)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"/realtime/v1/api/broadcast/room1/events/ev Bearer user-jwt"}, got)
}

func TestLogger(t *testing.T) {
	const key, tok = "SECRET-KEY-123", "SECRET-TOKEN-456"
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"message":"nope ` + key + `"}`))
	}))
	t.Cleanup(srv.Close)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := rest.New(srv.URL+"/realtime/v1?apikey="+key, key, rest.WithToken(tok), rest.WithLogger(log), rest.WithHTTPClient(srv.Client()))
	require.NoError(t, err)

	require.NoError(t, c.Broadcast(context.Background(), "room1", "ev", map[string]int{"a": 1}, true))
	line := buf.String()
	assert.Contains(t, line, "level=DEBUG")
	assert.Contains(t, line, `msg="rest: broadcast"`)
	assert.Contains(t, line, "path=/realtime/v1/api/broadcast/room1/events/ev")
	assert.Contains(t, line, "status=202")
	assert.Contains(t, line, "bytes=7")
	assert.NotContains(t, line, "private=true", "no query is logged")

	buf.Reset()
	status = http.StatusUnauthorized
	err = c.BroadcastBatch(context.Background(), []rest.Message{{Topic: "room1", Event: "ev", Payload: map[string]int{}}})
	require.ErrorIs(t, err, rest.ErrUnauthorized)
	line = buf.String()
	assert.Contains(t, line, "level=WARN")
	assert.Contains(t, line, `msg="rest: broadcast failed"`)
	assert.Contains(t, line, "path=/realtime/v1/api/broadcast")
	assert.Contains(t, line, "status=401")
	assert.Contains(t, line, "[REDACTED]")
	assert.NotContains(t, line, key)
	assert.NotContains(t, line, tok)

	buf.Reset()
	failing, err := rest.New(srv.URL, key, rest.WithLogger(log), rest.WithAccessToken(func(context.Context) (string, error) {
		return "", assert.AnError
	}))
	require.NoError(t, err)
	require.Error(t, failing.Broadcast(context.Background(), "r", "e", map[string]int{}, false))
	assert.Contains(t, buf.String(), "level=WARN")
	assert.NotContains(t, buf.String(), "status=", "nothing was sent")
	assert.Equal(t, 1, strings.Count(buf.String(), "\n"))
}
