package realtimetest

import (
	"cmp"
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
	// RemoteAddr is the client's address.
	RemoteAddr string
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

// Clients returns the connected sockets, by connection id.
func (s *Server) Clients() []ClientInfo {
	s.settle()
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := s.connList()
	slices.SortFunc(conns, func(a, b *conn) int { return cmp.Compare(a.id, b.id) })
	out := make([]ClientInfo, 0, len(conns))
	for _, c := range conns {
		ci := ClientInfo{ID: c.id, Vsn: c.vsn, RemoteAddr: c.remote, Connected: c.started}
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
