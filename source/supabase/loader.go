package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/internal/pgfilter"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/rest"
	"github.com/rxrealtime/rxrealtime/transport"
)

// ErrSelect is matched (errors.Is) by every [*SelectError].
var ErrSelect = errors.New("rxrealtime: PostgREST select failed")

// ErrLoader is wrapped by the error [Loader] returns for a client or a
// binding it cannot read the rows of.
var ErrLoader = errors.New("rxrealtime: cannot make a PostgREST loader")

// SelectError is a PostgREST answer other than 200 to a [Loader]'s read:
// the status and PostgREST's error ({"code","message","details","hint"}),
// the client's API key and tokens removed.
type SelectError struct {
	Table   string // "schema.table"
	Status  int
	Code    string // PostgREST's code, such as "PGRST205" or "PGRST303"; "" when the body had none
	Message string
	Details string
	Hint    string
}

// Error implements error.
func (e *SelectError) Error() string {
	s := "rxrealtime: select " + e.Table + ": " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrSelect) true.
func (e *SelectError) Is(target error) bool { return target == ErrSelect }

// LoaderOption configures a [Loader].
type LoaderOption func(*loaderConfig)

type loaderConfig struct {
	hc *http.Client
}

// WithLoaderHTTPClient makes the loader send its requests with hc
// (default http.DefaultClient).
func WithLoaderHTTPClient(hc *http.Client) LoaderOption {
	return func(c *loaderConfig) { c.hc = hc }
}

// Loader returns a [source.Loader] for [source.Live] that reads the rows b
// selects from the project's PostgREST API, authenticated as c's socket
// is: GET <project>/rest/v1/<table>?select=*&<filter>, with the apikey
// header set to c's API key and Authorization: Bearer set to the session's
// access token (refreshed as the socket's is), or to the API key for an
// anonymous client, as supabase-js does.
//
// The query is the binding's: its columns (select=*, or its Select list,
// which must hold the key), its filter as PostgREST filters (the same
// syntax: id=eq.1, id=in.(1,2), not., ...) and its schema (an
// Accept-Profile header for a schema other than public). The rows are
// decoded from JSON into T with encoding/json. An answer other than 200 is
// a [*SelectError].
//
// c must have been made with the project URL (https://<ref>.supabase.co,
// http://localhost:54321, or its /realtime/v1 root): a socket endpoint
// does not say where PostgREST is. The error then, or for a binding of
// every table, wraps [ErrLoader].
func Loader[T any](c *Client, b source.TypedBinding[T], opts ...LoaderOption) (source.Loader[T], error) {
	cfg := loaderConfig{hc: http.DefaultClient}
	for _, o := range opts {
		o(&cfg)
	}
	if c == nil || cfg.hc == nil {
		return nil, fmt.Errorf("%w: nil client", ErrLoader)
	}
	base, err := postgrestBase(c.projectURL)
	if err != nil {
		return nil, err
	}
	bd := b.Binding()
	if bd.Table == "" || bd.Table == "*" {
		return nil, fmt.Errorf("%w: a binding of one table is needed, not %q", ErrLoader, bd.Table)
	}
	if err := bd.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLoader, err)
	}
	schema := bd.Schema
	if schema == "" {
		schema = "public"
	}
	target := base + "/rest/v1/" + urlPathEscape(bd.Table) + "?" + selectQuery(bd)
	table := schema + "." + bd.Table
	return func(ctx context.Context) ([]T, error) {
		token := c.anonKey
		if c.session != nil {
			if token, err = c.session.AccessToken(ctx); err != nil {
				return nil, fmt.Errorf("rxrealtime: select %s: access token: %w", table, err)
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, fmt.Errorf("rxrealtime: select %s: %w", table, err)
		}
		req.Header.Set("apikey", c.anonKey)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		if schema != "public" {
			req.Header.Set("Accept-Profile", schema)
		}
		resp, err := cfg.hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("rxrealtime: select %s: %s", table, transport.Redact(err.Error(), c.anonKey, token))
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, selectError(table, resp, c.anonKey, token)
		}
		var rows []T
		if err := json.NewDecoder(resp.Body).Decode(&rows); err != nil {
			return nil, fmt.Errorf("rxrealtime: select %s: decoding the rows: %w", table, err)
		}
		return rows, nil
	}, nil
}

// postgrestBase is the project's base URL (PostgREST is at /rest/v1
// under it), from the URL the client was made with.
func postgrestBase(projectURL string) (string, error) {
	ep, err := rest.ParseEndpoint(projectURL)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrLoader, err)
	}
	if ep.Form != rest.FormProject && ep.Form != rest.FormRealtime {
		return "", fmt.Errorf("%w: the client was made with a socket endpoint, which does not say where PostgREST is; "+
			"use the project URL (https://<ref>.supabase.co)", ErrLoader)
	}
	return strings.TrimSuffix(ep.API, "/realtime/v1/api"), nil
}

// selectQuery is the query string of the binding's rows: select, then each
// condition of its filter as a PostgREST filter, in order.
func selectQuery(b postgres.Binding) string {
	sel := "*"
	if len(b.Select) > 0 {
		sel = strings.Join(b.Select, ",")
	}
	q := "select=" + queryEscape(sel)
	for _, part := range pgfilter.Split(b.Filter.String()) {
		seg, fault := pgfilter.Cut(strings.TrimSpace(part))
		if fault != 0 {
			continue // Validate refused such filters
		}
		v := seg.Op + "." + seg.Value
		if seg.Not {
			v = "not." + v
		}
		q += "&" + queryEscape(seg.Column) + "=" + queryEscape(v)
	}
	return q
}

// queryEscape escapes a query component, keeping the characters PostgREST
// queries are read with (so that a logged URL reads as one).
func queryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || strings.IndexByte("*,.()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// urlPathEscape escapes a table name as one path segment.
func urlPathEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; isUnreserved(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// isUnreserved reports an RFC 3986 unreserved character.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// selectError reads PostgREST's error from resp.
func selectError(table string, resp *http.Response, secrets ...string) error {
	e := &SelectError{Table: table, Status: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var pe struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details string `json:"details"`
		Hint    string `json:"hint"`
	}
	if json.Unmarshal(body, &pe) == nil {
		e.Code = pe.Code
		e.Message = transport.Redact(pe.Message, secrets...)
		e.Details = transport.Redact(pe.Details, secrets...)
		e.Hint = transport.Redact(pe.Hint, secrets...)
	}
	return e
}
