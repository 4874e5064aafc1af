package realtimetest

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"time"
)

// RESTRequest is one request the server received on its REST API (POST
// /api/broadcast, POST /api/broadcast/:topic/events/:event, and the table
// reads GET /rest/v1/<table>), recorded before it is handled.
type RESTRequest struct {
	// Time is when the request arrived.
	Time time.Time
	// Method and Path are the request line's; RawQuery its query string
	// (private=true, persist=true...).
	Method, Path, RawQuery string
	// ContentType is the Content-Type header.
	ContentType string
	// APIKey is the apikey header; Authorization the Authorization header
	// ("Bearer <token>"), both as sent.
	APIKey, Authorization string
	// Body is the request body (up to the server's body limit).
	Body []byte
}

// restLog records REST requests.
type restLog struct {
	mu   sync.Mutex
	reqs []RESTRequest
}

// RESTRequests returns the REST requests received so far, oldest first.
func (s *Server) RESTRequests() []RESTRequest {
	s.restLog.mu.Lock()
	defer s.restLog.mu.Unlock()
	return append([]RESTRequest(nil), s.restLog.reqs...)
}

// recordREST wraps a REST handler so that each request is recorded first.
func (s *Server) recordREST(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxRESTBody))
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.restLog.mu.Lock()
		s.restLog.reqs = append(s.restLog.reqs, RESTRequest{
			Time: time.Now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), APIKey: r.Header.Get("apikey"),
			Authorization: r.Header.Get("Authorization"), Body: body,
		})
		s.restLog.mu.Unlock()
		h(w, r)
	}
}
