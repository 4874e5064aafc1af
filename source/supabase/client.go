package supabase

import (
	"context"
	"errors"
	"time"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/rest"
)

// Client is a realtime client for a Supabase project whose access token
// follows a [Session]: the socket asks the session for its token before
// every connect and join, and whenever the session is refreshed (by the
// client's own timer, a reconnect, or [Session.Update]) the new token is
// sent to every joined channel with [source.Client.SetAuth], so channels
// outlive the token they joined with.
//
// Close it with [Client.Close], which also stops the refresh timer.
type Client struct {
	*source.Client
	projectURL string
	anonKey    string
	session    *Session
	cancel     context.CancelFunc
	done       chan struct{}
}

// NewClient returns a client for the project at projectURL (for example
// "https://<ref>.supabase.co" or "http://localhost:54321"; any URL
// [source.New] accepts), authenticated with the project's anon (or
// publishable) key and, when session is not nil, the signed-in user's
// session. opts are passed on to [source.New] after the API key and the
// token provider. Nothing is dialled until [source.Client.Connect].
func NewClient(projectURL, anonKey string, session *Session, opts ...source.Option) (*Client, error) {
	if anonKey == "" {
		return nil, errors.New("supabase: empty API key")
	}
	base := []source.Option{source.WithAPIKey(anonKey)}
	if session != nil {
		base = append(base, source.WithAccessToken(session.AccessToken))
	}
	sc, err := source.New(projectURL, append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	c := &Client{Client: sc, projectURL: projectURL, anonKey: anonKey, session: session, done: make(chan struct{})}
	if session == nil {
		close(c.done)
		c.cancel = func() {}
		return c, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.keepFresh(ctx)
	return c, nil
}

// Connect is [NewClient] followed by [source.Client.Connect]; if the
// connection does not open before ctx ends the client is closed.
func Connect(ctx context.Context, projectURL, anonKey string, session *Session, opts ...source.Option) (*Client, error) {
	c, err := NewClient(projectURL, anonKey, session, opts...)
	if err != nil {
		return nil, err
	}
	if err := c.Client.Connect(ctx); err != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = c.Close(closeCtx)
		return nil, err
	}
	return c, nil
}

// Session returns the session the client follows (nil for an anonymous
// client).
func (c *Client) Session() *Session { return c.session }

// REST returns a REST broadcast client for the same project, API key and
// session (see [rest.New]); opts come after those.
func (c *Client) REST(opts ...rest.Option) (*rest.Client, error) {
	var base []rest.Option
	if c.session != nil {
		base = append(base, rest.WithAccessToken(c.session.AccessToken))
	}
	return rest.New(c.projectURL, c.anonKey, append(base, opts...)...)
}

// Close stops keeping the token fresh and closes the realtime client.
func (c *Client) Close(ctx context.Context) error {
	c.cancel()
	select {
	case <-c.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.Client.Close(ctx)
}

// Refresh backoff after a failed refresh.
const (
	retryMin = time.Second
	retryMax = 30 * time.Second
)

// keepFresh refreshes the session when it is due and hands every new
// token to the socket with SetAuth.
func (c *Client) keepFresh(ctx context.Context) {
	defer close(c.done)
	s := c.session
	retry := retryMin
	for {
		tok, changed, due := s.state()
		if err := c.Client.SetAuth(ctx, tok); err != nil {
			if errors.Is(err, source.ErrClosed) || ctx.Err() != nil {
				return
			}
			if s.logger != nil {
				s.logger.Warn("supabase: SetAuth failed", "error", err.Error())
			}
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if !due.IsZero() {
			timer = time.NewTimer(time.Until(due))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-fire:
			if _, err := s.Refresh(ctx); err != nil {
				// Wait before trying again, unless the session changes.
				wait := time.NewTimer(retry)
				select {
				case <-ctx.Done():
				case <-changed:
				case <-wait.C:
				}
				wait.Stop()
				retry = min(2*retry, retryMax)
			} else {
				retry = retryMin
			}
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}
