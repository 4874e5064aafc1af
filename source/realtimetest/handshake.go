package realtimetest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// serializerFor picks the serializer for a vsn query value the way Phoenix
// does: "~> 1.0.0" is V1, "~> 2.0.0" is V2, an absent vsn is 1.0.0.
func (s *Server) serializerFor(vsn string) (phoenix.Serializer, bool) {
	if vsn == "" {
		return s.v1, true
	}
	switch {
	case matchesPatch(vsn, "1.0."):
		return s.v1, true
	case matchesPatch(vsn, "2.0."):
		return s.v2, true
	}
	return nil, false
}

// matchesPatch reports whether vsn is prefix followed by a patch number.
func matchesPatch(vsn, prefix string) bool {
	rest, ok := strings.CutPrefix(vsn, prefix)
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// tenantOf returns the first DNS label of a Host header value.
func tenantOf(host string) string {
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	label, _, _ := strings.Cut(host, ".")
	return label
}

// rejectHandshake answers a refused upgrade after the configured delay with
// the real server's {"error": msg} body.
func (s *Server) rejectHandshake(w http.ResponseWriter, status int, msg string) {
	s.sleep(s.cfg.connectErrorDelay)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(body)
}

// serveWebSocket runs the handshake checks of RealtimeWeb.UserSocket.connect
// and then the connection itself, in the handler goroutine.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ser, ok := s.serializerFor(q.Get("vsn"))
	if !ok {
		// Phoenix refuses an unknown vsn before connect/3 runs: bare 403.
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if s.cfg.tenant != "" && tenantOf(r.Host) != s.cfg.tenant {
		s.rejectHandshake(w, http.StatusNotFound, "Tenant not found")
		return
	}
	var token string
	var hasToken bool
	if vals, ok := r.Header["X-Api-Key"]; ok && len(vals) > 0 {
		token, hasToken = vals[0], true
	} else if vals, ok := q["apikey"]; ok && len(vals) > 0 {
		token, hasToken = vals[0], true
	}
	if !hasToken {
		s.rejectHandshake(w, http.StatusUnauthorized, "API key is missing")
		return
	}
	if s.cfg.jwtSecret != nil {
		if _, terr := verifyToken(token, s.cfg.jwtSecret, time.Now()); terr != nil {
			status, msg := terr.handshakeStatus()
			s.rejectHandshake(w, status, msg)
			return
		}
	}
	s.mu.Lock()
	tooManyUsers := s.users >= s.cfg.maxUsers
	tooManyJoins := s.joins.avg(time.Now()) >= s.cfg.maxJoinsPerSecond
	s.mu.Unlock()
	switch {
	case tooManyUsers:
		s.rejectHandshake(w, http.StatusTooManyRequests, "Too many connected users")
		return
	case tooManyJoins:
		s.rejectHandshake(w, http.StatusTooManyRequests, "Too many joins per second")
		return
	}

	s.handshakes.RLock()
	tc, err := transport.Upgrade(w, r, transport.WithMaxFrameSize(s.cfg.maxFrameSize))
	if err != nil {
		s.handshakes.RUnlock()
		return // Upgrade answered the malformed request
	}
	params := make(url.Values, len(q))
	for k, v := range q {
		if k != "apikey" {
			params[k] = v
		}
	}
	c := s.register(tc, ser, token, params)
	s.handshakes.RUnlock()
	if c == nil {
		_ = tc.Close(transport.StatusGoingAway, "")
		return
	}
	defer s.connWG.Done()
	c.readLoop()
}
