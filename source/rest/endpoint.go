package rest

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Form says how [ParseEndpoint] read a URL.
type Form int

const (
	// FormSocket is a WebSocket endpoint given as is: any ws:// or wss://
	// URL (for example ws://127.0.0.1:4000/socket), or an http(s) URL
	// whose path ends in /socket or /websocket.
	FormSocket Form = iota + 1
	// FormProject is a Supabase project URL: an http:// or https:// URL
	// with any other path, such as https://<ref>.supabase.co,
	// http://localhost:54321 or https://host/prefix/. Realtime is at
	// <path>/realtime/v1, as supabase-js resolves it.
	FormProject
	// FormRealtime is a URL whose path ends in /realtime/v1 (or
	// /realtime/v1/websocket), with any scheme: the Realtime root of a
	// project, given explicitly.
	FormRealtime
)

// String returns the name.
func (f Form) String() string {
	switch f {
	case FormSocket:
		return "socket endpoint"
	case FormProject:
		return "project URL"
	case FormRealtime:
		return "realtime URL"
	}
	return fmt.Sprintf("Form(%d)", int(f))
}

// Endpoint is where a Realtime server listens, worked out from one URL by
// [ParseEndpoint].
type Endpoint struct {
	// Form is how the URL was read.
	Form Form
	// Socket is the WebSocket endpoint, ws(s)://…/websocket, keeping the
	// input's query (it may hold the API key: do not log it). The client
	// appends its own parameters (apikey, vsn...) to it.
	Socket string
	// API is the base of the REST API, http(s)://…/api, without query or
	// user info: broadcasts go to API + "/broadcast".
	API string
}

// socketSuffix matches the WebSocket endpoint's path, as realtime-js's
// httpEndpointURL strips it.
var socketSuffix = regexp.MustCompile(`(?i)(/socket/websocket|/socket|/websocket)/?$`)

// otherServices are the paths of the other Supabase services: a project
// URL with one of them pasted from the dashboard is refused, not resolved
// to <service>/realtime/v1.
var otherServices = []string{"/rest/v1", "/auth/v1", "/storage/v1", "/functions/v1", "/graphql/v1"}

// ParseEndpoint reads rawURL, a Supabase project URL or a Realtime
// endpoint, and returns the WebSocket endpoint and the REST API base. The
// rule:
//
//   - ws:// and wss:// URLs are socket endpoints, used as given: /websocket
//     is appended unless the path already ends with it
//     (ws://127.0.0.1:4000/socket -> ws://127.0.0.1:4000/socket/websocket).
//   - A path ending in /realtime/v1 (or /realtime/v1/websocket), with any
//     scheme, is the Realtime root: the socket is <root>/websocket.
//   - An http:// or https:// URL whose path ends in /socket or /websocket
//     is a socket endpoint given with an HTTP scheme (http becomes ws).
//   - Any other http:// or https:// URL is a project URL, resolved as
//     supabase-js does (new URL("realtime/v1", url + "/") with http->ws):
//     https://<ref>.supabase.co, https://<ref>.supabase.co/ and
//     http://localhost:54321 become wss://<ref>.supabase.co/realtime/v1/websocket
//     and ws://localhost:54321/realtime/v1/websocket; a path is kept as a
//     prefix (https://host/base -> wss://host/base/realtime/v1/websocket).
//
// The REST base is the Realtime root (the socket endpoint without a
// trailing /socket, /websocket or /socket/websocket for socket endpoints,
// as realtime-js's httpEndpointURL) with ws->http and "/api" appended.
//
// Anything else (another scheme, no host, a relative URL, the URL of
// another Supabase service such as .../rest/v1) is a [*URLError] naming the
// form it did not understand, without the query string.
func ParseEndpoint(rawURL string) (Endpoint, error) {
	raw := strings.TrimSpace(rawURL)
	u, err := url.Parse(raw)
	if err != nil {
		reason := err.Error()
		if ue, ok := err.(*url.Error); ok {
			reason = ue.Err.Error()
		}
		return Endpoint{}, &URLError{URL: redactRaw(raw), Reason: reason}
	}
	fail := func(reason string) (Endpoint, error) {
		return Endpoint{}, &URLError{URL: redactedURL(u), Reason: reason}
	}
	switch {
	case u.Scheme == "":
		return fail("not an absolute URL (want a project URL such as https://<ref>.supabase.co, or a ws(s):// endpoint)")
	case u.Opaque != "":
		return fail("not a hierarchical URL (want scheme://host...; add http:// or https:// in front)")
	}
	var httpScheme, wsScheme string
	switch u.Scheme {
	case "ws", "http":
		httpScheme, wsScheme = "http", "ws"
	case "wss", "https":
		httpScheme, wsScheme = "https", "wss"
	default:
		return fail(fmt.Sprintf("scheme %q is not http, https, ws or wss", u.Scheme))
	}
	if u.Host == "" {
		return fail("no host")
	}
	isWS := u.Scheme == "ws" || u.Scheme == "wss"

	trimmed := strings.TrimRight(u.Path, "/")
	var form Form
	var root string // Realtime root path, for FormProject and FormRealtime
	switch {
	case strings.HasSuffix(trimmed, "/realtime/v1"):
		form, root = FormRealtime, trimmed
	case strings.HasSuffix(trimmed, "/realtime/v1/websocket"):
		form, root = FormRealtime, strings.TrimSuffix(trimmed, "/websocket")
	case isWS || socketSuffix.MatchString(u.Path):
		form = FormSocket
	default:
		for _, s := range otherServices {
			if strings.HasSuffix(trimmed, s) {
				return fail("path ends in " + s + ", another Supabase service, not Realtime (give the project URL, without the path)")
			}
		}
		form, root = FormProject, trimmed+"/realtime/v1"
	}

	sock := *u
	sock.Scheme = wsScheme
	if isWS || form == FormSocket {
		// The socket endpoint as rxrealtime has always built it.
		if !strings.HasSuffix(sock.Path, "/websocket") {
			sock.Path = strings.TrimSuffix(sock.Path, "/") + "/websocket"
		}
	} else {
		sock.Path, sock.RawPath = root+"/websocket", ""
	}

	api := url.URL{Scheme: httpScheme, Host: u.Host}
	if form == FormSocket {
		api.Path = strings.TrimRight(socketSuffix.ReplaceAllString(u.Path, ""), "/")
	} else {
		api.Path = root
	}
	api.Path += "/api"
	return Endpoint{Form: form, Socket: sock.String(), API: api.String()}, nil
}

// maxShown bounds how much of a bad URL an error quotes.
const maxShown = 200

// redactedURL is u without query, fragment and user info.
func redactedURL(u *url.URL) string {
	var s string
	switch {
	case u.Scheme == "":
		s = u.Host + u.Path
	case u.Opaque != "":
		s = u.Scheme + ":" + u.Opaque
	default:
		s = u.Scheme + "://" + u.Host + u.Path
	}
	return shorten(s)
}

// redactRaw is redacted for a URL that does not parse: the text up to the
// first '?' or '#', without anything before an '@' in the authority.
func redactRaw(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		authority := rest
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			authority = rest[:j]
		}
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			raw = raw[:i+3] + rest[at+1:]
		}
	}
	return shorten(raw)
}

func shorten(s string) string {
	if len(s) > maxShown {
		return s[:maxShown] + "..."
	}
	return s
}
