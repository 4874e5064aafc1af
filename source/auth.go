package source

import (
	"context"
	"encoding/json"
)

// SetAuth sets the access token: later joins and rejoins carry it, and
// every joined channel is sent an access_token push now (the server
// replies to none; it closes the channel if the token is invalid). A
// channel that already has the token is sent nothing. A channel whose join
// is in flight gets the token right after its join succeeds. With a token
// provider (WithAccessToken) the provider wins, as realtime-js's callback
// mode does: SetAuth's token is used until the provider is next asked (at
// the next heartbeat, before the token's expiry, before a reconnect or a
// rejoin). SetAuth("") (signing out) sends a null token, which the server
// ignores: joined channels keep their role until they rejoin, without a
// token (the API key's role).
func (c *Client) SetAuth(ctx context.Context, token string) error {
	select {
	case <-c.sock.Stopping():
		return ErrClosed
	default:
	}
	c.tok.set(token)
	c.sec.addToken(token)
	return c.distributeToken(ctx, token)
}

// distributeToken sends token in an access_token push to every joined
// channel whose join or last push carried another one; the first error is
// returned once every channel was tried. SetAuth and the token provider's
// refreshes (refreshToken) both use it.
func (c *Client) distributeToken(ctx context.Context, token string) error {
	var payload []byte
	var first error
	for _, ch := range c.reg.live() {
		if !ch.takeToken(token) {
			continue
		}
		if payload == nil {
			var err error
			if payload, err = tokenPayload(token); err != nil {
				return err
			}
		}
		if err := ch.pushToken(ctx, payload); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// tokenPayload is the access_token push payload; an empty token is sent
// as null, which the server ignores (as realtime-js's setAuth(null)).
func tokenPayload(token string) ([]byte, error) {
	if token == "" {
		return []byte(`{"access_token":null}`), nil
	}
	return json.Marshal(struct {
		AccessToken string `json:"access_token"`
	}{token})
}
