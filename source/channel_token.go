package source

import (
	"context"
	"encoding/json"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A joined channel's access token: it is pushed (access_token) when it changes.

// takeToken reports whether the joined channel must be sent token (it
// holds another one), and records that it has it. Decided under ch.mu, as
// the join reply does, so a token goes out once.
func (ch *Channel) takeToken(token string) bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.state != stJoined || ch.joinToken == token {
		return false
	}
	ch.joinToken = token
	return true
}

// sendToken pushes an access_token refresh to the joined channel. The
// server replies to none.
func (ch *Channel) sendToken(token string) {
	payload, err := tokenPayload(token)
	if err != nil {
		return
	}
	if err := ch.pushToken(context.Background(), payload); err != nil {
		ch.ev.reportAs(ErrorKindToken, err) // the next rejoin carries the token anyway
	}
}

// pushToken pushes an access_token payload under the current join.
func (ch *Channel) pushToken(ctx context.Context, payload []byte) error {
	m := &phoenix.Message{JoinRef: ch.currentJoinRef(), Topic: ch.topic, Event: phoenix.EventAccessToken, Payload: payload}
	_, err := ch.wire.Push(ctx, m, socket.PushOptions{NoReply: true})
	return err
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
