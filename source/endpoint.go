package source

import (
	"fmt"
	"net/url"
	"strings"
)

// endpointURL builds the socket URL the way realtime-js does: the endpoint
// gets "/websocket" appended (unless it already ends with it), http(s)
// becomes ws(s), then come apikey, the user's params, log_level, and vsn
// last.
func endpointURL(raw string, cfg *config) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrInvalidURL, redactErr(err))
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("%w: scheme %q (want ws, wss, http or https)", ErrInvalidURL, u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%w: no host", ErrInvalidURL)
	}
	if !strings.HasSuffix(u.Path, "/websocket") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/websocket"
	}
	var b strings.Builder
	q := u.RawQuery
	b.WriteString(q)
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	if cfg.apiKey != "" && !cfg.apiKeyHeader {
		add("apikey", cfg.apiKey)
	}
	for _, p := range cfg.params {
		add(p[0], p[1])
	}
	if cfg.logLevel != "" {
		add("log_level", cfg.logLevel)
	}
	add("vsn", cfg.serializer.Version())
	u.RawQuery = b.String()
	return u.String(), nil
}

// redactURL drops the query string and user info, which may carry keys.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid url>"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// redactErr returns err's text with any URL query stripped: url.Parse
// errors quote the whole input.
func redactErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Op + " " + redactURL(ue.URL) + ": " + ue.Err.Error()
	}
	return err.Error()
}
