package realtimetest

import (
	"fmt"
	"time"
)

// Defaults of the real server (supabase/realtime config/runtime.exs and the
// tenant schema), which the emulator uses unless an [Option] overrides them.
const (
	// DefaultMaxConcurrentUsers is max_concurrent_users: sockets that joined
	// at least one channel.
	DefaultMaxConcurrentUsers = 200
	// DefaultMaxEventsPerSecond is max_events_per_second, averaged over a
	// minute.
	DefaultMaxEventsPerSecond = 100
	// DefaultMaxJoinsPerSecond is max_joins_per_second, averaged over a
	// minute.
	DefaultMaxJoinsPerSecond = 100
	// DefaultMaxChannelsPerClient is max_channels_per_client (per socket).
	DefaultMaxChannelsPerClient = 100
	// DefaultMaxPayloadKB is max_payload_size_in_kb; the limit in bytes is
	// KB*1000+500.
	DefaultMaxPayloadKB = 3000
	// DefaultClientPresenceCalls and DefaultClientPresenceWindow are the
	// per-channel presence push limit: the 6th push within 30 s shuts the
	// channel down.
	DefaultClientPresenceCalls  = 5
	DefaultClientPresenceWindow = 30 * time.Second
	// DefaultIdleTimeout is the WebSocket idle timeout (Phoenix default): a
	// client that sends nothing for this long is closed with 1000.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxFrameSize is the WebSocket max_frame_size of the real
	// endpoint.
	DefaultMaxFrameSize = 5_000_000

	// RealJoinErrorDelay is CHANNEL_ERROR_BACKOFF_MS, how long the real
	// server waits before a join error reply. The emulator answers at once
	// unless [WithJoinErrorDelay] is given.
	RealJoinErrorDelay = 5 * time.Second
	// RealConnectErrorDelay is CONNECT_ERROR_BACKOFF_MS, how long the real
	// server waits before refusing a handshake. The emulator answers at once
	// unless [WithConnectErrorDelay] is given.
	RealConnectErrorDelay = 2 * time.Second

	// DefaultPostgresWaitTimeout is how long a join with
	// postgres_changes_options {"wait":true} and no timeout waits for its
	// postgres_changes subscription (PostgresChangesOptions
	// @default_timeout); MaxPostgresWaitTimeout clamps a larger timeout
	// (:postgres_changes_wait_max_timeout).
	DefaultPostgresWaitTimeout = 15 * time.Second
	MaxPostgresWaitTimeout     = 20 * time.Second
	// DefaultReplicationReadyTimeout is replication_ready_timeout: how long
	// a channel that asked for broadcast.replication_ready waits for the
	// replication connection before it is shut down.
	DefaultReplicationReadyTimeout = time.Minute
	// ReplicationReadyCheckInterval is how often such a channel checks
	// (@replication_ready_check_interval).
	ReplicationReadyCheckInterval = 500 * time.Millisecond
)

// Option configures a [Server].
type Option func(*config)

type config struct {
	jwtSecret            []byte
	tenant               string
	maxUsers             int
	maxEventsPerSecond   float64
	maxJoinsPerSecond    float64
	maxChannelsPerClient int
	maxPayloadBytes      int
	presenceCalls        int
	presenceWindow       time.Duration
	joinErrorDelay       time.Duration
	connectErrorDelay    time.Duration
	idleTimeout          time.Duration
	replicationTimeout   time.Duration
	privateOnly          bool
	presenceEnabled      bool
	maxFrameSize         int64
	maxRecorded          int
	pipe                 bool
	err                  error
}

func defaultConfig() config {
	return config{
		maxUsers:             DefaultMaxConcurrentUsers,
		maxEventsPerSecond:   DefaultMaxEventsPerSecond,
		maxJoinsPerSecond:    DefaultMaxJoinsPerSecond,
		maxChannelsPerClient: DefaultMaxChannelsPerClient,
		maxPayloadBytes:      DefaultMaxPayloadKB*1000 + 500,
		presenceCalls:        DefaultClientPresenceCalls,
		presenceWindow:       DefaultClientPresenceWindow,
		idleTimeout:          DefaultIdleTimeout,
		replicationTimeout:   DefaultReplicationReadyTimeout,
		maxFrameSize:         DefaultMaxFrameSize,
		maxRecorded:          -1,
	}
}

func (c *config) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
	}
}

// WithJWTSecret turns on JWT verification with the tenant's HS256/384/512
// secret: the socket's apikey (or x-api-key header), every join's
// access_token and every access_token refresh must then be a valid token
// with "role" and "exp" claims, and channels are shut down when their token
// expires. Without it the server accepts any apikey and never checks
// tokens. Use [SignJWT] or [Server.Token] to make tokens.
func WithJWTSecret(secret string) Option {
	return func(c *config) {
		if secret == "" {
			c.fail("empty JWT secret")
			return
		}
		c.jwtSecret = []byte(secret)
	}
}

// WithTenant makes the server answer only for one tenant: the first DNS
// label of the Host header must be name (as "realtime-dev" in
// realtime-dev.localhost). Other hosts get the real server's 404 "Tenant not
// found" on the socket and 401 "Tenant not found in database" on REST.
// Without it every host is accepted.
func WithTenant(name string) Option {
	return func(c *config) {
		if name == "" {
			c.fail("empty tenant name")
			return
		}
		c.tenant = name
	}
}

// WithMaxConcurrentUsers sets max_concurrent_users (default
// [DefaultMaxConcurrentUsers]): how many sockets may have joined a channel.
// Past it, new sockets get 429 "Too many connected users" and joins from
// sockets not yet counted get "ConnectionRateLimitReached: Too many
// connected users".
func WithMaxConcurrentUsers(n int) Option {
	return func(c *config) {
		if n <= 0 {
			c.fail("max concurrent users %d is not positive", n)
			return
		}
		c.maxUsers = n
	}
}

// WithMaxEventsPerSecond sets max_events_per_second (default
// [DefaultMaxEventsPerSecond]). Events are client pushes (broadcasts and
// unknown events), REST messages and broadcast deliveries, averaged over the
// last minute as the real rate counter does (so the limit trips after
// 60*n events in a minute). While it is tripped, a channel that receives a
// broadcast is shut down with "Too many messages per second", REST answers
// 429 and postgres changes are dropped.
func WithMaxEventsPerSecond(n int) Option {
	return func(c *config) {
		if n <= 0 {
			c.fail("max events per second %d is not positive", n)
			return
		}
		c.maxEventsPerSecond = float64(n)
	}
}

// WithMaxJoinsPerSecond sets max_joins_per_second (default
// [DefaultMaxJoinsPerSecond]), averaged over the last minute. While it is
// tripped, joins fail with "ClientJoinRateLimitReached: Too many joins per
// second" (and the socket is then closed with 1001), and new sockets get 429
// "Too many joins per second".
func WithMaxJoinsPerSecond(n int) Option {
	return func(c *config) {
		if n <= 0 {
			c.fail("max joins per second %d is not positive", n)
			return
		}
		c.maxJoinsPerSecond = float64(n)
	}
}

// WithMaxChannelsPerClient sets max_channels_per_client (default
// [DefaultMaxChannelsPerClient]); a join past it fails with
// "ChannelRateLimitReached: Too many channels".
func WithMaxChannelsPerClient(n int) Option {
	return func(c *config) {
		if n <= 0 {
			c.fail("max channels per client %d is not positive", n)
			return
		}
		c.maxChannelsPerClient = n
	}
}

// WithMaxPayloadKB sets max_payload_size_in_kb (default
// [DefaultMaxPayloadKB]); payloads whose JSON is longer than kb*1000+500
// bytes are refused: an acked broadcast gets the error reply
// "payload_size_exceeded" (an unacked one is dropped), a track shuts the
// channel down with "Track message size exceeded", REST answers 422.
func WithMaxPayloadKB(kb int) Option {
	return func(c *config) {
		if kb <= 0 {
			c.fail("max payload size %d KB is not positive", kb)
			return
		}
		c.maxPayloadBytes = kb*1000 + 500
	}
}

// WithClientPresenceLimit sets how many presence pushes a channel may make
// per window (default [DefaultClientPresenceCalls] per
// [DefaultClientPresenceWindow]); one more shuts the channel down with
// "Client presence rate limit exceeded".
func WithClientPresenceLimit(calls int, window time.Duration) Option {
	return func(c *config) {
		if calls <= 0 || window <= 0 {
			c.fail("client presence limit %d per %v is not positive", calls, window)
			return
		}
		c.presenceCalls, c.presenceWindow = calls, window
	}
}

// WithJoinErrorDelay delays every join error reply by d, as the real server
// does ([RealJoinErrorDelay]); the socket handles nothing else meanwhile.
// The default is no delay.
func WithJoinErrorDelay(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail("join error delay %v is negative", d)
			return
		}
		c.joinErrorDelay = d
	}
}

// WithConnectErrorDelay delays every refused WebSocket handshake by d, as
// the real server does ([RealConnectErrorDelay]). The default is no delay.
func WithConnectErrorDelay(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail("connect error delay %v is negative", d)
			return
		}
		c.connectErrorDelay = d
	}
}

// WithIdleTimeout sets how long a socket may send nothing before the server
// closes it with 1000 (default [DefaultIdleTimeout]).
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("idle timeout %v is not positive", d)
			return
		}
		c.idleTimeout = d
	}
}

// WithPrivateOnly makes the tenant private_only: joins without
// config.private = true fail with "PrivateOnly: This project only allows
// private channels".
func WithPrivateOnly() Option {
	return func(c *config) { c.privateOnly = true }
}

// WithPresenceEnabled turns on the tenant's presence_enabled: every join gets
// a presence_state, as if it had asked for config.presence.enabled.
func WithPresenceEnabled() Option {
	return func(c *config) { c.presenceEnabled = true }
}

// WithMaxFrameSize sets the largest WebSocket message the server accepts
// (default [DefaultMaxFrameSize]); a larger one closes the socket with 1009.
func WithMaxFrameSize(n int64) Option {
	return func(c *config) {
		if n <= 0 {
			c.fail("max frame size %d is not positive", n)
			return
		}
		c.maxFrameSize = n
	}
}

// WithMaxRecordedFrames bounds the recorder (see [Server.Frames]) to the
// last n frames, for long runs and benchmarks; 0 turns recording off (then
// [Server.WaitFor] only ever returns when its context ends). By default
// every frame is kept.
func WithMaxRecordedFrames(n int) Option {
	return func(c *config) {
		if n < 0 {
			c.fail("max recorded frames %d is negative", n)
			return
		}
		c.maxRecorded = n
	}
}

// WithReplicationReadyTimeout sets replication_ready_timeout (default
// [DefaultReplicationReadyTimeout]): a channel that asked for
// broadcast.replication_ready while the replication connection is down
// ([Faults.SetReplicationDown]) is shut down with "Replication connection
// was not established in time" at the first check past it.
func WithReplicationReadyTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("replication ready timeout %v is not positive", d)
			return
		}
		c.replicationTimeout = d
	}
}
