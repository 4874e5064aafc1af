package source

import (
	"net/http"
	"strings"
	"sync"

	"github.com/rxrealtime/rxrealtime/transport"
)

// Text from the server — a join refusal's reason, an error reply, a system message, a close reason — may
// echo what the client sent. Before such text becomes part of an error or a log line it passes through
// secrets.redact, which removes the client's API key, its credential headers and the access tokens it has
// handed out (the current one and the last few), and anything shaped like a JWT (transport.Redact). An
// error keeps the whole redacted text in its fields; its Error method prints at most maxServerText bytes
// of it.

// maxServerText bounds what an error's text prints of a text from the server.
const maxServerText = 200

// recentTokens is how many of the last access tokens are remembered: a server may echo a token the client
// replaced a moment ago.
const recentTokens = 8

// secrets are what the client sends that a server may echo. Safe for concurrent use.
type secrets struct {
	mu     sync.Mutex
	fixed  []string // the API key and credential header values
	tokens [recentTokens]string
	next   int
}

// init records the configuration's secrets: the API key and the values of credential headers.
func (s *secrets) init(apiKey string, headers [][2]string) {
	s.fixed = append(s.fixed, apiKey)
	for _, h := range headers {
		switch http.CanonicalHeaderKey(h[0]) {
		case "Authorization", "Apikey", "X-Api-Key", "Cookie":
			s.fixed = append(s.fixed, h[1])
			if _, cred, ok := strings.Cut(h[1], " "); ok {
				s.fixed = append(s.fixed, cred)
			}
		}
	}
}

// addToken remembers an access token the client hands out (a join or an access_token push carries it).
func (s *secrets) addToken(tok string) {
	if tok == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if t == tok {
			return
		}
	}
	s.tokens[s.next] = tok
	s.next = (s.next + 1) % recentTokens
}

func (s *secrets) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.fixed)+recentTokens)
	out = append(out, s.fixed...)
	for _, t := range s.tokens {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

// redact removes the secrets from text from the server.
func (s *secrets) redact(text string) string { return transport.Redact(text, s.list()...) }

// redactBytes removes the secrets from raw bytes from the server (a reply's response).
func (s *secrets) redactBytes(b []byte) []byte { return transport.RedactBytes(b, s.list()...) }

// excerpt is how an error's text prints a text from the server: at most maxServerText bytes.
func excerpt(s string) string { return transport.Excerpt(s, maxServerText) }
