package source

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/source/postgres"
)

// joinPayload is the phx_join payload, as realtime-js builds it (the
// whole config is sent, not merged shallowly, so no default is lost).
type joinPayload struct {
	Config      joinConfig `json:"config"`
	AccessToken string     `json:"access_token,omitempty"`
}

type joinConfig struct {
	Broadcast       joinBroadcast      `json:"broadcast"`
	Presence        joinPresence       `json:"presence"`
	PostgresChanges []postgres.Binding `json:"postgres_changes"`
	Private         bool               `json:"private"`
	// PostgresOptions is sent only when set, as realtime-js does.
	PostgresOptions *joinPostgresOptions `json:"postgres_changes_options,omitempty"`
}

// joinPostgresOptions is config.postgres_changes_options: the server holds
// the join reply until the postgres_changes subscription is up (or timeout
// ms have passed, clamped by the server to 20 s).
type joinPostgresOptions struct {
	Wait    bool  `json:"wait"`
	Timeout int64 `json:"timeout,omitempty"`
}

type joinBroadcast struct {
	Ack    bool        `json:"ack"`
	Self   bool        `json:"self"`
	Replay *joinReplay `json:"replay,omitempty"`
	// ReplicationReady opts in to the "Replication connection established"
	// system message; sent only when true.
	ReplicationReady bool `json:"replication_ready,omitempty"`
}

type joinPresence struct {
	Key     string `json:"key"`
	Enabled bool   `json:"enabled"`
}

// joinPayload is the payload of a join carrying token, with presence enabled or not.
func (ch *Channel) joinPayload(token string, presence bool) ([]byte, error) {
	cfg := ch.cfg
	p := joinPayload{
		Config: joinConfig{
			Broadcast:       joinBroadcast{Ack: cfg.broadcastAck, Self: cfg.broadcastSelf, ReplicationReady: cfg.replicationReady},
			Presence:        joinPresence{Key: cfg.presenceKey, Enabled: presence},
			PostgresChanges: cfg.bindings,
			Private:         cfg.private,
		},
		AccessToken: token,
	}
	if p.Config.PostgresChanges == nil {
		p.Config.PostgresChanges = []postgres.Binding{}
	}
	ref := ch.currentJoinRef()
	if p.Config.Broadcast.Replay = ch.gapReplay(ref); p.Config.Broadcast.Replay != nil {
		ch.replay.ask(ref)
	}
	if cfg.pgWait {
		p.Config.PostgresOptions = &joinPostgresOptions{Wait: true, Timeout: ceilMillis(cfg.pgWaitTimeout)}
	}
	return json.Marshal(p)
}

func validateBindings(bs []postgres.Binding) error {
	for i, b := range bs {
		if err := b.Validate(); err != nil {
			return fmt.Errorf("%w: postgres_changes binding %d: %w", ErrInvalidChannel, i, err)
		}
	}
	return nil
}

// dedupeBindings drops repeated bindings, as realtime-js does, so that
// the server's ids stay aligned by index.
func dedupeBindings(bs []postgres.Binding) []postgres.Binding {
	out := bs[:0:0]
	seen := make(map[string]bool, len(bs))
	for _, b := range bs {
		k, _ := b.MarshalJSON() // validated already
		if seen[string(k)] {
			continue
		}
		seen[string(k)] = true
		out = append(out, b)
	}
	return out
}

// ceilMillis is d in whole milliseconds, rounded up.
func ceilMillis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// Server-side Postgres wait (postgres_changes_options), client.md §1.7.
const (
	// DefaultPostgresWaitTimeout is the server's wait when the join does
	// not name one (PostgresChangesOptions @default_timeout).
	DefaultPostgresWaitTimeout = 15 * time.Second
	// postgresWaitGrace is what realtime-js adds to the wait for the join
	// timeout: it covers the server's 5 s CHANNEL_ERROR_BACKOFF_MS sleep
	// before an error reply.
	postgresWaitGrace = 10 * time.Second
)

// postgresWaitJoinTimeout is realtime-js's join timeout rule: with
// postgres_changes_options.wait and at least one binding, the join waits
// max(timeout, (wait timeout or 15 s) + 10 s).
func postgresWaitJoinTimeout(cfg *channelConfig) time.Duration {
	if !cfg.pgWait || len(cfg.bindings) == 0 {
		return cfg.joinTimeout
	}
	wait := cfg.pgWaitTimeout
	if wait == 0 {
		wait = DefaultPostgresWaitTimeout
	}
	return max(cfg.joinTimeout, wait+postgresWaitGrace)
}

// permanentRefusal classifies a join refusal by the server's code (realtime_channel.ex, see
// ../shared/protocol/server.md §2.4): true when retrying the same join cannot succeed. Codes about the
// token are permanent only when no token provider can give another one. Anything unknown is transient,
// as realtime-js treats every refusal.
func permanentRefusal(code, message string, tokenProvider bool) bool {
	switch code {
	case "TopicNameRequired", "Unauthorized", "PrivateOnly", "TenantNotFound", "RealtimeDisabledForTenant":
		return true
	case "UnableToReplayMessages":
		// "Replay is not allowed for public channels", "Replay params are not valid": the request; "Realtime
		// was unable to replay messages": the database, transient.
		return !strings.Contains(message, "unable to replay")
	case "InvalidJWTToken", "MalformedJWT", "JwtSignatureError":
		return !tokenProvider
	}
	return false
}

// channelSetup reads a channel's name and options: its topic and configuration, or an error wrapping
// ErrInvalidChannel that names the first bad option.
func channelSetup(name string, pushTimeout time.Duration, opts []ChannelOption) (string, channelConfig, error) {
	cfg := channelConfig{joinTimeout: pushTimeout, rejoin: DefaultRejoinBackoff, gapMargin: DefaultGapFreeMargin,
		presenceCalls: DefaultPresenceCalls, presenceWindow: DefaultPresenceWindow}
	if name == "" || name == "realtime:" {
		return "", cfg, fmt.Errorf("%w: empty channel name", ErrInvalidChannel)
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	var bad string
	switch {
	case cfg.replay != nil && !cfg.private:
		bad = "WithBroadcastReplay needs a private channel (WithPrivate)"
	case cfg.replay != nil && (cfg.replay.limit < 0 || cfg.replay.sinceMillis() < 0):
		bad = "WithBroadcastReplay needs a non-negative since and limit"
	case cfg.gapFree && !cfg.private:
		bad = "WithGapFreeBroadcasts needs a private channel (WithPrivate)"
	case cfg.gapMargin < 0:
		bad = fmt.Sprintf("WithGapFreeMargin: margin %v is negative", cfg.gapMargin)
	case cfg.joinTimeout <= 0:
		bad = fmt.Sprintf("WithJoinTimeout: timeout %v is not positive", cfg.joinTimeout)
	case cfg.rejoin == nil:
		bad = "WithRejoinBackoff: nil backoff"
	case cfg.pgWaitTimeout < 0:
		bad = fmt.Sprintf("WithPostgresChangesWait: timeout %v is negative", cfg.pgWaitTimeout)
	case cfg.presenceCalls <= 0 || cfg.presenceWindow <= 0:
		bad = fmt.Sprintf("WithPresenceLimit: %d calls per %v is not positive", cfg.presenceCalls, cfg.presenceWindow)
	}
	if bad != "" {
		return "", cfg, fmt.Errorf("%w: %s", ErrInvalidChannel, bad)
	}
	if err := validateBindings(cfg.bindings); err != nil {
		return "", cfg, err
	}
	cfg.bindings = dedupeBindings(cfg.bindings)
	cfg.joinTimeout = postgresWaitJoinTimeout(&cfg)
	topic := name
	if !strings.HasPrefix(topic, "realtime:") {
		topic = "realtime:" + name
	}
	return topic, cfg, nil
}
