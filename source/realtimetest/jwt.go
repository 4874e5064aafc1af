package realtimetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// SignJWT returns a compact HS256 JSON Web Token carrying claims, signed with
// secret. It is a helper for tests: give the same secret to [WithJWTSecret]
// and the server accepts the token. Supabase Realtime requires the "role" and
// "exp" (Unix seconds) claims; SignJWT does not add them.
func SignJWT(secret []byte, claims map[string]any) (string, error) {
	if len(secret) == 0 {
		return "", fmt.Errorf("%w: empty secret", ErrSign)
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSign, err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

// tokenErrKind classifies why a token was refused, the way the real server's
// JwtVerification / ChannelsAuthorization modules do.
type tokenErrKind uint8

const (
	tokMissing       tokenErrKind = iota + 1 // no token / not a string
	tokMalformed                             // not three base64url JSON parts
	tokSigner                                // algorithm without a key (RS*, ES*, none, ...)
	tokSignature                             // HMAC mismatch
	tokExpired                               // exp <= now
	tokMissingClaims                         // role or exp absent
	tokInvalid                               // anything else (bad iat, non-object claims, ...)
)

// tokenError is the internal verdict on a refused token. It never holds the
// token itself.
type tokenError struct {
	kind tokenErrKind
	// ago is how many seconds ago an expired token expired.
	ago int64
	// atom is the Elixir atom the real server would inspect() for tokInvalid.
	atom string
}

func (e *tokenError) Error() string {
	switch e.kind {
	case tokMissing:
		return "API key is missing"
	case tokMalformed:
		return msgMalformedJWT
	case tokSigner:
		return msgSignerError
	case tokSignature:
		return "Failed to validate JWT signature"
	case tokExpired:
		return fmt.Sprintf("Token has expired %d seconds ago", e.ago)
	case tokMissingClaims:
		return msgMissingClaims
	}
	return "invalid token"
}

const (
	msgMalformedJWT  = "The token provided is not a valid JWT"
	msgMissingClaims = "Fields `role` and `exp` are required in JWT"
	msgSignerError   = "Failed to generate JWT signer, check your JWT secret or JWKS configuration"
)

// handshakeStatus maps a refused token to the HTTP status and {"error": ...}
// text of RealtimeWeb.UserSocket.handle_error/2.
func (e *tokenError) handshakeStatus() (int, string) {
	switch e.kind {
	case tokMissing:
		return 401, "API key is missing"
	case tokExpired:
		return 401, "Token has expired"
	case tokMissingClaims:
		return 401, msgMissingClaims
	case tokMalformed:
		return 401, msgMalformedJWT
	case tokSignature:
		return 401, "Failed to validate JWT signature"
	case tokSigner:
		return 401, msgSignerError
	}
	return 500, "Error connecting to Realtime"
}

// joinReason maps a refused token to the "<Code>: <message>" reason of a join
// error reply (RealtimeChannel.join/3).
func (e *tokenError) joinReason() string {
	switch e.kind {
	case tokExpired:
		return "InvalidJWTToken: " + e.Error()
	case tokMissingClaims:
		return "InvalidJWTToken: " + msgMissingClaims
	case tokMalformed:
		return "MalformedJWT: " + msgMalformedJWT
	case tokSignature:
		return "JwtSignatureError: Failed to validate JWT signature"
	case tokSigner:
		return "JwtSignerError: " + msgSignerError
	}
	return "Unknown Error on Channel"
}

// shutdownMessage maps a refused token to the message of the system error
// pushed before a channel is shut down (access_token refresh, expiry check).
func (e *tokenError) shutdownMessage() string {
	switch e.kind {
	case tokExpired, tokMissingClaims, tokMalformed:
		return e.Error()
	case tokSignature:
		return ":signature_error"
	case tokSigner:
		return ":error_generating_signer"
	}
	if e.atom != "" {
		return ":" + e.atom
	}
	return ":invalid_token"
}

// claims is what the server keeps of a verified token.
type claims struct {
	role string
	exp  int64 // Unix seconds, rounded like the real server does
}

// cleanToken URI-decodes the token and removes all whitespace, as
// ChannelsAuthorization.clean_token/1 does.
func cleanToken(tok string) string {
	if dec, err := url.PathUnescape(tok); err == nil {
		tok = dec
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, tok)
}

// verifyToken checks tok against secret as the real server does for HS256,
// HS384 and HS512 (JWKS is not supported: every other algorithm fails with a
// signer error), then checks exp, iat and the required role and exp claims.
func verifyToken(tok string, secret []byte, now time.Time) (claims, *tokenError) {
	tok = cleanToken(tok)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return claims{}, &tokenError{kind: tokMalformed}
	}
	payload, err := decodeSegment(parts[1])
	if err != nil {
		return claims{}, &tokenError{kind: tokMalformed}
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(payload, &body); err != nil {
		if json.Valid(payload) {
			return claims{}, &tokenError{kind: tokInvalid, atom: "expected_claims_map"}
		}
		return claims{}, &tokenError{kind: tokMalformed}
	}
	if body == nil {
		return claims{}, &tokenError{kind: tokInvalid, atom: "expected_claims_map"}
	}
	headerRaw, err := decodeSegment(parts[0])
	if err != nil {
		return claims{}, &tokenError{kind: tokInvalid, atom: "expected_header_map"}
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(headerRaw, &header); err != nil || !bytes.HasPrefix(bytes.TrimSpace(headerRaw), []byte("{")) {
		return claims{}, &tokenError{kind: tokInvalid, atom: "expected_header_map"}
	}
	var h func() hash.Hash
	switch header.Alg {
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		return claims{}, &tokenError{kind: tokSigner}
	}
	sig, err := decodeSegment(parts[2])
	if err != nil {
		return claims{}, &tokenError{kind: tokSignature}
	}
	mac := hmac.New(h, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return claims{}, &tokenError{kind: tokSignature}
	}

	var c claims
	nowSec := now.Unix()
	if raw, ok := body["exp"]; ok {
		exp, isNum, isInt := jsonNumber(raw)
		if !isNum {
			return claims{}, &tokenError{kind: tokInvalid, atom: "invalid_exp"}
		}
		if exp <= float64(nowSec) {
			if !isInt {
				return claims{}, &tokenError{kind: tokInvalid, atom: "invalid_exp"}
			}
			return claims{}, &tokenError{kind: tokExpired, ago: nowSec - int64(exp)}
		}
		c.exp = int64(math.Round(exp))
	}
	if raw, ok := body["iat"]; ok {
		if _, isNum, _ := jsonNumber(raw); !isNum {
			return claims{}, &tokenError{kind: tokInvalid, atom: "invalid_iat"}
		}
	}
	roleRaw, hasRole := body["role"]
	if _, hasExp := body["exp"]; !hasRole || !hasExp {
		return claims{}, &tokenError{kind: tokMissingClaims}
	}
	_ = json.Unmarshal(roleRaw, &c.role)
	return c, nil
}

// decodeSegment decodes base64url with or without padding.
func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// jsonNumber reports whether raw is a JSON number, its value, and whether it
// is integral.
func jsonNumber(raw json.RawMessage) (v float64, isNum, isInt bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false, false
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false, false
	}
	return v, true, !bytes.ContainsAny(raw, ".eE")
}
