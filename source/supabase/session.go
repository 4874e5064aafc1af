package supabase

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/supabase-community/gotrue-go"
	"github.com/supabase-community/gotrue-go/types"
)

// DefaultRefreshMargin is how long before its expiry a session is
// refreshed, as supabase-js's auth client does (three 30 s ticks). For a
// token that lives less than twice the margin, half its lifetime is used.
const DefaultRefreshMargin = 90 * time.Second

// ErrNoSession is returned by [NewSession] for a session without an
// access token, or without the GoTrue client to refresh it.
var ErrNoSession = errors.New("supabase: no session")

// Session holds a signed-in user's GoTrue session and keeps it fresh: its
// [Session.AccessToken] method is a source.TokenProvider that returns the
// access token, refreshing it first (grant_type=refresh_token, through
// the gotrue-go client) when it expires within the refresh margin. It is
// safe for concurrent use; concurrent refreshes are merged into one.
type Session struct {
	auth   gotrue.Client
	margin time.Duration
	logger *slog.Logger

	mu       sync.Mutex
	cur      types.Session
	expires  time.Time     // zero when unknown: never refreshed ahead
	refresh  time.Time     // when the session is due for a refresh
	changed  chan struct{} // closed, and replaced, when cur changes
	inflight *refreshCall
}

type refreshCall struct {
	done chan struct{}
	sess types.Session
	err  error
}

// SessionOption configures a [Session].
type SessionOption func(*Session)

// WithRefreshMargin refreshes the session d before it expires (default
// [DefaultRefreshMargin], capped at half the token's lifetime).
func WithRefreshMargin(d time.Duration) SessionOption {
	return func(s *Session) { s.margin = d }
}

// WithLogger logs refreshes at Debug and failed refreshes at Warn. Tokens
// are never logged.
func WithLogger(l *slog.Logger) SessionOption {
	return func(s *Session) { s.logger = l }
}

// NewSession wraps sess, as returned by auth.SignInWithEmailPassword (or
// any other GoTrue sign-in), and refreshes it with auth. auth can be a
// supabase-go client's Auth field.
func NewSession(auth gotrue.Client, sess types.Session, opts ...SessionOption) (*Session, error) {
	if auth == nil {
		return nil, fmt.Errorf("%w: nil GoTrue client", ErrNoSession)
	}
	if sess.AccessToken == "" {
		return nil, fmt.Errorf("%w: empty access token", ErrNoSession)
	}
	s := &Session{auth: auth, margin: DefaultRefreshMargin, changed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	s.set(sess, time.Now())
	return s, nil
}

// Current returns the session as last signed in or refreshed.
func (s *Session) Current() types.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// ExpiresAt is when the current access token expires (zero if unknown).
func (s *Session) ExpiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires
}

// Update replaces the session with one refreshed elsewhere (for example
// by supabase-go's EnableTokenAutoRefresh, from its RefreshToken result).
// Realtime clients built on s send the new token to the server.
func (s *Session) Update(sess types.Session) {
	if sess.AccessToken == "" {
		return
	}
	s.mu.Lock()
	s.set(sess, time.Now())
	s.mu.Unlock()
}

// AccessToken returns the access token, refreshing the session first when
// it is due. It has the signature of source.TokenProvider: pass
// s.AccessToken to source.WithAccessToken or rest.WithAccessToken. If the
// refresh fails while the current token has not expired yet, the current
// token is returned (and the failure logged); once it has expired the
// error is returned.
func (s *Session) AccessToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	cur, due, expires := s.cur.AccessToken, s.dueLocked(time.Now()), s.expires
	s.mu.Unlock()
	if !due {
		return cur, nil
	}
	ns, err := s.Refresh(ctx)
	if err == nil {
		return ns.AccessToken, nil
	}
	if ctx.Err() == nil && time.Now().Before(expires) {
		return cur, nil
	}
	return "", err
}

// Refresh exchanges the refresh token for a new session now. Concurrent
// calls share one request. gotrue-go takes no context: if ctx ends first
// Refresh returns ctx's error, and the request still completes (bounded
// by the GoTrue client's HTTP timeout) and updates the session.
func (s *Session) Refresh(ctx context.Context) (types.Session, error) {
	s.mu.Lock()
	call := s.inflight
	if call == nil {
		call = &refreshCall{done: make(chan struct{})}
		s.inflight = call
		go s.doRefresh(call, s.cur.RefreshToken)
	}
	s.mu.Unlock()
	select {
	case <-call.done:
		return call.sess, call.err
	case <-ctx.Done():
		return types.Session{}, ctx.Err()
	}
}

func (s *Session) doRefresh(call *refreshCall, refreshToken string) {
	start := time.Now()
	var err error
	var resp *types.TokenResponse
	if refreshToken == "" {
		err = errors.New("the session has no refresh token")
	} else {
		resp, err = s.auth.RefreshToken(refreshToken)
		if err == nil && (resp == nil || resp.AccessToken == "") {
			err = errors.New("GoTrue returned no access token")
		}
	}
	s.mu.Lock()
	if err != nil {
		call.err = fmt.Errorf("supabase: refresh session: %w", err)
	} else {
		s.set(resp.Session, time.Now())
		call.sess = resp.Session
	}
	s.inflight = nil
	expires := s.expires
	s.mu.Unlock()
	if s.logger != nil {
		if err != nil {
			s.logger.Warn("supabase: session refresh failed", "error", call.err.Error(), "duration", time.Since(start))
		} else {
			s.logger.Debug("supabase: session refreshed", "expires_at", expires, "duration", time.Since(start))
		}
	}
	close(call.done) // after logging: a caller that returns sees the log
}

// state returns the token, the channel closed at the next change, and
// when a refresh is due (zero: never).
func (s *Session) state() (string, <-chan struct{}, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.AccessToken, s.changed, s.refresh
}

// set adopts sess. The caller holds s.mu (or owns s).
func (s *Session) set(sess types.Session, now time.Time) {
	if sess.RefreshToken == "" {
		sess.RefreshToken = s.cur.RefreshToken
	}
	s.cur = sess
	s.expires = expiry(sess, now)
	s.refresh = time.Time{}
	if !s.expires.IsZero() {
		margin := s.margin
		if life := s.expires.Sub(now); margin > life/2 {
			margin = life / 2
		}
		s.refresh = s.expires.Add(-margin)
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Session) dueLocked(now time.Time) bool {
	return !s.refresh.IsZero() && !now.Before(s.refresh)
}

// expiry is when sess's access token expires: expires_at, else
// now+expires_in, else the token's exp claim, else zero.
func expiry(sess types.Session, now time.Time) time.Time {
	switch {
	case sess.ExpiresAt > 0:
		return time.Unix(sess.ExpiresAt, 0)
	case sess.ExpiresIn > 0:
		return now.Add(time.Duration(sess.ExpiresIn) * time.Second)
	}
	parts := strings.Split(sess.AccessToken, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(body, &claims) != nil {
		return time.Time{}
	}
	exp, err := claims.Exp.Int64()
	if err != nil || exp <= 0 {
		return time.Time{}
	}
	return time.Unix(exp, 0)
}
