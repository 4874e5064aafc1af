package source

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/rxrealtime/rxrealtime/source/rest"
)

// The client's REST API client (Client.REST, ViaRESTIfNotJoined), made on first use from the socket's
// configuration.

// restHolder is the client's REST client, made on first use with the socket's URL, API key, headers and
// token.
type restHolder struct {
	url, apiKey string
	logger      *slog.Logger
	httpClient  *http.Client
	headers     [][2]string
	token       func(ctx context.Context) (string, error)

	mu        sync.Mutex
	client    *rest.Client
	transport *http.Transport // its transport when the holder made it: closeIdle ends its idle connections
	closed    bool
}

// get returns the REST client, made on first use. It fails with an error wrapping ErrInvalidOption
// without an API key, and with ErrClosed once the client closed.
func (h *restHolder) get() (*rest.Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if h.client != nil {
		return h.client, nil
	}
	if h.apiKey == "" {
		return nil, fmt.Errorf("%w WithAPIKey: the REST API needs an API key", ErrInvalidOption)
	}
	opts := []rest.Option{rest.WithAccessToken(h.token)}
	if h.logger != nil {
		opts = append(opts, rest.WithLogger(h.logger))
	}
	if h.httpClient != nil {
		opts = append(opts, rest.WithHTTPClient(h.httpClient))
	} else {
		// A transport of its own, whose idle connections (and their goroutines) closeIdle ends.
		h.transport = http.DefaultTransport.(*http.Transport).Clone()
		opts = append(opts, rest.WithHTTPClient(&http.Client{Transport: h.transport}))
	}
	for _, hd := range h.headers {
		opts = append(opts, rest.WithHeader(hd[0], hd[1]))
	}
	rc, err := rest.New(h.url, h.apiKey, opts...)
	if err != nil {
		return nil, fmt.Errorf("rxrealtime: REST client: %w", err)
	}
	h.client = rc
	return rc, nil
}

// closeIdle ends the REST client's idle connections (no keep-alive goroutine outlives the client) and
// refuses further use.
func (h *restHolder) closeIdle() {
	h.mu.Lock()
	h.closed = true
	t := h.transport
	h.mu.Unlock()
	if t != nil {
		t.CloseIdleConnections()
	}
}
