package source

import (
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source/postgres"
)

// DefaultRejoinBackoff is a channel's rejoin schedule: phoenix.js's,
// which realtime-js uses, [operators.RealtimeReconnect] (1 s, 2 s, 5 s,
// then 10 s). The socket reconnects on [DefaultReconnectBackoff].
var DefaultRejoinBackoff operators.Backoff = operators.RealtimeReconnect

// ChannelOption configures a [Channel].
type ChannelOption func(*channelConfig)

type channelConfig struct {
	broadcastSelf    bool
	broadcastAck     bool
	replay           *replayConfig
	presenceKey      string
	presenceEnabled  bool
	bindings         []postgres.Binding
	private          bool
	waitForPostgres  bool
	joinTimeout      time.Duration
	rejoin           operators.Backoff
	noRejoinOnExpiry bool
	replicationReady bool
	pgWait           bool
	pgWaitTimeout    time.Duration // 0: the server's default
	gapFree          bool
	gapMargin        time.Duration
	presenceCalls    int
	presenceWindow   time.Duration
}

type replayConfig struct {
	since time.Time
	limit int
}

// sinceMillis is since in ms since the epoch, 0 for the zero time.
func (r *replayConfig) sinceMillis() int64 {
	if r.since.IsZero() {
		return 0
	}
	return r.since.UnixMilli()
}

// WithBroadcastSelf makes the channel receive its own broadcasts.
func WithBroadcastSelf() ChannelOption { return func(c *channelConfig) { c.broadcastSelf = true } }

// WithBroadcastAck makes the server acknowledge each broadcast: [Channel.Send]
// then waits for the reply.
func WithBroadcastAck() ChannelOption { return func(c *channelConfig) { c.broadcastAck = true } }

// WithBroadcastReplay asks the server to replay the broadcasts stored since
// the given time (the zero time: all of them), at most limit of them (0:
// the server's default, 25 at most). Private channels only: on a public
// channel [Client.Channel] fails with [ErrInvalidChannel], as the server
// would refuse the join. Every rejoin asks again; replayed messages carry
// meta {"replayed":true,"id":...}.
//
// A join's replayed messages are delivered in the order the server sends
// them, together, before the live broadcasts of the same join. The server
// writes live broadcasts to the socket as soon as the join is up, while
// its channel process sends the replay later, so live ones (all newer)
// can arrive first or in between: the channel holds them until the replay
// has all arrived, which it learns by sending, after the join, one
// presence push without an event (the server answers it after the replay
// and otherwise ignores it: it spends no presence call). Should that push
// fail or time out, or more than 4,096 live broadcasts arrive meanwhile,
// the held ones are delivered then.
//
// The server's order is the order the messages were stored in (by
// inserted_at), but for messages stored in one database transaction
// (several realtime.send calls, a trigger on a multi-row statement): they
// share their inserted_at, and the server replays them in reverse
// (supabase/realtime#2201). Nothing the client receives can order them —
// a replayed message's meta holds only its id, a random UUID, and no
// timestamp — so the client delivers them as they come: carry a sequence
// in the payload if their order matters.
func WithBroadcastReplay(since time.Time, limit int) ChannelOption {
	return func(c *channelConfig) { c.replay = &replayConfig{since: since, limit: limit} }
}

// WithPresence enables presence on the channel, under key (empty: the server
// picks a UUID). Calling [PresenceEvents] before Subscribe enables it too
// (with a server-picked key), as a presence listener does in realtime-js.
func WithPresence(key string) ChannelOption {
	return func(c *channelConfig) { c.presenceEnabled, c.presenceKey = true, key }
}

// WithPresenceLimit sets the server's limit on the channel's presence
// calls, which [Channel.Track] and [Channel.Untrack] stay within: calls per
// window (default [DefaultPresenceCalls] per [DefaultPresenceWindow],
// Supabase's default; a project's own is its realtime settings'
// max_client_presence_events_per_window and client_presence_window_ms).
// Past it the server shuts the channel down ("Client presence rate limit
// exceeded"); the client instead holds the next call until the window
// allows it. Both must be positive.
func WithPresenceLimit(calls int, window time.Duration) ChannelOption {
	return func(c *channelConfig) { c.presenceCalls, c.presenceWindow = calls, window }
}

// WithPostgresChanges adds postgres_changes bindings. The server's ids are
// matched to them by index, as realtime-js does; identical bindings are
// sent once.
func WithPostgresChanges(bindings ...postgres.Binding) ChannelOption {
	return func(c *channelConfig) { c.bindings = append(c.bindings, bindings...) }
}

// WithPrivate makes the channel private: the server checks the user's
// permissions (RLS on realtime.messages).
func WithPrivate() ChannelOption { return func(c *channelConfig) { c.private = true } }

// WithWaitForPostgres delays SUBSCRIBED until the server's system message
// "Subscribed to PostgreSQL", so no change written right after SUBSCRIBED
// is missed (realtime-js reports SUBSCRIBED too early).
func WithWaitForPostgres() ChannelOption { return func(c *channelConfig) { c.waitForPostgres = true } }

// WithPostgresChangesWait asks the server to hold the join reply until the
// channel's postgres_changes subscription is established
// (config.postgres_changes_options {"wait":true,"timeout":ms}), so
// SUBSCRIBED means changes are flowing. timeout is how long the server
// waits (0: its default, [DefaultPostgresWaitTimeout]; it clamps larger
// values to its maximum, 20 s by default); past it the join fails with
// "PostgresChangesSubscribeTimeout: ..." and the channel rejoins with
// backoff. With at least one binding the join timeout becomes
// max(join timeout, wait timeout + 10 s), realtime-js's rule, since the
// reply legitimately takes that long.
//
// It is the server-side counterpart of [WithWaitForPostgres], which waits
// on the client for the "Subscribed to PostgreSQL" system message and
// works with servers that ignore postgres_changes_options (older than
// the option). Both may be combined.
func WithPostgresChangesWait(timeout time.Duration) ChannelOption {
	return func(c *channelConfig) { c.pgWait, c.pgWaitTimeout = true, timeout }
}

// WithReplicationReady opts in to the server's "Replication connection
// established" system message (broadcast.replication_ready): the server
// sends it once the tenant's database replication connection is up, which
// database broadcasts (realtime.send) need; if it is not up within a minute
// the server closes the channel with "Replication connection was not
// established in time". See [SystemEvent.ReplicationReady] and
// [Channel.WaitReplicationReady].
func WithReplicationReady() ChannelOption {
	return func(c *channelConfig) { c.replicationReady = true }
}

// WithJoinTimeout sets how long a join waits for its reply (default: the
// client's push timeout).
func WithJoinTimeout(d time.Duration) ChannelOption {
	return func(c *channelConfig) { c.joinTimeout = d }
}

// WithRejoinBackoff sets the delays between rejoin attempts after a join
// error, a join timeout or a channel error.
func WithRejoinBackoff(b operators.Backoff) ChannelOption {
	return func(c *channelConfig) { c.rejoin = b }
}

// WithoutRejoinOnTokenExpiry keeps a channel closed by the server for an
// expired token closed. By default it fetches a fresh token and rejoins.
func WithoutRejoinOnTokenExpiry() ChannelOption {
	return func(c *channelConfig) { c.noRejoinOnExpiry = true }
}

type joinReplay struct {
	Since int64 `json:"since"`
	Limit int   `json:"limit,omitempty"`
}
