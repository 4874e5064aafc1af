package realtimetest

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testSecret = []byte("super-secret-jwt-token-with-at-least-32-characters-long")

func mustSign(t *testing.T, claims map[string]any) string {
	t.Helper()
	tok, err := SignJWT(testSecret, claims)
	require.NoError(t, err)
	return tok
}

// rawJWT builds a token from a header and claims JSON, signed with HS512
// when alg says so, else HS256-signed bytes regardless of alg.
func rawJWT(header, claims string, secret []byte) string {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	mac := hmac.New(sha512.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

func TestVerifyTokenAcceptsValidHS256(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tok := mustSign(t, map[string]any{"role": "authenticated", "exp": now.Unix() + 60, "sub": "u1"})
	c, terr := verifyToken(tok, testSecret, now)
	require.Nil(t, terr)
	assert.Equal(t, "authenticated", c.role)
	assert.Equal(t, now.Unix()+60, c.exp)
}

func TestVerifyTokenAcceptsHS512(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tok := rawJWT(`{"alg":"HS512","typ":"JWT"}`, `{"role":"anon","exp":1700000100}`, testSecret)
	_, terr := verifyToken(tok, testSecret, now)
	assert.Nil(t, terr)
}

func TestVerifyTokenCleansWhitespaceAndPercentEncoding(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tok := mustSign(t, map[string]any{"role": "anon", "exp": now.Unix() + 60})
	messy := " " + tok[:10] + "\n" + tok[10:20] + "%20" + tok[20:] + "\t"
	_, terr := verifyToken(messy, testSecret, now)
	assert.Nil(t, terr)
}

func TestVerifyTokenRejections(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name      string
		token     string
		kind      tokenErrKind
		handshake string
		status    int
		join      string
		shutdown  string
	}{
		{"expired", mustSign(t, map[string]any{"role": "anon", "exp": now.Unix() - 42}), tokExpired,
			"Token has expired", 401, "InvalidJWTToken: Token has expired 42 seconds ago", "Token has expired 42 seconds ago"},
		{"expires now", mustSign(t, map[string]any{"role": "anon", "exp": now.Unix()}), tokExpired,
			"Token has expired", 401, "InvalidJWTToken: Token has expired 0 seconds ago", "Token has expired 0 seconds ago"},
		{"no role", mustSign(t, map[string]any{"exp": now.Unix() + 60}), tokMissingClaims,
			"Fields `role` and `exp` are required in JWT", 401, "InvalidJWTToken: Fields `role` and `exp` are required in JWT",
			"Fields `role` and `exp` are required in JWT"},
		{"no exp", mustSign(t, map[string]any{"role": "anon"}), tokMissingClaims,
			"Fields `role` and `exp` are required in JWT", 401, "InvalidJWTToken: Fields `role` and `exp` are required in JWT",
			"Fields `role` and `exp` are required in JWT"},
		{"empty", "", tokMalformed, "The token provided is not a valid JWT", 401,
			"MalformedJWT: The token provided is not a valid JWT", "The token provided is not a valid JWT"},
		{"two parts", "abc.def", tokMalformed, "The token provided is not a valid JWT", 401,
			"MalformedJWT: The token provided is not a valid JWT", "The token provided is not a valid JWT"},
		{"claims not base64", "eyJhbGciOiJIUzI1NiJ9.!!!.sig", tokMalformed, "The token provided is not a valid JWT", 401,
			"MalformedJWT: The token provided is not a valid JWT", "The token provided is not a valid JWT"},
		{"bad signature", tamperSignature(mustSign(t, map[string]any{"role": "anon", "exp": now.Unix() + 60})), tokSignature,
			"Failed to validate JWT signature", 401, "JwtSignatureError: Failed to validate JWT signature", ":signature_error"},
		{"wrong secret", func() string {
			tok, _ := SignJWT([]byte("other"), map[string]any{"role": "anon", "exp": now.Unix() + 60})
			return tok
		}(), tokSignature, "Failed to validate JWT signature", 401, "JwtSignatureError: Failed to validate JWT signature", ":signature_error"},
		{"RS256 without JWKS", rawJWT(`{"alg":"RS256"}`, `{"role":"anon","exp":1700000100}`, testSecret), tokSigner,
			"Failed to generate JWT signer, check your JWT secret or JWKS configuration", 401,
			"JwtSignerError: Failed to generate JWT signer, check your JWT secret or JWKS configuration", ":error_generating_signer"},
		{"alg none", rawJWT(`{"alg":"none"}`, `{"role":"anon","exp":1700000100}`, testSecret), tokSigner,
			"Failed to generate JWT signer, check your JWT secret or JWKS configuration", 401,
			"JwtSignerError: Failed to generate JWT signer, check your JWT secret or JWKS configuration", ":error_generating_signer"},
		{"exp not a number", mustSign(t, map[string]any{"role": "anon", "exp": "soon"}), tokInvalid,
			"Error connecting to Realtime", 500, "Unknown Error on Channel", ":invalid_exp"},
		{"iat not a number", mustSign(t, map[string]any{"role": "anon", "exp": now.Unix() + 60, "iat": "x"}), tokInvalid,
			"Error connecting to Realtime", 500, "Unknown Error on Channel", ":invalid_iat"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, terr := verifyToken(tc.token, testSecret, now)
			require.NotNil(t, terr)
			assert.Equal(t, tc.kind, terr.kind)
			status, msg := terr.handshakeStatus()
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.handshake, msg)
			assert.Equal(t, tc.join, terr.joinReason())
			assert.Equal(t, tc.shutdown, terr.shutdownMessage())
			if len(tc.token) > 8 {
				assert.NotContains(t, terr.Error(), tc.token[5:], "errors never carry the token")
			}
		})
	}
}

// tamperSignature changes the first character of the signature part.
func tamperSignature(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 1
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

func TestSignJWTRejectsEmptySecretAndBadClaims(t *testing.T) {
	_, err := SignJWT(nil, map[string]any{"role": "anon"})
	assert.ErrorIs(t, err, ErrSign)
	_, err = SignJWT(testSecret, map[string]any{"bad": make(chan int)})
	assert.ErrorIs(t, err, ErrSign)
}

func TestSignJWTShape(t *testing.T) {
	tok := mustSign(t, map[string]any{"role": "anon", "exp": 1})
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"alg":"HS256","typ":"JWT"}`, string(hdr))
}
