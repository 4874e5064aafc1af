package source

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Proactive token refresh.
//
// realtime-js asks its accessToken callback on every heartbeat and pushes
// access_token to every joined channel when the value changed (client.md
// §1.10), so the server never closes a channel for an expired token. This
// client does the same, and also reads the token's exp (the JWT payload,
// decoded without verifying it: the server verifies) to ask again before
// it expires, whatever the heartbeat interval. The token itself is never
// logged.

const (
	// refreshLead bounds the part of a token's lifetime the refresh
	// leaves before exp: max(10% of the lifetime, min(refreshLead, half
	// the lifetime)).
	refreshLead = 5 * time.Second
	// minRefreshGap is the shortest wait between two scheduled refreshes,
	// so a provider that keeps returning a token close to expiry is not
	// asked in a loop.
	minRefreshGap = 500 * time.Millisecond
)

// jwtTimes reads the exp and iat claims of a JWT without verifying it. ok
// is false for anything that is not a JWT with a numeric exp; iat is zero
// when absent.
func jwtTimes(token string) (exp, iat time.Time, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	var claims struct {
		Exp *float64 `json:"exp"`
		Iat *float64 `json:"iat"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Exp == nil || *claims.Exp <= 0 {
		return time.Time{}, time.Time{}, false
	}
	exp = unixSeconds(*claims.Exp)
	if claims.Iat != nil && *claims.Iat > 0 {
		iat = unixSeconds(*claims.Iat)
	}
	return exp, iat, true
}

func unixSeconds(s float64) time.Time {
	return time.Unix(0, 0).Add(time.Duration(s * float64(time.Second)))
}

// refreshDelay is how long to wait before asking the provider again for
// token: until exp minus the lead (see refreshLead), at least
// minRefreshGap. When the provider, asked at that time, answered with the
// same token (again: its own refresh comes later, as a session that
// refreshes a minute before expiry does), the wait is half the time left
// before exp instead, so it is asked a few times, not every minRefreshGap.
// ok is false when the token's exp cannot be read or has passed (only the
// heartbeat asks then).
func refreshDelay(token string, now time.Time, again bool) (time.Duration, bool) {
	exp, iat, ok := jwtTimes(token)
	if !ok || !exp.After(now) {
		return 0, false
	}
	left := exp.Sub(now)
	life := left
	if !iat.IsZero() && iat.Before(exp) {
		life = exp.Sub(iat)
	}
	lead := max(life/10, min(refreshLead, life/2))
	d := left - lead
	if again && d <= 0 {
		d = left / 2
	}
	return max(d, minRefreshGap), true
}

// tokens is the client's access token: the last one its provider or SetAuth gave, and the provider's
// refreshes.
type tokens struct {
	provider TokenProvider
	sec      *secrets                                      // remembers every token handed out
	ev       *events                                       // reports the provider's failures
	give     func(ctx context.Context, token string) error // pushes a new token to the joined channels
	retryMax time.Duration                                 // the longest wait after a provider failure
	dialWait time.Duration                                 // how long a dial waits for the provider (WithDialTimeout)
	anon     bool                                          // WithAnonymousFallback: dial without a token

	mu    sync.Mutex
	token string
	// gen numbers the provider calls; applied is the newest whose token was set (refresh).
	gen, applied uint64
	// asking is when the provider was asked before a dial, while it has not returned (zero otherwise).
	asking time.Time
}

// current returns the token joins carry.
func (t *tokens) current() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.token
}

// set makes token current (SetAuth).
func (t *tokens) set(token string) {
	t.sec.addToken(token)
	t.mu.Lock()
	t.token = token
	t.mu.Unlock()
}

// refresh asks the token provider for a fresh token and makes it the
// client's: later joins carry it, and every joined channel that has
// another one is sent an access_token push. A failure is reported
// ([TokenError]) and the previous token kept, as realtime-js does. Calls
// may overlap (the refresher, a rejoin, a reconnect): a result older than
// one already applied is dropped.
func (t *tokens) refresh(ctx context.Context) error {
	if t.provider == nil {
		return nil
	}
	t.mu.Lock()
	t.gen++
	gen := t.gen
	t.mu.Unlock()
	tok, err := t.provider(ctx)
	if err != nil {
		if ctx.Err() == nil {
			te := &TokenError{Err: err}
			t.ev.report(te)
			return te
		}
		return err
	}
	t.sec.addToken(tok)
	t.mu.Lock()
	if gen < t.applied {
		t.mu.Unlock()
		return nil // a later call already set a newer token
	}
	t.applied = gen
	changed := t.token != tok
	t.token = tok
	t.mu.Unlock()
	if changed {
		t.ev.log(slog.LevelDebug, "rxrealtime: access token refreshed") // never the token itself
	}
	if err := t.give(ctx, tok); err != nil && !errors.Is(err, ErrClosed) && ctx.Err() == nil {
		t.ev.reportAs(ErrorKindToken, err) // the next rejoin carries the token anyway
	}
	return nil
}

// beforeDial is the socket's Dial hook: it asks the provider for a fresh token before each dial, for at
// most dialWait. A failure is reported and the last token kept; while the client has no token at all
// (the provider never gave one, nor SetAuth) it fails the attempt with the *TokenError instead, so that
// the client does not connect as anon without a word, unless WithAnonymousFallback allows it.
func (t *tokens) beforeDial(ctx context.Context) error {
	if t.provider == nil {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, t.dialWait)
	defer cancel()
	t.mu.Lock()
	t.asking = time.Now()
	t.mu.Unlock()
	err := t.refresh(pctx)
	t.mu.Lock()
	t.asking = time.Time{}
	has := t.token != ""
	t.mu.Unlock()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err() // the client is closing
	}
	var te *TokenError
	if !errors.As(err, &te) { // pctx ended first: refresh did not report it
		te = &TokenError{Err: err, Waited: t.dialWait}
		t.ev.report(te)
	}
	if has || t.anon {
		return nil
	}
	return te
}

// pending is the error of a provider asked before a dial that has not returned yet: a *TokenError saying
// for how long it has been waited for; nil when none is pending.
func (t *tokens) pending() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.asking.IsZero() {
		return nil
	}
	return &TokenError{Waited: time.Since(t.asking).Round(time.Millisecond)}
}

// session is the socket's Session hook while a token provider is set: a refresher that runs beside each
// session (nil without a provider).
func (t *tokens) session() func(ctx context.Context, heartbeat <-chan struct{}) {
	if t.provider == nil {
		return nil
	}
	return t.refresher
}

// refresher runs beside a session's heartbeat while a token provider
// is set: it asks the provider after every heartbeat sent (kick) and
// before the current token expires, until ctx ends. After a provider
// failure it retries in 1 s, doubling up to retryMax (the heartbeat
// interval), or at the token's own refresh time if earlier.
func (t *tokens) refresher(ctx context.Context, kick <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	failures := 0
	prev := ""
	arm := func() {
		tok := t.current()
		d, ok := refreshDelay(tok, time.Now(), tok == prev)
		prev = tok
		if failures > 0 {
			retry := min(time.Second<<min(failures-1, 10), t.retryMax)
			if !ok || retry < d {
				d, ok = retry, true
			}
		}
		timer.Stop()
		select { // drain a fire that raced with Stop
		case <-timer.C:
		default:
		}
		if ok {
			timer.Reset(d)
		}
	}
	arm()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-timer.C:
		}
		if err := t.refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
		} else {
			failures = 0
		}
		arm()
	}
}

// forREST is the REST client's token: the current one (kept fresh by the refresher), else the
// provider's.
func (t *tokens) forREST(ctx context.Context) (string, error) {
	if tok := t.current(); tok != "" || t.provider == nil {
		return tok, nil
	}
	return t.provider(ctx)
}
