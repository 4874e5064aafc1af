package rest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/source/rest"
)

// TestPersistQuery checks the request line against realtime-js 2.119.1's
// httpSend (client.md §3.9): private=true, then persist=true or
// persist[ttl]=N with the brackets escaped as URLSearchParams does.
func TestPersistQuery(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	c, err := rest.New(srv.URL, "anon", rest.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	ctx := context.Background()

	require.NoError(t, c.Broadcast(ctx, "room", "ev", map[string]int{"a": 1}, true, rest.Persist()))
	require.NoError(t, c.Broadcast(ctx, "room", "ev", map[string]int{"a": 1}, true, rest.PersistTTL(time.Minute)))
	require.NoError(t, c.BroadcastBinary(ctx, "room", "ev", []byte{1}, true, rest.PersistTTL(1500*time.Millisecond)))
	require.NoError(t, c.Broadcast(ctx, "room", "ev", map[string]int{"a": 1}, true))

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{
		"/realtime/v1/api/broadcast/room/events/ev?private=true&persist=true",
		"/realtime/v1/api/broadcast/room/events/ev?private=true&persist%5Bttl%5D=60",
		"/realtime/v1/api/broadcast/room/events/ev?private=true&persist%5Bttl%5D=2",
		"/realtime/v1/api/broadcast/room/events/ev?private=true",
	}, got)
}

func TestPersistRefusedOnPublicChannel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("nothing should be sent, got %s", r.URL)
	}))
	t.Cleanup(srv.Close)
	c, err := rest.New(srv.URL, "anon", rest.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	ctx := context.Background()

	err = c.Broadcast(ctx, "room", "ev", map[string]int{}, false, rest.Persist())
	require.ErrorIs(t, err, rest.ErrPersistUnsupported)
	require.ErrorIs(t, err, rest.ErrInvalidMessage)
	var me *rest.MessageError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "persist", me.Field)
	require.ErrorIs(t, c.BroadcastBinary(ctx, "room", "ev", []byte{1}, false, rest.PersistTTL(time.Hour)), rest.ErrPersistUnsupported)
	require.ErrorIs(t, c.Broadcast(ctx, "room", "ev", map[string]int{}, true, rest.PersistTTL(time.Millisecond)), rest.ErrPersistUnsupported)
}

// TestPersistAgainstTestServer stores messages over REST and replays them
// on a raw join.
func TestPersistAgainstTestServer(t *testing.T) {
	s := realtimetest.NewServer()
	t.Cleanup(s.Close)
	c, err := rest.New(s.HTTPURL(), "anon-key")
	require.NoError(t, err)
	ctx := context.Background()

	require.NoError(t, c.Broadcast(ctx, "room", "a", map[string]int{"n": 1}, true, rest.Persist()))
	require.NoError(t, c.BroadcastBinary(ctx, "room", "b", []byte{9}, true, rest.PersistTTL(time.Minute)))
	require.NoError(t, c.Broadcast(ctx, "room", "c", map[string]int{"n": 3}, true))

	stored := s.StoredBroadcasts("room")
	require.Len(t, stored, 2)
	assert.Equal(t, "a", stored[0].Event)
	assert.JSONEq(t, `{"n":1}`, string(stored[0].Payload))
	assert.True(t, stored[0].ExpiresAt.IsZero())
	assert.Equal(t, "b", stored[1].Event)
	assert.Equal(t, []byte{9}, stored[1].Payload)
	assert.Equal(t, time.Minute, stored[1].ExpiresAt.Sub(stored[1].InsertedAt))
}
