package realtimetest

import (
	"cmp"
	"net/url"
	"slices"
	"time"
)

// ClientInfo describes one connected socket, for tests that inspect the
// server's state.
type ClientInfo struct {
	// ID is the connection id used in recorded frames.
	ID ConnID
	// Vsn is the protocol version the client asked for, "1.0.0" or "2.0.0".
	Vsn string
	// RemoteAddr is the client's address (for a TCP client, the local
	// address of its end of the connection).
	RemoteAddr string
	// Params is the query string of the client's handshake without the
	// apikey parameter: vsn, log_level, and whatever the client added, such
	// as a parameter set with source.WithParam to tell clients apart (see
	// [Server.ConnsWithParam]).
	Params url.Values
	// Connected is when the handshake completed.
	Connected time.Time
	// Channels lists the joined channels, by topic.
	Channels []ChannelInfo
}

// ChannelInfo describes one joined channel.
type ChannelInfo struct {
	// Topic is the full topic, "realtime:<name>".
	Topic string
	// JoinRef is the join_ref of the join that created the channel.
	JoinRef string
	// Private reports a private channel (config.private).
	Private bool
	// Self and Ack are the channel's broadcast options.
	Self, Ack bool
	// PresenceKey is the channel's presence key (config.presence.key or a
	// generated UUID).
	PresenceKey string
	// PresenceEnabled reports whether presence is on for the channel.
	PresenceEnabled bool
	// PostgresChanges is the number of postgres_changes bindings, and
	// PostgresError the subscription error ("" when subscribed).
	PostgresChanges int
	PostgresError   string
}

// Clients returns the connected sockets, by connection id. Ids are given
// when a handshake completes on the server, so two clients dialling at the
// same time may get them in either order; use [Server.ConnsWithParam] to
// find the connection of a given client.
func (s *Server) Clients() []ClientInfo {
	s.settle()
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := s.connList()
	slices.SortFunc(conns, func(a, b *conn) int { return cmp.Compare(a.id, b.id) })
	out := make([]ClientInfo, 0, len(conns))
	for _, c := range conns {
		ci := ClientInfo{ID: c.id, Vsn: c.vsn, RemoteAddr: c.remote, Params: cloneValues(c.params), Connected: c.started}
		for _, ch := range c.channelList() {
			ci.Channels = append(ci.Channels, ChannelInfo{
				Topic:           ch.topic,
				JoinRef:         ch.joinRef,
				Private:         ch.private,
				Self:            ch.self,
				Ack:             ch.ack,
				PresenceKey:     ch.presenceKey,
				PresenceEnabled: ch.presenceEnabled,
				PostgresChanges: len(ch.bindings),
				PostgresError:   ch.pgErr,
			})
		}
		out = append(out, ci)
	}
	return out
}

// ConnsWithParam returns the live connections whose handshake query had
// key=value, by connection id. It is how a test names the connection of
// one client among several: give each client a parameter of its own (with
// source.WithParam("client", "alice"), or "&client=alice" in the URL of a
// raw transport.Dial) and look it up here, for instance to drop just that
// connection with [Faults.DropConn]. A client that reconnects sends the
// same parameter again, so after a reconnect its new connection is listed
// (with the old one too until the server has seen that one close).
func (s *Server) ConnsWithParam(key, value string) []ConnID {
	s.settle()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ConnID
	for _, c := range s.conns {
		if slices.Contains(c.params[key], value) {
			out = append(out, c.id)
		}
	}
	slices.Sort(out)
	return out
}

// cloneValues copies v deeply, so that a caller cannot change the server's.
func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// Topics returns the topics a connection has joined, sorted; nil if the
// connection is unknown.
func (s *Server) Topics(id ConnID) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[id]
	if c == nil {
		return nil
	}
	var out []string
	for _, ch := range c.channelList() {
		out = append(out, ch.topic)
	}
	return out
}

// channelList returns c's channels sorted by topic. The caller holds s.mu.
func (c *conn) channelList() []*channel {
	out := make([]*channel, 0, len(c.channels))
	for _, ch := range c.channels {
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b *channel) int { return cmp.Compare(a.topic, b.topic) })
	return out
}

// allChannels returns every channel, by connection then topic. The caller
// holds s.mu.
func (s *Server) allChannels() []*channel {
	var out []*channel
	for _, c := range s.connList() {
		out = append(out, c.channelList()...)
	}
	sortChannels(out)
	return out
}

// sortChannels orders channels by connection id, then topic.
func sortChannels(chs []*channel) {
	slices.SortFunc(chs, func(a, b *channel) int {
		if c := cmp.Compare(a.c.id, b.c.id); c != 0 {
			return c
		}
		return cmp.Compare(a.topic, b.topic)
	})
}
