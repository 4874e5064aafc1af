package transport

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Redacted replaces a secret that [Redact] removed.
const Redacted = "[redacted]"

// minSecret is the shortest string Redact treats as a secret: shorter ones
// (a vsn, a log level) would match ordinary text.
const minSecret = 8

// Redact returns text from the server with every secret removed: each of
// secrets (an API key, access tokens, credentials the request carried) at
// least 8 bytes long, and anything shaped like a JWT (three base64url parts
// starting "eyJ", whoever's it is), each replaced with [Redacted]. Text
// from the server — a rejected handshake's body, a join refusal's reason, a
// system message, an error reply — may echo what the client sent; pass it
// through Redact before it becomes part of an error or a log line.
func Redact(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= minSecret && strings.Contains(text, s) {
			text = strings.ReplaceAll(text, s, Redacted)
		}
	}
	if !strings.Contains(text, jwtStart) {
		return text
	}
	return string(redactJWTs([]byte(text)))
}

// RedactBytes is [Redact] for raw bytes (a response body, a reply's JSON);
// it returns b itself when there is nothing to remove. Secrets and JWTs are
// base64url or printable text, so JSON stays valid when they are replaced
// inside its strings.
func RedactBytes(b []byte, secrets ...string) []byte {
	out := b
	for _, s := range secrets {
		if len(s) >= minSecret && bytes.Contains(out, []byte(s)) {
			out = bytes.ReplaceAll(out, []byte(s), []byte(Redacted))
		}
	}
	if !bytes.Contains(out, []byte(jwtStart)) {
		return out
	}
	return redactJWTs(out)
}

// jwtStart begins every JWT: the base64url of `{"`.
const jwtStart = "eyJ"

// redactJWTs replaces every run of base64url characters and dots that
// starts with "eyJ" and holds two dots (header.payload.signature). It
// returns a new slice.
func redactJWTs(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i+len(jwtStart) <= len(b); {
		j := bytes.Index(b[i:], []byte(jwtStart))
		if j < 0 {
			break
		}
		start := i + j
		if start > 0 && isBase64URL(b[start-1]) {
			i = start + 1 // inside a longer word
			continue
		}
		end, dots := start, 0
		for end < len(b) && (isBase64URL(b[end]) || b[end] == '.') {
			if b[end] == '.' {
				dots++
			}
			end++
		}
		for end > start && b[end-1] == '.' { // a sentence's full stop ends no JWT
			end--
			dots--
		}
		if dots >= 2 {
			out = append(out, b[last:start]...)
			out = append(out, Redacted...)
			last = end
		}
		i = end
	}
	if out == nil {
		return append([]byte(nil), b...)
	}
	return append(out, b[last:]...)
}

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// Excerpt returns s cut to at most n bytes, at a rune boundary, with "…"
// appended when it was cut: the form in which an error's Error method
// prints a long text from the server (the text itself stays whole in the
// error's fields).
func Excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
