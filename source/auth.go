package source

import (
	"context"
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
	return c.reg.distributeToken(ctx, token)
}
