package transport

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server that echoes the request's credentials in its rejection (issue 18, item 5): the API key in
// the query and in a header, and a bearer token, never reach the error, its fields or its text.
func TestHandshakeErrorRedactsEchoedSecrets(t *testing.T) {
	const bearer = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw"
	srv := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		key := r.URL.Query().Get("apikey")
		_, _ = w.Write([]byte(`{"error":"invalid key ` + key + ` (header ` + r.Header.Get("x-api-key") +
			`), auth ` + r.Header.Get("Authorization") + `","message":"` + key + `"}`))
	})
	_, err := Dial(testCtx(t), "ws"+strings.TrimPrefix(srv, "http")+"/socket?apikey="+secret,
		WithHeader("x-api-key", secret), WithHeader("Authorization", "Bearer "+bearer))
	var he *HandshakeError
	require.ErrorAs(t, err, &he)
	for name, text := range map[string]string{"Error()": err.Error(), "Message": he.Message, "Body": string(he.Body)} {
		assert.NotContains(t, text, secret, name)
		assert.NotContains(t, text, bearer, name)
		assert.NotContains(t, text, "eyJ", name)
	}
	assert.Contains(t, he.Message, "invalid key "+Redacted, "the explanation stays, without the key")
	assert.Contains(t, string(he.Body), `"message":"`+Redacted+`"`, "the body stays JSON")
}

func TestRedact(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.sig_-123"
	cases := []struct{ in, want string }{
		{"key sk_live_0123456789 refused", "key " + Redacted + " refused"},
		{"short ab12 stays", "short ab12 stays"},
		{"token " + jwt + ", again " + jwt + ".", "token " + Redacted + ", again " + Redacted + "."},
		{"not a jwt: eyJonly.onedot", "not a jwt: eyJonly.onedot"},
		{"inside a word xeyJa.b.c stays", "inside a word xeyJa.b.c stays"},
		{`{"reason":"` + jwt + `"}`, `{"reason":"` + Redacted + `"}`},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, Redact(tc.in, "sk_live_0123456789", "ab12"), tc.in)
		assert.Equal(t, tc.want, string(RedactBytes([]byte(tc.in), "sk_live_0123456789", "ab12")), tc.in)
	}
	clean := []byte("nothing to hide")
	assert.Same(t, &clean[0], &RedactBytes(clean, "sk_live_0123456789")[0], "no copy when nothing is removed")
}

func TestExcerpt(t *testing.T) {
	assert.Equal(t, "short", Excerpt("short", 10))
	assert.Equal(t, "abc…", Excerpt("abcdef", 3))
	assert.Equal(t, "é…", Excerpt("éé", 3), "cut at a rune boundary")
}

// A peer's close reason that echoes the API key loses it (the reason is printed by CloseError.Error and
// logged by clients).
func TestCloseReasonRedactsEchoedSecrets(t *testing.T) {
	srv := newWSServer(t, func(c *Conn, r *http.Request) {
		_ = c.Close(StatusPolicyViolation, "bad key "+r.URL.Query().Get("apikey"))
	})
	c := dialT(t, srv.wsURL()+"/socket?apikey="+secret)
	_, _, err := c.ReadFrame()
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, StatusPolicyViolation, ce.Code)
	assert.Equal(t, "bad key "+Redacted, ce.Reason)
	assert.NotContains(t, err.Error(), secret)
}

// WithSecrets adds what the request did not carry (an access token handed out in joins) to what is
// removed from the peer's texts; it is asked when a text arrives.
func TestWithSecretsRedactsMore(t *testing.T) {
	const token = "opaque-access-token-0123456789"
	srv := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"token ` + token + ` is not valid"}`))
	})
	_, err := Dial(testCtx(t), "ws"+strings.TrimPrefix(srv, "http")+"/socket", WithSecrets(func() []string { return []string{token} }))
	var he *HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "token "+Redacted+" is not valid", he.Message)
	assert.NotContains(t, string(he.Body), token)

	var given []string
	ws := newWSServer(t, func(c *Conn, r *http.Request) { _ = c.Close(StatusPolicyViolation, "bad "+token) })
	c := dialT(t, ws.wsURL()+"/socket", WithSecrets(func() []string { return given }))
	given = []string{token} // handed out after the dial
	_, _, err = c.ReadFrame()
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "bad "+Redacted, ce.Reason)
}
