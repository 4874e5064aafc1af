package rest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	apiKey = "sb-secret-api-key-0123456789"
	token  = "eyJhbGciOiJIUzI1NiJ9.secret-user-token.sig"
)

// recorded is one request as the test server saw it.
type recorded struct {
	method, path, rawPath, query string
	header                       http.Header
	body                         []byte
}

// server answers every request with status and body, and records it.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	status   int
	body     string
	header   http.Header
}

func newServer(t *testing.T, status int, body string) *server {
	s := &server{status: status, body: body, header: http.Header{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, recorded{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Header.Clone(), b})
		s.mu.Unlock()
		for k, vs := range s.header {
			w.Header()[k] = vs
		}
		w.WriteHeader(s.status)
		_, _ = io.WriteString(w, s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) last(t *testing.T) recorded {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.requests)
	return s.requests[len(s.requests)-1]
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func newClient(t *testing.T, s *server, opts ...Option) *Client {
	c, err := New(s.URL+"/realtime/v1", apiKey, append([]Option{WithHTTPClient(s.Client())}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestBroadcastSingle(t *testing.T) {
	s := newServer(t, http.StatusAccepted, "")
	c := newClient(t, s, WithToken(token), WithHeader("X-Client-Info", "rxrealtime-test"))

	require.NoError(t, c.Broadcast(context.Background(), "room1", "cursor", map[string]int{"x": 1}, false))
	r := s.last(t)
	assert.Equal(t, http.MethodPost, r.method)
	assert.Equal(t, "/realtime/v1/api/broadcast/room1/events/cursor", r.path)
	assert.Empty(t, r.query)
	assert.Equal(t, apiKey, r.header.Get("apikey"))
	assert.Equal(t, "Bearer "+token, r.header.Get("Authorization"))
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, "rxrealtime-test", r.header.Get("X-Client-Info"))
	assert.JSONEq(t, `{"x":1}`, string(r.body))

	require.NoError(t, c.Broadcast(context.Background(), "realtime:room1", "cursor", json.RawMessage(`[1,2]`), true))
	r = s.last(t)
	assert.Equal(t, "/realtime/v1/api/broadcast/room1/events/cursor", r.path, "the realtime: prefix is dropped")
	assert.Equal(t, "private=true", r.query)
	assert.Equal(t, `[1,2]`, string(r.body), "any JSON goes to the single endpoint")
}

func TestBroadcastEscapesPathSegments(t *testing.T) {
	s := newServer(t, http.StatusAccepted, "")
	c := newClient(t, s)
	require.NoError(t, c.Broadcast(context.Background(), "a/b c?%", "ev/1#x", map[string]any{}, false))
	r := s.last(t)
	assert.Equal(t, "/realtime/v1/api/broadcast/a/b c?%/events/ev/1#x", r.path)
	assert.Equal(t, "/realtime/v1/api/broadcast/a%2Fb%20c%3F%25/events/ev%2F1%23x", r.rawPath)
	assert.Empty(t, r.query)
}

func TestBroadcastWithoutToken(t *testing.T) {
	s := newServer(t, http.StatusAccepted, "")
	c := newClient(t, s, WithHeader("Authorization", "Bearer injected"), WithHeader("apikey", "other"))
	require.NoError(t, c.Broadcast(context.Background(), "room1", "ev", map[string]any{"a": 1}, false))
	r := s.last(t)
	assert.Empty(t, r.header.Values("Authorization"), "no token, no Authorization header")
	assert.Equal(t, []string{apiKey}, r.header.Values("apikey"), "WithHeader cannot replace the apikey")
}

func TestAccessTokenIsFetchedPerRequest(t *testing.T) {
	s := newServer(t, http.StatusAccepted, "")
	type ctxKey struct{}
	n := 0
	c := newClient(t, s, WithAccessToken(func(ctx context.Context) (string, error) {
		assert.Equal(t, "v", ctx.Value(ctxKey{}))
		n++
		return "tok" + string(rune('0'+n)), nil
	}))
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	require.NoError(t, c.Broadcast(ctx, "room1", "ev", map[string]any{}, false))
	assert.Equal(t, "Bearer tok1", s.last(t).header.Get("Authorization"))
	require.NoError(t, c.BroadcastBatch(ctx, []Message{{Topic: "room1", Event: "ev", Payload: map[string]any{}}}))
	assert.Equal(t, "Bearer tok2", s.last(t).header.Get("Authorization"))

	failing := newClient(t, s, WithAccessToken(func(context.Context) (string, error) {
		return "", errors.New("refresh failed for key " + apiKey)
	}))
	before := s.count()
	err := failing.Broadcast(ctx, "room1", "ev", map[string]any{}, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rest: access token: refresh failed")
	assert.NotContains(t, err.Error(), apiKey)
	assert.Equal(t, before, s.count(), "nothing is sent without a token")
}

func TestBroadcastBatch(t *testing.T) {
	s := newServer(t, http.StatusAccepted, "")
	c := newClient(t, s, WithToken(token))
	err := c.BroadcastBatch(context.Background(), []Message{
		{Topic: "room1", Event: "cursor", Payload: map[string]int{"x": 1}},
		{Topic: "realtime:room2", Event: "ping", Payload: json.RawMessage(`{"n":2}`), Private: true, ID: "6f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69"},
	})
	require.NoError(t, err)
	r := s.last(t)
	assert.Equal(t, "/realtime/v1/api/broadcast", r.path)
	assert.Empty(t, r.query)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, apiKey, r.header.Get("apikey"))
	assert.Equal(t, "Bearer "+token, r.header.Get("Authorization"))
	assert.JSONEq(t, `{"messages":[
		{"topic":"room1","event":"cursor","payload":{"x":1},"private":false},
		{"topic":"room2","event":"ping","payload":{"n":2},"private":true,"id":"6f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69"}]}`, string(r.body))

	before := s.count()
	require.NoError(t, c.BroadcastBatch(context.Background(), nil))
	assert.Equal(t, before, s.count(), "an empty batch sends nothing")
}

func TestBroadcastBinary(t *testing.T) {
	s := newServer(t, http.StatusAccepted, "")
	c := newClient(t, s)
	require.NoError(t, c.BroadcastBinary(context.Background(), "room1", "blob", []byte{0, 1, 2, 255}, true))
	r := s.last(t)
	assert.Equal(t, "/realtime/v1/api/broadcast/room1/events/blob", r.path)
	assert.Equal(t, "private=true", r.query)
	assert.Equal(t, "application/octet-stream", r.header.Get("Content-Type"))
	assert.Equal(t, []byte{0, 1, 2, 255}, r.body)
}

func TestSuccessStatuses(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusAccepted, http.StatusNoContent} {
		s := newServer(t, status, "")
		c := newClient(t, s)
		assert.NoError(t, c.Broadcast(context.Background(), "room1", "ev", map[string]any{}, false), status)
	}
}

func TestStatusErrors(t *testing.T) {
	tests := []struct {
		status   int
		body     string
		sentinel error
		message  string
	}{
		{401, `{"message":"Unauthorized"}`, ErrUnauthorized, "Unauthorized"},
		{401, `{"message":"Tenant not found in database"}`, ErrUnauthorized, "Tenant not found in database"},
		{403, `{"message":"Tenant is suspended"}`, ErrForbidden, "Tenant is suspended"},
		{404, ``, ErrNotFound, "Not Found"},
		{404, `<html><body>Not here</body></html>`, ErrNotFound, "<html><body>Not here</body></html>"},
		{415, `{"error":"Unsupported Media Type. Use application/json or application/octet-stream"}`, ErrInvalid, "Unsupported Media Type. Use application/json or application/octet-stream"},
		{422, `{"errors":{"messages":[{"payload":["can't be blank"]},{}]}}`, ErrInvalid, `{"messages":[{"payload":["can't be blank"]},{}]}`},
		{400, `bad
request`, ErrInvalid, "bad request"},
		{413, "", ErrInvalid, "Request Entity Too Large"},
		{429, `{"message":"You have exceeded your rate limit"}`, ErrRateLimited, "You have exceeded your rate limit"},
		{500, "\x00\x01binary", ErrServer, "Internal Server Error"},
		{503, `{"message":"Realtime is restarting"}`, ErrServer, "Realtime is restarting"},
		{418, `{"message":"teapot"}`, nil, "teapot"},
	}
	sentinels := []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrInvalid, ErrRateLimited, ErrServer}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			s := newServer(t, tt.status, tt.body)
			c := newClient(t, s)
			for _, send := range []func() error{
				func() error { return c.Broadcast(context.Background(), "room1", "ev", map[string]any{"a": 1}, false) },
				func() error {
					return c.BroadcastBatch(context.Background(), []Message{{Topic: "room1", Event: "ev", Payload: map[string]any{}}})
				},
			} {
				err := send()
				var se *StatusError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tt.status, se.Status)
				assert.Equal(t, tt.message, se.Message)
				for _, sen := range sentinels {
					assert.Equal(t, sen == tt.sentinel, errors.Is(err, sen), "%v is %v", err, sen)
				}
			}
		})
	}
}

func TestStatusErrorText(t *testing.T) {
	e := &StatusError{Status: 429, Message: "You have exceeded your rate limit"}
	assert.Equal(t, "rest: broadcast: 429 Too Many Requests: You have exceeded your rate limit", e.Error())
	assert.Equal(t, "rest: broadcast: 404 Not Found", (&StatusError{Status: 404, Message: "Not Found"}).Error())
}

func TestRetryAfter(t *testing.T) {
	s := newServer(t, http.StatusTooManyRequests, `{"message":"Too many requests"}`)
	s.header.Set("Retry-After", "3")
	c := newClient(t, s)
	err := c.Broadcast(context.Background(), "room1", "ev", map[string]any{}, false)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 3*time.Second, se.RetryAfter)

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, 90*time.Second, retryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	assert.Zero(t, retryAfter(now.Add(-time.Second).Format(http.TimeFormat), now))
	assert.Zero(t, retryAfter("-5", now))
	assert.Zero(t, retryAfter("soon", now))
}

func TestSecretsNeverInErrors(t *testing.T) {
	echo := `{"message":"bad key ` + apiKey + ` for token ` + token + `"}`
	s := newServer(t, http.StatusUnauthorized, echo)
	c := newClient(t, s, WithToken(token))
	err := c.Broadcast(context.Background(), "room1", "ev", map[string]any{}, false)
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.NotContains(t, err.Error(), apiKey)
	assert.NotContains(t, err.Error(), token)
	assert.Contains(t, err.Error(), "bad key [REDACTED] for token [REDACTED]")

	// A secret cut by the length limit is redacted before it is cut.
	s2 := newServer(t, http.StatusBadRequest, strings.Repeat("x", maxMessage-5)+apiKey)
	err = newClient(t, s2).Broadcast(context.Background(), "room1", "ev", map[string]any{}, false)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), apiKey[:6])

	// A transport that fails with the secrets in its error.
	leaky := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("dial failed with headers " + r.Header.Get("apikey") + " " + r.Header.Get("Authorization"))
	})}
	c3, err := New("https://example.invalid/realtime/v1", apiKey, WithHTTPClient(leaky), WithToken(token))
	require.NoError(t, err)
	err = c3.Broadcast(context.Background(), "room1", "ev", map[string]any{}, false)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), apiKey)
	assert.NotContains(t, err.Error(), token)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestContextCancellation(t *testing.T) {
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer s.Close()
	defer close(release)
	c, err := New(s.URL, apiKey, WithHTTPClient(s.Client()))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Broadcast(ctx, "room1", "ev", map[string]any{}, false) }()
	cancel()
	err = <-done
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), apiKey)
}

func TestMessageErrors(t *testing.T) {
	s := newServer(t, http.StatusAccepted, "")
	c := newClient(t, s)
	ctx := context.Background()
	tests := []struct {
		name  string
		err   error
		index int
		field string
	}{
		{"empty topic", c.Broadcast(ctx, "", "ev", map[string]any{}, false), -1, "topic"},
		{"prefix only", c.Broadcast(ctx, "realtime:", "ev", map[string]any{}, false), -1, "topic"},
		{"empty event", c.Broadcast(ctx, "room1", "", map[string]any{}, false), -1, "event"},
		{"nil payload", c.Broadcast(ctx, "room1", "ev", nil, false), -1, "payload"},
		{"unencodable payload", c.Broadcast(ctx, "room1", "ev", make(chan int), false), -1, "payload"},
		{"nil binary", c.BroadcastBinary(ctx, "room1", "ev", nil, false), -1, "payload"},
		{"binary empty topic", c.BroadcastBinary(ctx, "", "ev", []byte{1}, false), -1, "topic"},
		{"batch empty event", c.BroadcastBatch(ctx, []Message{{Topic: "a", Event: "e", Payload: map[string]any{}}, {Topic: "a", Payload: map[string]any{}}}), 1, "event"},
		{"batch nil payload", c.BroadcastBatch(ctx, []Message{{Topic: "a", Event: "e"}}), 0, "payload"},
		{"batch array payload", c.BroadcastBatch(ctx, []Message{{Topic: "a", Event: "e", Payload: []int{1}}}), 0, "payload"},
		{"batch string payload", c.BroadcastBatch(ctx, []Message{{Topic: "a", Event: "e", Payload: "hi"}}), 0, "payload"},
		{"batch unencodable", c.BroadcastBatch(ctx, []Message{{Topic: "a", Event: "e", Payload: func() {}}}), 0, "payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, tt.err)
			assert.ErrorIs(t, tt.err, ErrInvalidMessage)
			var me *MessageError
			require.ErrorAs(t, tt.err, &me)
			assert.Equal(t, tt.index, me.Index)
			assert.Equal(t, tt.field, me.Field)
		})
	}
	assert.Zero(t, s.count(), "refused messages are never sent")
}

func TestNew(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://abc.supabase.co/realtime/v1", "https://abc.supabase.co/realtime/v1/api/broadcast"},
		{"https://abc.supabase.co/realtime/v1/", "https://abc.supabase.co/realtime/v1/api/broadcast"},
		{"wss://abc.supabase.co/realtime/v1/websocket?apikey=" + apiKey + "&vsn=2.0.0", "https://abc.supabase.co/realtime/v1/api/broadcast"},
		{"ws://127.0.0.1:4000/socket/websocket", "http://127.0.0.1:4000/api/broadcast"},
		{"WS://127.0.0.1:4000/SOCKET/", "http://127.0.0.1:4000/api/broadcast"},
		{"http://user:pass@127.0.0.1:4000/socket", "http://127.0.0.1:4000/api/broadcast"},
		{"https://abc.supabase.co", "https://abc.supabase.co/realtime/v1/api/broadcast"},
		{"http://user:pass@localhost:54321/?apikey=" + apiKey, "http://localhost:54321/realtime/v1/api/broadcast"},
	}
	for _, tt := range tests {
		c, err := New(tt.in, apiKey)
		require.NoError(t, err, tt.in)
		u := c.base
		u.Path += "/broadcast"
		assert.Equal(t, tt.want, u.String(), tt.in)
	}
	for _, bad := range []string{"", "ftp://x/y", "https://", "://x", "127.0.0.1:4000/realtime"} {
		_, err := New(bad, apiKey)
		assert.ErrorIs(t, err, ErrInvalidConfig, bad)
		var ue *URLError
		assert.ErrorAs(t, err, &ue, bad)
	}
	_, err := New("https://abc.supabase.co", "")
	assert.ErrorIs(t, err, ErrInvalidConfig)

	_, err = New("https://x\x7f.co/?apikey="+apiKey, apiKey)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), apiKey)
}

func TestDefaultHTTPClient(t *testing.T) {
	s := newServer(t, http.StatusAccepted, "")
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	c, err := New(s.URL, apiKey)
	require.NoError(t, err)
	require.NoError(t, c.Broadcast(context.Background(), "room1", "ev", map[string]any{}, false))
	assert.Equal(t, "/realtime/v1/api/broadcast/room1/events/ev", s.last(t).path, "a bare http URL is a project URL")
}
