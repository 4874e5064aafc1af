package source_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
)

// TestSendViaRESTIfNotJoined: with the option, a channel that is not
// joined sends its broadcast over the REST API (recorded by the server,
// with the client's API key and token) and a joined one over the socket;
// without it, an unjoined channel refuses to send.
func TestSendViaRESTIfNotJoined(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	sender := chConnect(t, s, source.WithAccessToken(func(context.Context) (string, error) { return "user-jwt", nil }))
	receiver := chConnect(t, s)
	rx := chNew(t, receiver, "room")
	got := messageLog(t, rx, source.Broadcasts[json.RawMessage](rx, "msg"))
	chSubscribe(t, rx)

	ch := chNew(t, sender, "room")
	require.ErrorIs(t, ch.Send(chCtx(t), "msg", map[string]int{"n": 0}), source.ErrNotJoined, "no silent fallback")
	assert.Empty(t, s.RESTRequests())

	require.NoError(t, ch.Send(chCtx(t), "msg", map[string]int{"n": 1}, source.ViaRESTIfNotJoined()))
	reqs := s.RESTRequests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, "POST", r.Method)
	assert.Equal(t, "/api/broadcast/room/events/msg", r.Path)
	assert.Empty(t, r.RawQuery)
	assert.Equal(t, "application/json", r.ContentType)
	assert.Equal(t, "anon-key", r.APIKey)
	assert.Equal(t, "Bearer user-jwt", r.Authorization)
	assert.JSONEq(t, `{"n":1}`, string(r.Body))
	b := got.waitN(t, 1, "the REST broadcast", func(source.Broadcast[json.RawMessage]) bool { return true })
	assert.JSONEq(t, `{"n":1}`, string(b.Payload))
	assert.Empty(t, inFrames(s, "realtime:room", "broadcast"), "nothing went over a socket")

	// Binary payloads go as application/octet-stream.
	require.NoError(t, ch.Send(chCtx(t), "bin", []byte{1, 2, 3}, source.ViaRESTIfNotJoined()))
	reqs = s.RESTRequests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/api/broadcast/room/events/bin", reqs[1].Path)
	assert.Equal(t, "application/octet-stream", reqs[1].ContentType)
	assert.Equal(t, []byte{1, 2, 3}, reqs[1].Body)

	// Joined: the socket, not REST.
	chSubscribe(t, ch)
	require.NoError(t, ch.Send(chCtx(t), "msg", map[string]int{"n": 2}, source.ViaRESTIfNotJoined()))
	f := waitIn(t, s, "realtime:room", "broadcast", 1)[0]
	assert.Equal(t, "msg", f.Msg.UserEvent)
	assert.JSONEq(t, `{"n":2}`, string(f.Msg.Payload))
	assert.Len(t, s.RESTRequests(), 2)
	b = got.waitN(t, 2, "the socket broadcast", func(source.Broadcast[json.RawMessage]) bool { return true })
	assert.JSONEq(t, `{"n":2}`, string(b.Payload))
}

// TestSendViaRESTPersistAndPrivate: a private channel's REST fallback
// carries private=true and the persist query.
func TestSendViaRESTPersistAndPrivate(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "secret", source.WithPrivate())
	require.NoError(t, ch.Send(chCtx(t), "ev", map[string]int{"n": 1}, source.ViaRESTIfNotJoined(), source.Persist()))
	require.NoError(t, ch.Send(chCtx(t), "ev", map[string]int{"n": 2}, source.ViaRESTIfNotJoined(), source.PersistTTL(90*time.Second)))
	reqs := s.RESTRequests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/api/broadcast/secret/events/ev", reqs[0].Path)
	assert.Equal(t, "private=true&persist=true", reqs[0].RawQuery)
	assert.Equal(t, "private=true&persist%5Bttl%5D=90", reqs[1].RawQuery)
	assert.Empty(t, reqs[0].Authorization, "no token, no Authorization")
	assert.Len(t, s.StoredBroadcasts("secret"), 2)
}

// TestSendViaRESTNeedsAPIKey: the REST API needs the API key; Send says so.
func TestSendViaRESTNeedsAPIKey(t *testing.T) {
	t.Parallel()
	s := rtServer(t)
	c, err := source.New(s.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	ch, err := c.Channel("room")
	require.NoError(t, err)
	require.ErrorIs(t, ch.Send(chCtx(t), "ev", map[string]int{}, source.ViaRESTIfNotJoined()), source.ErrInvalidOption)
	assert.Empty(t, s.RESTRequests())
}

// One configuration serves both transports: Client.REST shares the socket client's URL, key, token,
// headers, logger and HTTP client.
func TestClientRESTSharesTheConfiguration(t *testing.T) {
	s := rtServer(t)
	var trips atomic.Int64
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		trips.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := chConnect(t, s, source.WithHTTPClient(hc), source.WithHeader("X-Client-Info", "rxrealtime-test"),
		source.WithAccessToken(func(context.Context) (string, error) { return "user-token", nil }))
	rc, err := c.REST()
	require.NoError(t, err)
	again, err := c.REST()
	require.NoError(t, err)
	assert.Same(t, rc, again, "made once, shared")

	ch := chNew(t, c, "room")
	got := messageLog(t, ch, source.Broadcasts[map[string]int](ch, "ev"))
	chSubscribe(t, ch)
	require.NoError(t, rc.Broadcast(chCtx(t), "room", "ev", map[string]int{"n": 1}, false))
	got.waitN(t, 1, "the REST broadcast on the socket", func(source.Broadcast[map[string]int]) bool { return true })

	assert.Equal(t, int64(1), trips.Load(), "through the configured HTTP client")
	reqs := s.RESTRequests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "anon-key", reqs[0].APIKey)
	assert.Equal(t, "Bearer user-token", reqs[0].Authorization)

	noKey, err := source.New(s.URL()) // no key: the REST API cannot be used
	require.NoError(t, err)
	_, err = noKey.REST()
	assert.ErrorIs(t, err, source.ErrInvalidOption)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
