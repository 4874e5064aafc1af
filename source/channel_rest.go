package source

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/rxrealtime/rxrealtime/source/rest"
)

// ViaRESTIfNotJoined makes [Channel.Send] deliver the broadcast over the
// Realtime REST API (POST /api/broadcast/<name>/events/<event>, see
// [rest.Client.Broadcast]) when the channel is not joined at the moment of
// the call, instead of waiting for the join: realtime-js's send() fallback,
// made explicit per call here rather than a silent change of transport. A
// joined channel still sends over the socket. The REST client uses the
// socket client's URL (see [RESTEndpoint]), API key ([WithAPIKey], sent as
// the apikey header) and access token (the last one the provider or
// [Client.SetAuth] gave, else the provider's), with the call's [Timeout].
// [Persist] and [PersistTTL] become the REST persist query. The server's
// acceptance (202) is the acknowledgement; a refusal is a
// [*rest.StatusError]. A client without an API key cannot use REST: Send
// fails with an error wrapping [ErrInvalidOption]. Pushes ignore it.
func ViaRESTIfNotJoined() CallOption { return func(cc *callConfig) { cc.viaREST = true } }

// joinedNow reports whether the channel is joined at this moment.
func (ch *Channel) joinedNow() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.state == stJoined
}

// sendREST delivers a broadcast with the client's REST client.
func (ch *Channel) sendREST(ctx context.Context, event string, payload []byte, binary bool, sc *callConfig) error {
	rc, err := ch.host.restClient()
	if err != nil {
		return err
	}
	var opts []rest.BroadcastOption
	if sc.persist {
		if sc.ttl > 0 {
			opts = append(opts, rest.PersistTTL(sc.ttl))
		} else {
			opts = append(opts, rest.Persist())
		}
	}
	if sc.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sc.timeout)
		defer cancel()
	}
	if binary {
		return rc.BroadcastBinary(ctx, ch.name, event, payload, ch.cfg.private, opts...)
	}
	return rc.Broadcast(ctx, ch.name, event, json.RawMessage(payload), ch.cfg.private, opts...)
}

// REST returns the REST API client that shares this client's
// configuration: the project URL (see [RESTEndpoint]), the API key, the
// access token (the provider's, or the last one [Client.SetAuth] gave), the
// logger, the handshake headers ([WithHeader]) and the HTTP client
// ([WithHTTPClient]). One configuration serves both transports; the REST
// client is made on first use and shared. It fails with an error wrapping
// [ErrInvalidOption] when the client has no API key (the REST API needs
// one).
func (c *Client) REST() (*rest.Client, error) { return c.restClient() }

// restHolder is the client's REST client, made on first use.
type restHolder struct {
	mu        sync.Mutex
	client    *rest.Client
	transport *http.Transport // its transport when the client made it: Close ends its idle connections
	closed    bool
}

// restClient returns the client's REST client, made on first use with the
// socket's URL, API key and token.
func (c *Client) restClient() (*rest.Client, error) {
	h := &c.rest
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if h.client != nil {
		return h.client, nil
	}
	if c.cfg.apiKey == "" {
		return nil, fmt.Errorf("%w WithAPIKey: the REST API needs an API key", ErrInvalidOption)
	}
	opts := []rest.Option{rest.WithAccessToken(c.restToken)}
	if c.cfg.logger != nil {
		opts = append(opts, rest.WithLogger(c.cfg.logger))
	}
	if c.cfg.httpClient != nil {
		opts = append(opts, rest.WithHTTPClient(c.cfg.httpClient))
	} else {
		// A transport of its own, whose idle connections (and their goroutines) Close ends.
		h.transport = http.DefaultTransport.(*http.Transport).Clone()
		opts = append(opts, rest.WithHTTPClient(&http.Client{Transport: h.transport}))
	}
	for _, hd := range c.cfg.headers {
		opts = append(opts, rest.WithHeader(hd[0], hd[1]))
	}
	rc, err := rest.New(c.url, c.cfg.apiKey, opts...)
	if err != nil {
		return nil, err
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

// restToken is the REST client's token: the socket's current one (kept
// fresh by the refresher), else the provider's.
func (c *Client) restToken(ctx context.Context) (string, error) {
	if tok := c.accessToken(); tok != "" || c.tok.provider == nil {
		return tok, nil
	}
	return c.tok.provider(ctx)
}
