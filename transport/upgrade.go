package transport

import (
	"bufio"
	"fmt"
	"net/http"

	"github.com/gobwas/ws"
)

// Upgrade completes the WebSocket handshake for a server-side HTTP request
// and returns the connection; it is what an embedded test server uses.
//
// Options that apply: [WithMaxFrameSize], [WithWriteTimeout],
// [WithReadBufferSize], [WithWriteBufferSize] and [WithHeader] (added to the
// 101 response). [WithTLSConfig] and [WithQuery] are ignored.
//
// On a malformed upgrade request (not GET, missing or wrong WebSocket
// headers) a 4xx response has already been written to the client when
// Upgrade returns the error; the caller must not write to w. To reject a
// request with a status of its own (401, 429, ...), the caller answers it
// with w before calling Upgrade.
func Upgrade(w http.ResponseWriter, r *http.Request, opts ...Option) (*Conn, error) {
	o := buildOptions(opts)
	if o.err != nil {
		http.Error(w, "websocket upgrade misconfigured", http.StatusInternalServerError)
		return nil, o.err
	}
	u := ws.HTTPUpgrader{Header: o.header}
	nc, rw, _, err := u.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			_ = nc.Close()
		}
		return nil, fmt.Errorf("transport: upgrade: %w", err)
	}
	br := rw.Reader
	if br.Buffered() == 0 {
		// Nothing from the client is buffered yet: read directly from the
		// socket with a reader of our size instead of through net/http's.
		br = bufio.NewReaderSize(nc, o.readBufferSize)
	}
	return newConn(nc, br, false, o), nil
}
