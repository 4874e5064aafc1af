package source

import (
	"context"
	"fmt"
	"strings"

	"github.com/rxrealtime/rxrealtime/source/rest"
	"github.com/rxrealtime/rxrealtime/stream"
)

// A client's channels: creating them, the registry's exported face, and the host services a channel uses
// (tokens, join pacing, REST, its registry, the meaning of a push's outcome).

// channelHost is c as a channel's host (RemoveChannel compares hosts to tell a client's own channels).
func channelHost(c *Client) host { return c }

// Channel creates the channel "realtime:<name>" on this client. It does
// not join: call [Channel.Subscribe]. A second Channel call for a topic
// that already has a live channel returns [ErrDuplicateChannel] (rather
// than silently returning the first one with its options, as realtime-js
// does); once the first is closed for good (after [Channel.Unsubscribe],
// a server close, or a binding mismatch) the name is free again. To share
// one join between several users of a topic, use [Client.Share]: a topic
// held by shared channels is a duplicate here too.
//
// Invalid options fail here with an error wrapping [ErrInvalidChannel]
// that names the option: a bad postgres_changes binding, broadcast replay
// on a public channel (the server refuses it), a join timeout that is not
// positive, a nil rejoin backoff.
func (c *Client) Channel(name string, opts ...ChannelOption) (*Channel, error) {
	topic, cfg, err := channelSetup(name, c.cfg.pushTimeout, opts)
	if err != nil {
		return nil, err
	}
	ch := c.newChannel(topic, cfg)
	if err := c.reg.add(ch, func() { c.attach(ch) }); err != nil {
		return nil, err
	}
	return ch, nil
}

// newChannel makes the channel of topic, not yet registered nor attached to its route.
func (c *Client) newChannel(topic string, cfg channelConfig) *Channel {
	ch := &Channel{
		name:        strings.TrimPrefix(topic, "realtime:"),
		topic:       topic,
		cfg:         cfg,
		wire:        c.sock,
		host:        c,
		ev:          c.ev,
		sec:         &c.sec,
		stopping:    c.sock.Stopping(),
		pushTimeout: c.cfg.pushTimeout,
		sendBuffer:  c.cfg.sendBuffer,
		maxFrame:    c.cfg.maxFrameSize,
		decoders:    &c.decoders,
		allChanges:  c.changes,
		multiTable:  multiTable(cfg.bindings),
		statuses:    newStatusFeed(),
		gone:        make(chan struct{}),
	}
	if cfg.gapFree {
		ch.gap = new(gapState)
	}
	if cfg.replicationReady {
		ch.replCh = make(chan struct{})
	}
	ch.joinRef.Store(&noJoinRef)
	ch.changes = hub[*inboundChange](c.ev, topic)
	// A presence listener that starts on a channel joined without presence rejoins it with presence on.
	ch.presence.events = hub[presenceEvent](c.ev, topic, stream.OnActive(func(active bool) {
		if active {
			ch.presenceListening()
		}
	}))
	ch.presence.sender.setLimit(cfg.presenceCalls, cfg.presenceWindow)
	return ch
}

// attach makes ch the handler of its topic's route (under the registry's lock: see registry.add).
func (c *Client) attach(ch *Channel) {
	ch.rt = c.sock.Attach(ch.topic, ch)
	ch.msgs = ch.rt.Hub()
}

// forget removes a channel closed for good from the client and completes every stream of the channel
// with err: the one place they all end, whatever closed it.
func (c *Client) forget(ch *Channel, err error) {
	c.reg.forget(ch, func() {
		ch.rt.Close(err)
		ch.changes.Complete(err)
		ch.presence.events.Complete(err)
	})
}

// wantSocket ends an idle disconnect: a channel wants to join.
func (c *Client) wantSocket() { c.sock.Wake() }

// Channels returns the client's live channels (created and not yet closed
// for good, subscribed or not), sorted by topic: realtime-js's
// getChannels. A shared channel ([Client.Share]) is listed as its live
// holders, in the order they were made.
func (c *Client) Channels() []*Channel { return c.reg.live() }

// RemoveChannel leaves ch ([Channel.Unsubscribe]: phx_leave, then CLOSED)
// and forgets it: it is no longer in [Client.Channels] and its name is
// free. The client stays connected (see [WithIdleDisconnect] for
// realtime-js's disconnect once no channel is left). Removing a channel
// already closed for good does nothing; a channel of another client is an
// error wrapping [ErrInvalidChannel]. A holder of a shared channel
// ([Client.Share]) is released: the join is left when it was the last.
func (c *Client) RemoveChannel(ctx context.Context, ch *Channel) error {
	if ch == nil || ch.host != channelHost(c) {
		return fmt.Errorf("%w: not a channel of this client", ErrInvalidChannel)
	}
	return ch.Unsubscribe(ctx)
}

// RemoveAllChannels removes every channel as [Client.RemoveChannel] does
// (every holder of a shared channel is released, and its join left),
// sending all the leaves first and then waiting for their replies (until
// ctx ends). The client stays connected. The error joins the channels'
// errors (ctx's error when it ended first).
func (c *Client) RemoveAllChannels(ctx context.Context) error { return c.reg.leaveAll(ctx) }

// accessToken returns the token to use for joins: the last one the provider or SetAuth gave.
func (c *Client) accessToken() string { return c.tok.current() }

// hasTokenProvider reports whether a provider can refresh the token (WithAccessToken).
func (c *Client) hasTokenProvider() bool { return c.tok.provider != nil }

// REST returns the REST API client that shares this client's
// configuration: the project URL (see [RESTEndpoint]), the API key, the
// access token (the provider's, or the last one [Client.SetAuth] gave), the
// logger, the handshake headers ([WithHeader]) and the HTTP client
// ([WithHTTPClient]). One configuration serves both transports; the REST
// client is made on first use and shared. It fails with an error wrapping
// [ErrInvalidOption] when the client has no API key (the REST API needs
// one).
func (c *Client) REST() (*rest.Client, error) { return c.restClient() }

// restClient returns the client's REST client, made on first use.
func (c *Client) restClient() (*rest.Client, error) { return c.rest.get() }

// refreshToken asks the token provider for a fresh token (a channel does before each rejoin).
func (c *Client) refreshToken(ctx context.Context) error { return c.tok.refresh(ctx) }

// paceJoin tells whether ch's join must wait for its turn (WithJoinRate, WithJoinLimiter).
func (c *Client) paceJoin(ch *Channel) bool { return c.cfg.joinLimiter.pace(ch) }
