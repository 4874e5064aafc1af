package source

import (
	"fmt"
	"net/url"

	"github.com/rxrealtime/rxrealtime/source/rest"
	"github.com/rxrealtime/rxrealtime/transport"
)

// SocketEndpoint is the WebSocket endpoint [New] dials for rawURL, before
// the client adds its query parameters (apikey, log_level, vsn): the
// input's own query is kept. rawURL is read by [rest.ParseEndpoint]:
//
//   - ws:// and wss:// URLs are socket endpoints, used as given with
//     "/websocket" appended (ws://127.0.0.1:4000/socket ->
//     ws://127.0.0.1:4000/socket/websocket; wss://<ref>.supabase.co/realtime/v1
//     -> wss://<ref>.supabase.co/realtime/v1/websocket);
//   - an http:// or https:// URL whose path ends in /realtime/v1, /socket
//     or /websocket is the same endpoint with http -> ws;
//   - any other http:// or https:// URL is a Supabase project URL, resolved
//     as supabase-js does: https://<ref>.supabase.co, http://localhost:54321
//     and https://host/prefix/ give wss://<ref>.supabase.co/realtime/v1/websocket,
//     ws://localhost:54321/realtime/v1/websocket and
//     wss://host/prefix/realtime/v1/websocket.
//
// Anything else is an error wrapping [ErrInvalidURL] and a
// [*rest.URLError] that names the URL (without its query) and what was
// not understood.
func SocketEndpoint(rawURL string) (string, error) {
	ep, err := parseEndpoint(rawURL)
	return ep.Socket, err
}

// RESTEndpoint is the base of the Realtime REST API for rawURL, read as
// [SocketEndpoint] reads it: http(s)://…/realtime/v1/api for a project URL
// or a Realtime root, http(s)://host/api for a socket endpoint such as
// ws://host/socket (as realtime-js's httpEndpointURL). It has no query or
// user info. Broadcasts are POSTed to RESTEndpoint + "/broadcast";
// [rest.New] accepts the same rawURL.
func RESTEndpoint(rawURL string) (string, error) {
	ep, err := parseEndpoint(rawURL)
	return ep.API, err
}

func parseEndpoint(rawURL string) (rest.Endpoint, error) {
	ep, err := rest.ParseEndpoint(rawURL)
	if err != nil {
		return rest.Endpoint{}, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	return ep, nil
}

// endpointURL builds the socket URL the way realtime-js does: the
// endpoint is [SocketEndpoint] (a project URL resolved to its
// /realtime/v1/websocket, a socket endpoint with "/websocket" appended),
// then come apikey, the user's params, log_level, and vsn last.
func endpointURL(raw string, cfg *config) (string, error) {
	ep, err := parseEndpoint(raw)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(ep.Socket)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrInvalidURL, redactErr(err))
	}
	var kv []string
	if cfg.apiKey != "" && !cfg.apiKeyHeader {
		kv = append(kv, "apikey", cfg.apiKey)
	}
	for _, p := range cfg.params {
		kv = append(kv, p[0], p[1])
	}
	if cfg.logLevel != "" {
		kv = append(kv, "log_level", cfg.logLevel)
	}
	kv = append(kv, "vsn", cfg.serializer.Version())
	u.RawQuery = transport.AppendQuery(u.RawQuery, kv...)
	return u.String(), nil
}

// redactErr returns err's text with any URL query stripped: url.Parse
// errors quote the whole input.
func redactErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Op + " " + transport.RedactURL(ue.URL) + ": " + ue.Err.Error()
	}
	return err.Error()
}
