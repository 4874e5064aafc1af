package source

import (
	"context"
	"encoding/json"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// SetAuth sets the access token: later joins and rejoins carry it, and
// every joined channel is sent an access_token push now (the server
// replies to none; it closes the channel if the token is invalid). An
// unchanged token sends nothing. A channel whose join is in flight gets
// the token right after its join succeeds. With a token provider
// (WithAccessToken), the provider is still asked before each reconnect and
// rejoin; SetAuth's token is used until then. SetAuth("") (signing out)
// sends a null token, which the server ignores: joined channels keep their
// role until they rejoin, without a token (the API key's role).
func (c *Client) SetAuth(ctx context.Context, token string) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	changed := c.token != token
	c.token = token
	chans := make([]*Channel, 0, len(c.channels))
	for _, ch := range c.channels {
		chans = append(chans, ch)
	}
	c.mu.Unlock()
	if !changed {
		return nil
	}
	payload, err := tokenPayload(token)
	if err != nil {
		return err
	}
	for _, ch := range chans {
		ch.mu.Lock()
		send := ch.state == stJoined && ch.joinToken != token
		if send {
			ch.joinToken = token // the channel has it now
		}
		ch.mu.Unlock()
		if !send {
			continue
		}
		m := &phoenix.Message{JoinRef: ch.currentJoinRef(), Topic: ch.topic, Event: phoenix.EventAccessToken, Payload: payload}
		if _, err := c.push(ctx, m, noReply); err != nil {
			return err
		}
	}
	return nil
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
