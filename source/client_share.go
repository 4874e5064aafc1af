package source

// Share returns a holder of the shared channel "realtime:<name>": one join
// on the server serves every holder of the topic made with the same
// options. The first Share of a topic makes the channel; later ones, while
// it lives, share it — realtime-js's channel() returning the existing
// channel, except that the options must agree: a request whose options
// differ from the live channel's fails with a [*ConfigMismatchError]
// naming each option that differs (it matches [ErrConfigMismatch]).
// Options are the same when they would join the same way: bindings are
// compared as a set, a join timeout by its resolved value, a rejoin
// backoff with reflect.DeepEqual (a func backoff is never the same as
// another, so holders of a channel with one cannot share it).
//
// A holder is a *Channel: every stream function ([Changes], [Broadcasts],
// [PresenceEvents], [Channel.Statuses]...) and every method works on it,
// with these rules.
//
//   - Streams, statuses, Done and Err are the holder's own: its streams
//     receive what the shared join receives, and complete when the holder
//     is released ([Channel.Unsubscribe], [Client.RemoveChannel]) — not
//     when another holder is — or when the join is closed for good (a
//     server close, a binding mismatch, the client's Close), with that
//     reason. A holder made while the channel is joined starts with its
//     current status.
//   - [Channel.Subscribe] on a holder subscribes the shared channel: the
//     first sends the phx_join, the others wait for the same join, or
//     return at once when it is SUBSCRIBED. Rejoins after faults serve
//     every holder.
//   - Pushes ([Channel.Send], [Channel.Push], [Channel.Track]) go out under
//     the shared join, once the holder has called Subscribe (before that
//     they fail with [ErrNotJoined], as on any channel not subscribed).
//     Presence is the join's: one key, and a Track by any holder replaces
//     the meta of the others'.
//   - The join is left when the last holder is released. A Share that
//     comes while that leave is under way keeps the channel, which joins
//     again once one of its holders subscribes.
//
// A topic held by a channel made with [Client.Channel] cannot be shared
// (an error wrapping [ErrDuplicateChannel]), nor can a shared topic get a
// channel of its own. [Client.Channels] lists each holder;
// [Stats].Channels counts the shared channel once. Invalid options fail as
// with [Client.Channel].
func (c *Client) Share(name string, opts ...ChannelOption) (*Channel, error) {
	topic, cfg, err := channelSetup(name, c.cfg.pushTimeout, opts)
	if err != nil {
		return nil, err
	}
	return c.reg.share(topic, &cfg, func() *Channel {
		ch := c.newChannel(topic, cfg)
		ch.shared = true
		return ch
	}, c.attach)
}
