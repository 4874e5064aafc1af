package source

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
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

// refreshToken asks the token provider for a fresh token and makes it the
// client's: later joins carry it, and every joined channel that has
// another one is sent an access_token push. A failure is reported
// ([TokenError]) and the previous token kept, as realtime-js does. Calls
// may overlap (the refresher, a rejoin, a reconnect): a result older than
// one already applied is dropped.
func (c *Client) refreshToken(ctx context.Context) error {
	if c.cfg.token == nil {
		return nil
	}
	c.mu.Lock()
	c.tokenGen++
	gen := c.tokenGen
	c.mu.Unlock()
	tok, err := c.cfg.token(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.report(&TokenError{Err: err})
		}
		return err
	}
	c.mu.Lock()
	if gen < c.tokenApplied || c.closing {
		c.mu.Unlock()
		return nil // a later call already set a newer token
	}
	c.tokenApplied = gen
	c.sec.addToken(tok)
	changed := c.token != tok
	c.token = tok
	c.mu.Unlock()
	if changed {
		c.logAttrs(slog.LevelDebug, "rxrealtime: access token refreshed") // never the token itself
	}
	if err := c.distributeToken(ctx, tok); err != nil && !errors.Is(err, ErrClosed) && ctx.Err() == nil {
		c.report(err) // the next rejoin carries the token anyway
	}
	return nil
}

// tokenRefresher runs beside a session's heartbeat while a token provider
// is set: it asks the provider after every heartbeat sent (kick) and
// before the current token expires, until ctx ends. After a provider
// failure it retries in 1 s, doubling up to the heartbeat interval, or at
// the token's own refresh time if earlier.
func (c *Client) tokenRefresher(ctx context.Context, kick <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	failures := 0
	prev := ""
	arm := func() {
		tok := c.accessToken()
		d, ok := refreshDelay(tok, time.Now(), tok == prev)
		prev = tok
		if failures > 0 {
			retry := min(time.Second<<min(failures-1, 10), c.cfg.heartbeatInterval)
			if !ok || retry < d {
				d, ok = retry, true
			}
		}
		t.Stop()
		select { // drain a fire that raced with Stop
		case <-t.C:
		default:
		}
		if ok {
			t.Reset(d)
		}
	}
	arm()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-t.C:
		}
		if err := c.refreshToken(ctx); err != nil {
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
