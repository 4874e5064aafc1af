package realtimetest

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dialJWT connects with a valid apikey to a server with a secret.
func dialJWT(t *testing.T, s *Server, vsn string) *client {
	t.Helper()
	return dialURL(t, wsURL(s, vsn, s.Token("anon", time.Hour)), vsn)
}

func joinWithToken(token string) string {
	b, _ := json.Marshal(map[string]any{"config": map[string]any{"postgres_changes": []any{
		map[string]any{"event": "*", "schema": "public"}}}, "access_token": token})
	return string(b)
}

func TestJoinTokenErrors(t *testing.T) {
	s := newServer(t, WithJWTSecret(string(testSecret)))
	c := dialJWT(t, s, "2.0.0")
	expired := mustSign(t, map[string]any{"role": "authenticated", "exp": time.Now().Unix() - 10})
	jr := c.join("realtime:r", joinWithToken(expired))
	m := c.nextMsg()
	assert.Equal(t, jr, m.Ref)
	assert.Regexp(t, `^\{"status":"error","response":\{"reason":"InvalidJWTToken: Token has expired 1[01] seconds ago"\}\}$`, string(m.Payload))

	for token, reason := range map[string]string{
		mustSign(t, map[string]any{"exp": time.Now().Unix() + 60}): "InvalidJWTToken: Fields `role` and `exp` are required in JWT",
		"nope": "MalformedJWT: The token provided is not a valid JWT",
		tamperSignature(mustSign(t, map[string]any{"role": "a", "exp": 99999999999})): "JwtSignatureError: Failed to validate JWT signature",
	} {
		jr := c.join("realtime:r", joinWithToken(token))
		want, _ := json.Marshal(reason)
		c.expect(`["` + jr + `","` + jr + `","realtime:r","phx_reply",{"status":"error","response":{"reason":` + string(want) + `}}]`)
	}
	// An sb_ key falls back to the socket's (valid) apikey.
	jr = c.join("realtime:r", joinWithToken("sb_publishable_abc"))
	assert.Contains(t, c.nextText(), `"status":"ok"`)
	c.nextText()
}

func TestAccessTokenRefresh(t *testing.T) {
	s := newServer(t, WithJWTSecret(string(testSecret)))
	c := dialJWT(t, s, "2.0.0")
	jr := c.join("realtime:r", joinWithToken(s.Token("authenticated", time.Hour)))
	c.nextText()
	c.nextText()

	// A new valid token: no reply, and a new "Subscribed to PostgreSQL".
	c.push(jr, "realtime:r", "access_token", `{"access_token":"`+s.Token("authenticated", 2*time.Hour)+`"}`)
	c.expect(`["` + jr + `",null,"realtime:r","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"r"}]`)
	// Ignored: sb_ keys, null, non-strings, a missing key.
	for _, p := range []string{`{"access_token":"sb_secret_x"}`, `{"access_token":null}`, `{"access_token":5}`, `{}`} {
		c.push(jr, "realtime:r", "access_token", p)
	}
	c.expectNone()

	// An expired token shuts the channel down; the socket stays.
	expired := mustSign(t, map[string]any{"role": "authenticated", "exp": time.Now().Unix() - 3})
	c.push(jr, "realtime:r", "access_token", `{"access_token":"`+expired+`"}`)
	m := c.nextMsg()
	assert.Equal(t, jr, m.JoinRef)
	assert.Empty(t, m.Ref)
	assert.Equal(t, "system", m.Event)
	assert.Regexp(t, `^\{"extension":"system","status":"error","message":"Token has expired [34] seconds ago","channel":"r"\}$`, string(m.Payload))
	c.expect(`["` + jr + `","` + jr + `","realtime:r","phx_close",{}]`)
	c.expectNone()
	require.Len(t, s.Clients(), 1)
	assert.Empty(t, s.Clients()[0].Channels)
}

func TestAccessTokenRefreshWithGarbage(t *testing.T) {
	s := newServer(t, WithJWTSecret(string(testSecret)))
	c := dialJWT(t, s, "1.0.0")
	c.sendText(`{"topic":"realtime:r","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}`)
	c.nextText()
	c.sendText(`{"topic":"realtime:r","event":"access_token","payload":{"access_token":""},"ref":"2","join_ref":"1"}`)
	c.expect(`{"topic":"realtime:r","event":"system","payload":{"extension":"system","status":"error","message":"The token provided is not a valid JWT","channel":"r"},"ref":null}`)
	c.expect(`{"topic":"realtime:r","event":"phx_close","payload":{},"ref":"1"}`)
}

func TestTokenExpiryShutsTheChannelDown(t *testing.T) {
	s := newServer(t, WithJWTSecret(string(testSecret)))
	c := dialJWT(t, s, "2.0.0")
	short := mustSign(t, map[string]any{"role": "authenticated", "exp": time.Now().Unix() + 1})
	jr := c.join("realtime:r", `{"config":{},"access_token":"`+short+`"}`)
	assert.Contains(t, c.nextText(), `"status":"ok"`)
	// Within about a second the periodic check finds the token expired.
	m := c.nextMsg()
	assert.Equal(t, "system", m.Event)
	assert.Regexp(t, regexp.MustCompile(`"message":"Token has expired [0-9] seconds ago"`), string(m.Payload))
	c.expect(`["` + jr + `","` + jr + `","realtime:r","phx_close",{}]`)
}

func TestWithoutSecretTokensAreNotChecked(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	jr := c.joinOK("realtime:r", `{"config":{},"access_token":"not-a-jwt"}`)
	c.push(jr, "realtime:r", "access_token", `{"access_token":"another"}`)
	c.expectNone()
	assert.Len(t, s.Clients()[0].Channels, 1)
}
