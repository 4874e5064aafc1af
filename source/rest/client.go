package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Client sends broadcasts to one Realtime server. It is safe for concurrent
// use.
type Client struct {
	base   url.URL // the API base, http(s)://host/.../api; no query
	apiKey string
	cfg    config
}

// Option configures a [Client].
type Option func(*config)

type config struct {
	httpClient *http.Client
	token      TokenProvider
	header     http.Header
	logger     *slog.Logger
}

// TokenProvider returns the user's access token (a JWT). It is the
// function type of source.TokenProvider, named here by an alias so that
// this package need not import the socket client: a source.TokenProvider
// can be passed to [WithAccessToken] as is, and a TokenProvider to
// source.WithAccessToken.
type TokenProvider = func(ctx context.Context) (string, error)

// WithHTTPClient sends requests with c instead of http.DefaultClient.
func WithHTTPClient(c *http.Client) Option {
	return func(cfg *config) { cfg.httpClient = c }
}

// WithAccessToken calls p before each request for the user's JWT, sent as
// Authorization: Bearer <token>; an empty token sends no Authorization
// header. An error from p fails the request before anything is sent. p
// can be the socket client's source.TokenProvider.
func WithAccessToken(p TokenProvider) Option {
	return func(cfg *config) { cfg.token = p }
}

// WithLogger logs each request at Debug (method, path, status, duration)
// and each failure at Warn. The API key, the token and the query string
// are never logged. Without it nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) { cfg.logger = l }
}

// WithToken sends token as Authorization: Bearer <token> on every request.
func WithToken(token string) Option {
	return WithAccessToken(func(context.Context) (string, error) { return token, nil })
}

// WithHeader adds a header to every request. It cannot replace apikey,
// Authorization or Content-Type, which the client sets.
func WithHeader(key, value string) Option {
	return func(cfg *config) {
		if cfg.header == nil {
			cfg.header = http.Header{}
		}
		cfg.header.Add(key, value)
	}
}

// New returns a client for the Realtime server at baseURL: a Supabase
// project URL ("https://<ref>.supabase.co", "http://localhost:54321"),
// its Realtime root ("https://<ref>.supabase.co/realtime/v1") or the
// socket endpoint ("wss://<ref>.supabase.co/realtime/v1/websocket",
// "ws://127.0.0.1:4000/socket"), read by [ParseEndpoint] exactly as the
// socket client reads its URL. Any query is dropped (it may hold the API
// key, which is sent as a header instead). apiKey is the project's API
// key. Errors match [ErrInvalidConfig]; a URL not understood is also a
// [*URLError].
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	if apiKey == "" {
		return nil, fmt.Errorf("%w: empty API key", ErrInvalidConfig)
	}
	ep, err := ParseEndpoint(baseURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	u, err := url.Parse(ep.API)
	if err != nil { // ParseEndpoint built it: cannot happen
		return nil, fmt.Errorf("%w: base URL does not parse", ErrInvalidConfig)
	}
	c := &Client{base: *u, apiKey: apiKey}
	for _, o := range opts {
		o(&c.cfg)
	}
	if c.cfg.httpClient == nil {
		c.cfg.httpClient = http.DefaultClient
	}
	return c, nil
}

// Message is one message of [Client.BroadcastBatch].
type Message struct {
	// Topic is the channel name ("room1"); a leading "realtime:" is
	// removed.
	Topic string
	// Event is the broadcast event name.
	Event string
	// Payload is encoded as JSON; the server requires a JSON object.
	Payload any
	// Private sends to the private channel of that name (RLS applies).
	Private bool
	// ID, if set, is delivered to subscribers as meta.id.
	ID string
}

// BroadcastOption tunes one [Client.Broadcast] or [Client.BroadcastBinary].
type BroadcastOption func(*broadcastConfig)

type broadcastConfig struct {
	persist bool
	ttl     time.Duration // 0: none; < 0: invalid
}

// Persist asks the server to store the message for replay on join
// (config.broadcast.replay), for as long as it keeps messages: the query
// persist=true, as realtime-js's httpSend(event, payload, {persist: true})
// sends it. Private channels only: on a public one the call fails with a
// [*MessageError] matching [ErrPersistUnsupported] and sends nothing.
func Persist() BroadcastOption {
	return func(c *broadcastConfig) { c.persist, c.ttl = true, 0 }
}

// PersistTTL is [Persist] for ttl only: the query persist[ttl]=N with N in
// seconds (ttl rounded up to a whole second), as httpSend(..., {persist:
// {ttl: N}}) sends it. A ttl under one second is refused like a public
// channel.
func PersistTTL(ttl time.Duration) BroadcastOption {
	return func(c *broadcastConfig) {
		c.persist, c.ttl = true, ttl
		if ttl < time.Second {
			c.ttl = -1
		}
	}
}

// query returns the single-message endpoint's query: private=true, then
// persist=true or persist%5Bttl%5D=N, in realtime-js's order and escaping.
func (bc *broadcastConfig) query(private bool) (string, error) {
	q := ""
	if private {
		q = "private=true"
	}
	if !bc.persist {
		return q, nil
	}
	switch {
	case !private:
		return "", &MessageError{Index: -1, Field: "persist", Reason: "public channel", Err: ErrPersistUnsupported}
	case bc.ttl < 0:
		return "", &MessageError{Index: -1, Field: "persist", Reason: "TTL under one second", Err: ErrPersistUnsupported}
	case bc.ttl == 0:
		return q + "&persist=true", nil
	}
	secs := (bc.ttl + time.Second - 1) / time.Second
	return q + "&" + url.QueryEscape("persist[ttl]") + "=" + strconv.FormatInt(int64(secs), 10), nil
}

// Broadcast sends one message to the channel topic, as realtime-js's
// httpSend does: POST /api/broadcast/<topic>/events/<event>, with
// ?private=true for a private channel and the payload as the JSON body.
// The server relays it as a broadcast with that event and payload.
// [Persist] and [PersistTTL] ask the server to store it for replay.
func (c *Client) Broadcast(ctx context.Context, topic, event string, payload any, private bool, opts ...BroadcastOption) error {
	target, err := c.singleTarget(topic, event, private, opts)
	if err != nil {
		return err
	}
	if payload == nil {
		return &MessageError{Index: -1, Field: "payload", Reason: "nil payload"}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return &MessageError{Index: -1, Field: "payload", Reason: "cannot encode as JSON", Err: err}
	}
	return c.post(ctx, target, "application/json", body)
}

// BroadcastBinary sends data as a binary broadcast (application/octet-stream)
// to the single-message endpoint. Subscribers on protocol 2.0.0 receive it
// as a binary frame; those on 1.0.0 do not receive it. [Persist] and
// [PersistTTL] ask the server to store it for replay.
func (c *Client) BroadcastBinary(ctx context.Context, topic, event string, data []byte, private bool, opts ...BroadcastOption) error {
	target, err := c.singleTarget(topic, event, private, opts)
	if err != nil {
		return err
	}
	if data == nil {
		return &MessageError{Index: -1, Field: "payload", Reason: "nil payload"}
	}
	return c.post(ctx, target, "application/octet-stream", data)
}

// singleTarget checks topic and event, applies opts and returns the
// single-message endpoint for them.
func (c *Client) singleTarget(topic, event string, private bool, opts []BroadcastOption) (*url.URL, error) {
	topic, err := checkTarget(-1, topic, event)
	if err != nil {
		return nil, err
	}
	query, err := broadcastQuery(private, opts)
	if err != nil {
		return nil, err
	}
	return c.singleURL(topic, event, query), nil
}

// broadcastQuery applies opts and returns the single-message query.
func broadcastQuery(private bool, opts []BroadcastOption) (string, error) {
	var bc broadcastConfig
	for _, o := range opts {
		if o != nil {
			o(&bc)
		}
	}
	return bc.query(private)
}

// BroadcastBatch sends several messages in one request: POST /api/broadcast
// with {"messages":[{"topic","event","payload","private"},...]}. The server
// accepts or refuses the whole batch. An empty batch sends nothing.
func (c *Client) BroadcastBatch(ctx context.Context, messages []Message) error {
	if len(messages) == 0 {
		return nil
	}
	type wireMessage struct {
		Topic   string          `json:"topic"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
		Private bool            `json:"private"`
		ID      string          `json:"id,omitempty"`
	}
	wire := struct {
		Messages []wireMessage `json:"messages"`
	}{Messages: make([]wireMessage, len(messages))}
	for i, m := range messages {
		topic, err := checkTarget(i, m.Topic, m.Event)
		if err != nil {
			return err
		}
		if m.Payload == nil {
			return &MessageError{Index: i, Field: "payload", Reason: "nil payload"}
		}
		p, err := json.Marshal(m.Payload)
		if err != nil {
			return &MessageError{Index: i, Field: "payload", Reason: "cannot encode as JSON", Err: err}
		}
		if len(p) == 0 || p[0] != '{' {
			return &MessageError{Index: i, Field: "payload", Reason: "the server requires a JSON object"}
		}
		wire.Messages[i] = wireMessage{Topic: topic, Event: m.Event, Payload: p, Private: m.Private, ID: m.ID}
	}
	body, err := json.Marshal(wire)
	if err != nil {
		return &MessageError{Index: -1, Field: "payload", Reason: "cannot encode as JSON", Err: err}
	}
	u := c.base
	u.Path += "/broadcast"
	return c.post(ctx, &u, "application/json", body)
}

// checkTarget strips "realtime:" from the topic and refuses an empty topic
// or event.
func checkTarget(index int, topic, event string) (string, error) {
	topic = strings.TrimPrefix(topic, "realtime:")
	if topic == "" {
		return "", &MessageError{Index: index, Field: "topic", Reason: "empty topic"}
	}
	if event == "" {
		return "", &MessageError{Index: index, Field: "event", Reason: "empty event"}
	}
	return topic, nil
}

func (c *Client) singleURL(topic, event, query string) *url.URL {
	u := c.base
	escapedBase := u.EscapedPath()
	u.Path += "/broadcast/" + topic + "/events/" + event
	u.RawPath = escapedBase + "/broadcast/" + url.PathEscape(topic) + "/events/" + url.PathEscape(event)
	u.RawQuery = query
	return &u
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// post sends one request and logs its outcome.
func (c *Client) post(ctx context.Context, target *url.URL, contentType string, body []byte) error {
	start := time.Now()
	status, err := c.send(ctx, target.String(), contentType, body)
	if l := c.cfg.logger; l != nil {
		attrs := []slog.Attr{
			slog.String("method", http.MethodPost),
			slog.String("path", target.EscapedPath()),
			slog.Int("bytes", len(body)),
			slog.Duration("duration", time.Since(start)),
		}
		if status != 0 {
			attrs = append(attrs, slog.Int("status", status))
		}
		if err != nil {
			// err's text is already scrubbed of the key and the token.
			l.LogAttrs(ctx, slog.LevelWarn, "rest: broadcast failed", append(attrs, slog.String("error", err.Error()))...)
		} else {
			l.LogAttrs(ctx, slog.LevelDebug, "rest: broadcast", attrs...)
		}
	}
	return err
}

// send makes the request and returns the response status (0 if none).
func (c *Client) send(ctx context.Context, target, contentType string, body []byte) (int, error) {
	token := ""
	if c.cfg.token != nil {
		t, err := c.cfg.token(ctx)
		if err != nil {
			return 0, scrub(fmt.Errorf("rest: access token: %w", err), c.apiKey)
		}
		token = t
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, scrub(fmt.Errorf("rest: broadcast: %w", err), c.apiKey, token)
	}
	for k, vs := range c.cfg.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("apikey", c.apiKey)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.Header.Del("Authorization")
	}
	resp, err := c.cfg.httpClient.Do(req)
	if err != nil {
		return 0, scrub(fmt.Errorf("rest: broadcast: %w", err), c.apiKey, token)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp.StatusCode, nil
	}
	msg, bodyErr := errorMessage(resp.StatusCode, data)
	return resp.StatusCode, &StatusError{
		Status:     resp.StatusCode,
		Message:    truncate(redact(msg, c.apiKey, token)),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
		bodyErr:    bodyErr,
	}
}

// maxMessage bounds the length of StatusError.Message.
const maxMessage = 512

// errorMessage finds the server's explanation in an error body: {"message"},
// {"error"}, {"errors"} (as JSON), other short text, or the status text. A
// body nested deeper than phoenix.MaxDepth is not read: the message is the
// status text, and err wraps phoenix.ErrTooDeep.
func errorMessage(status int, body []byte) (msg string, err error) {
	if err := phoenix.CheckDepth(body); err != nil {
		return http.StatusText(status), err
	}
	var fields struct {
		Message *string         `json:"message"`
		Error   *string         `json:"error"`
		Errors  json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &fields) == nil {
		switch {
		case fields.Message != nil:
			msg = *fields.Message
		case fields.Error != nil:
			msg = *fields.Error
		case len(fields.Errors) > 0:
			var compact bytes.Buffer
			if json.Compact(&compact, fields.Errors) == nil {
				msg = compact.String()
			}
		}
	}
	if msg == "" && utf8.Valid(body) {
		msg = strings.Join(strings.Fields(string(body)), " ")
		if strings.ContainsFunc(msg, unicode.IsControl) {
			msg = ""
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return msg, nil
}

// truncate bounds a message to maxMessage bytes, on a rune boundary.
func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	n := maxMessage
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
