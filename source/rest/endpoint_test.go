package rest

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "SECRET-apikey-in-query"

func TestParseEndpoint(t *testing.T) {
	const (
		hostedWS  = "wss://abc.supabase.co/realtime/v1/websocket"
		hostedAPI = "https://abc.supabase.co/realtime/v1/api"
		localWS   = "ws://localhost:54321/realtime/v1/websocket"
		localAPI  = "http://localhost:54321/realtime/v1/api"
	)
	tests := []struct {
		in     string
		form   Form
		socket string
		api    string
	}{
		// Project URLs, as pasted from the dashboard or the CLI.
		{"https://abc.supabase.co", FormProject, hostedWS, hostedAPI},
		{"https://abc.supabase.co/", FormProject, hostedWS, hostedAPI},
		{"https://abc.supabase.co//", FormProject, hostedWS, hostedAPI},
		{"HTTPS://abc.supabase.co", FormProject, hostedWS, hostedAPI},
		{"  https://abc.supabase.co\n", FormProject, hostedWS, hostedAPI},
		{"http://localhost:54321", FormProject, localWS, localAPI},
		{"http://localhost:54321/", FormProject, localWS, localAPI},
		{"http://127.0.0.1:54321", FormProject, "ws://127.0.0.1:54321/realtime/v1/websocket", "http://127.0.0.1:54321/realtime/v1/api"},
		{"https://supabase.example.com", FormProject, "wss://supabase.example.com/realtime/v1/websocket", "https://supabase.example.com/realtime/v1/api"},
		{"https://example.com:8443/supabase", FormProject, "wss://example.com:8443/supabase/realtime/v1/websocket", "https://example.com:8443/supabase/realtime/v1/api"},
		{"https://example.com/supabase/", FormProject, "wss://example.com/supabase/realtime/v1/websocket", "https://example.com/supabase/realtime/v1/api"},
		{"https://abc.supabase.co?apikey=" + secret, FormProject, hostedWS + "?apikey=" + secret, hostedAPI},
		{"http://[::1]:54321", FormProject, "ws://[::1]:54321/realtime/v1/websocket", "http://[::1]:54321/realtime/v1/api"},

		// The Realtime root, with any scheme.
		{"https://abc.supabase.co/realtime/v1", FormRealtime, hostedWS, hostedAPI},
		{"https://abc.supabase.co/realtime/v1/", FormRealtime, hostedWS, hostedAPI},
		{"https://abc.supabase.co/realtime/v1/websocket", FormRealtime, hostedWS, hostedAPI},
		{"http://localhost:54321/realtime/v1", FormRealtime, localWS, localAPI},
		{"wss://abc.supabase.co/realtime/v1", FormRealtime, hostedWS, hostedAPI},
		{"wss://abc.supabase.co/realtime/v1/", FormRealtime, hostedWS, hostedAPI},
		{"wss://abc.supabase.co/realtime/v1/websocket", FormRealtime, hostedWS, hostedAPI},
		{"wss://abc.supabase.co/realtime/v1/websocket?apikey=" + secret + "&vsn=2.0.0", FormRealtime, hostedWS + "?apikey=" + secret + "&vsn=2.0.0", hostedAPI},
		{"ws://localhost:54321/realtime/v1", FormRealtime, localWS, localAPI},

		// Raw socket endpoints.
		{"ws://127.0.0.1:4000/socket", FormSocket, "ws://127.0.0.1:4000/socket/websocket", "http://127.0.0.1:4000/api"},
		{"ws://127.0.0.1:4000/socket/", FormSocket, "ws://127.0.0.1:4000/socket/websocket", "http://127.0.0.1:4000/api"},
		{"ws://127.0.0.1:4000/socket/websocket", FormSocket, "ws://127.0.0.1:4000/socket/websocket", "http://127.0.0.1:4000/api"},
		{"WS://127.0.0.1:4000/SOCKET/", FormSocket, "ws://127.0.0.1:4000/SOCKET/websocket", "http://127.0.0.1:4000/api"},
		{"wss://realtime.example.com/socket?apikey=" + secret, FormSocket, "wss://realtime.example.com/socket/websocket?apikey=" + secret, "https://realtime.example.com/api"},
		{"ws://127.0.0.1:4000", FormSocket, "ws://127.0.0.1:4000/websocket", "http://127.0.0.1:4000/api"},
		{"ws://127.0.0.1:4000/", FormSocket, "ws://127.0.0.1:4000/websocket", "http://127.0.0.1:4000/api"},
		{"ws://h/proxy/rt", FormSocket, "ws://h/proxy/rt/websocket", "http://h/proxy/rt/api"},
		{"ws://[::1]:4000/socket", FormSocket, "ws://[::1]:4000/socket/websocket", "http://[::1]:4000/api"},
		{"wss://user:pw@h/socket", FormSocket, "wss://user:pw@h/socket/websocket", "https://h/api"},
		{"http://127.0.0.1:4000/socket", FormSocket, "ws://127.0.0.1:4000/socket/websocket", "http://127.0.0.1:4000/api"},
		{"https://h/socket/websocket", FormSocket, "wss://h/socket/websocket", "https://h/api"},
		{"https://h/websocket", FormSocket, "wss://h/websocket", "https://h/api"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ep, err := ParseEndpoint(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.form, ep.Form, ep.Form.String())
			assert.Equal(t, tt.socket, ep.Socket)
			assert.Equal(t, tt.api, ep.API)
		})
	}
}

// oldSocket is the socket endpoint rxrealtime built before project URLs
// were understood: ws(s) URLs, and the socket and Realtime-root forms,
// must still give exactly this.
func oldSocket(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	if !strings.HasSuffix(u.Path, "/websocket") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/websocket"
	}
	return u.String()
}

func TestParseEndpointKeepsOldSocketForms(t *testing.T) {
	for _, in := range []string{
		"ws://127.0.0.1:4000/socket", "ws://127.0.0.1:4000/socket/", "ws://127.0.0.1:4000/socket/websocket",
		"wss://abc.supabase.co/realtime/v1", "wss://abc.supabase.co/realtime/v1/", "wss://abc.supabase.co/realtime/v1/websocket",
		"ws://h", "ws://h/", "ws://h/a%2Fb/socket", "wss://u:p@h:1/x?apikey=k&a=b#frag", "WSS://H/Socket",
		"http://127.0.0.1:4000/socket", "https://abc.supabase.co/realtime/v1", "https://abc.supabase.co/realtime/v1/",
		"https://h/socket/websocket", "http://h/socket?x=1",
	} {
		ep, err := ParseEndpoint(in)
		require.NoError(t, err, in)
		assert.Equal(t, oldSocket(t, in), ep.Socket, in)
	}
}

func TestParseEndpointErrors(t *testing.T) {
	tests := []struct{ in, url, reason string }{
		{"", "", "not an absolute URL"},
		{"abc.supabase.co", "abc.supabase.co", "not an absolute URL"},
		{"/realtime/v1?apikey=" + secret, "/realtime/v1", "not an absolute URL"},
		{"//abc.supabase.co/realtime/v1", "abc.supabase.co/realtime/v1", "not an absolute URL"},
		{"localhost:54321", "localhost:54321", "not a hierarchical URL"},
		{"ftp://x/y?apikey=" + secret, "ftp://x/y", `scheme "ftp" is not http, https, ws or wss`},
		{"postgres://user:" + secret + "@db:5432/postgres", "postgres://db:5432/postgres", `scheme "postgres"`},
		{"https://", "https://", "no host"},
		{"https:///realtime/v1", "https:///realtime/v1", "no host"},
		{"https://abc.supabase.co/rest/v1?apikey=" + secret, "https://abc.supabase.co/rest/v1", "another Supabase service"},
		{"https://abc.supabase.co/auth/v1/", "https://abc.supabase.co/auth/v1/", "ends in /auth/v1"},
		{"://x?apikey=" + secret, "://x", "missing protocol scheme"},
		{"https://x\x7f.co/?apikey=" + secret, "https://x\x7f.co/", "invalid control character"},
		{"https://user:" + secret + "@x\x7f.co/", "https://x\x7f.co/", "invalid control character"},
		{"https://h:port/", "https://h:port/", "invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseEndpoint(tt.in)
			var ue *URLError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, tt.url, ue.URL)
			assert.Contains(t, ue.Reason, tt.reason)
			assert.NotContains(t, err.Error(), secret)
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
	_, err := ParseEndpoint("https://h/" + strings.Repeat("a", 500) + "?apikey=" + secret)
	require.NoError(t, err, "a long project path is fine")
	_, err = ParseEndpoint("ftp://h/" + strings.Repeat("a", 500) + "?apikey=" + secret)
	var ue *URLError
	require.ErrorAs(t, err, &ue)
	assert.LessOrEqual(t, len(ue.URL), maxShown+3, "a long URL is cut in the error")
}

func TestFormString(t *testing.T) {
	assert.Equal(t, "project URL", FormProject.String())
	assert.Equal(t, "realtime URL", FormRealtime.String())
	assert.Equal(t, "socket endpoint", FormSocket.String())
	assert.Equal(t, "Form(0)", Form(0).String())
}
