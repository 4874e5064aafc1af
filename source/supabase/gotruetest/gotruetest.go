// Package gotruetest is an in-process stand-in for Supabase Auth (GoTrue),
// enough to sign a user in and refresh the session offline: POST
// /auth/v1/token with grant_type=password or grant_type=refresh_token. Its
// access tokens are HS256 JWTs signed with the secret it is given, so a
// realtimetest server with the same secret (realtimetest.WithJWTSecret)
// accepts them.
package gotruetest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/supabase-community/gotrue-go"
)

// Server is the GoTrue stub. Its methods are safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	secret []byte
	ttl    time.Duration

	mu        sync.Mutex
	users     map[string]user   // by email
	refresh   map[string]string // live refresh token -> email
	signIns   int
	refreshes int
	failNext  int
}

type user struct {
	id, password string
}

// Option configures a [Server].
type Option func(*Server)

// WithTTL sets the access tokens' lifetime (default one hour). Expiry is
// in whole seconds, as in a JWT.
func WithTTL(d time.Duration) Option { return func(s *Server) { s.ttl = d } }

// WithUser adds a user who can sign in with email and password.
func WithUser(email, password string) Option {
	return func(s *Server) { s.users[email] = user{id: newID(), password: password} }
}

// NewServer starts a stub signing with secret. Close it when done.
func NewServer(secret string, opts ...Option) *Server {
	s := &Server{secret: []byte(secret), ttl: time.Hour, users: map[string]user{}, refresh: map[string]string{}}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/v1/token", s.serveToken)
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the GoTrue base URL, http://127.0.0.1:port/auth/v1.
func (s *Server) URL() string { return s.srv.URL + "/auth/v1" }

// Client returns a gotrue-go client for the stub, with apiKey.
func (s *Server) Client(apiKey string) gotrue.Client {
	return gotrue.New("stub", apiKey).WithCustomGoTrueURL(s.URL())
}

// Close shuts the stub down.
func (s *Server) Close() { s.srv.Close() }

// SignIns is how many password sign-ins succeeded.
func (s *Server) SignIns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signIns
}

// Refreshes is how many refresh_token grants succeeded.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// FailRefreshes makes the next n refresh_token grants answer 503.
func (s *Server) FailRefreshes(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("apikey") == "" {
		writeError(w, http.StatusUnauthorized, "no_api_key", "No API key found in request")
		return
	}
	var body struct {
		Email        string `json:"email"`
		Password     string `json:"password"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "bad_json", "Could not parse request body as JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var email string
	switch r.URL.Query().Get("grant_type") {
	case "password":
		u, ok := s.users[body.Email]
		if !ok || u.password != body.Password {
			writeError(w, http.StatusBadRequest, "invalid_credentials", "Invalid login credentials")
			return
		}
		email = body.Email
		s.signIns++
	case "refresh_token":
		if s.failNext > 0 {
			s.failNext--
			writeError(w, http.StatusServiceUnavailable, "unavailable", "Auth is restarting")
			return
		}
		e, ok := s.refresh[body.RefreshToken]
		if !ok {
			writeError(w, http.StatusBadRequest, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
			return
		}
		delete(s.refresh, body.RefreshToken) // rotation: each refresh token works once
		email = e
		s.refreshes++
	default:
		writeError(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported_grant_type")
		return
	}
	u := s.users[email]
	now := time.Now()
	exp := now.Add(s.ttl).Unix()
	access, err := s.sign(map[string]any{
		"aud": "authenticated", "role": "authenticated", "sub": u.id, "email": email,
		"iat": now.Unix(), "exp": exp, "session_id": newID(),
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "unexpected_failure", err.Error())
		return
	}
	rt := newID()
	s.refresh[rt] = email
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token":  access,
		"token_type":    "bearer",
		"expires_in":    int(s.ttl / time.Second),
		"expires_at":    exp,
		"refresh_token": rt,
		"user": map[string]any{
			"id": u.id, "aud": "authenticated", "role": "authenticated", "email": email,
		},
	})
}

// sign makes an HS256 JWT.
func (s *Server) sign(claims map[string]any) (string, error) {
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": status, "error_code": code, "msg": msg})
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
