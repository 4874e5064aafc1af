package source

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source/postgres"
)

// TestConfigDiffNamesEveryOption: for every field of channelConfig, two requests that differ only there
// are not the same configuration, and the difference names the option. A field added to channelConfig
// without a row here fails the test, so that a new option cannot be shared silently across requests
// that disagree on it.
func TestConfigDiffNamesEveryOption(t *testing.T) {
	private := WithPrivate()
	rows := postgres.Binding{Event: postgres.Insert, Table: "todos"}
	// field -> the option that names it, and the options that set it apart from the base (private, so
	// that the replay and gap-free options validate).
	differs := map[string]struct {
		option string
		opts   []ChannelOption
	}{
		"broadcastSelf":    {"WithBroadcastSelf", []ChannelOption{WithBroadcastSelf()}},
		"broadcastAck":     {"WithBroadcastAck", []ChannelOption{WithBroadcastAck()}},
		"replay":           {"WithBroadcastReplay", []ChannelOption{WithBroadcastReplay(time.UnixMilli(1), 5)}},
		"presenceKey":      {"WithPresence", []ChannelOption{WithPresence("u2")}},
		"presenceEnabled":  {"WithPresence", []ChannelOption{func(c *channelConfig) { c.presenceEnabled = false }}},
		"bindings":         {"WithPostgresChanges", []ChannelOption{WithPostgresChanges(rows)}},
		"private":          {"WithPrivate", []ChannelOption{func(c *channelConfig) { c.private = false }}},
		"waitForPostgres":  {"WithWaitForPostgres", []ChannelOption{WithWaitForPostgres()}},
		"joinTimeout":      {"WithJoinTimeout", []ChannelOption{WithJoinTimeout(3 * time.Second)}},
		"rejoin":           {"WithRejoinBackoff", []ChannelOption{WithRejoinBackoff(operators.StepBackoff{time.Second})}},
		"noRejoinOnExpiry": {"WithoutRejoinOnTokenExpiry", []ChannelOption{WithoutRejoinOnTokenExpiry()}},
		"replicationReady": {"WithReplicationReady", []ChannelOption{WithReplicationReady()}},
		"pgWait":           {"WithPostgresChangesWait", []ChannelOption{func(c *channelConfig) { c.pgWait = false }}},
		"pgWaitTimeout":    {"WithPostgresChangesWait", []ChannelOption{WithPostgresChangesWait(time.Second)}},
		"gapFree":          {"WithGapFreeBroadcasts", []ChannelOption{WithGapFreeBroadcasts()}},
		"gapMargin":        {"WithGapFreeMargin", []ChannelOption{WithGapFreeMargin(time.Second)}},
		"presenceCalls":    {"WithPresenceLimit", []ChannelOption{WithPresenceLimit(3, DefaultPresenceWindow)}},
		"presenceWindow":   {"WithPresenceLimit", []ChannelOption{WithPresenceLimit(DefaultPresenceCalls, time.Minute)}},
	}
	base := []ChannelOption{private, WithPresence("u1"), WithPostgresChangesWait(2 * time.Second)}
	_, live, err := channelSetup("room", 10*time.Second, base)
	require.NoError(t, err)
	_, same, err := channelSetup("room", 10*time.Second, base)
	require.NoError(t, err)
	assert.Empty(t, configDiff(&same, &live), "the same options are the same configuration")

	rt := reflect.TypeFor[channelConfig]()
	for i := range rt.NumField() {
		field := rt.Field(i).Name
		d, ok := differs[field]
		if !assert.True(t, ok, "channelConfig.%s has no row here: make configDiff compare it, then add the row", field) {
			continue
		}
		_, want, err := channelSetup("room", 10*time.Second, append(slices.Clone(base), d.opts...))
		require.NoError(t, err, field)
		require.NotEqual(t, fmt.Sprintf("%v", reflect.ValueOf(want).Field(i)), fmt.Sprintf("%v", reflect.ValueOf(live).Field(i)),
			"the row of %s does not change it", field)
		diff := configDiff(&want, &live)
		assert.True(t, slices.ContainsFunc(diff, func(s string) bool { return strings.HasPrefix(s, d.option+": ") }),
			"%s: %v does not name %s", field, diff, d.option)
	}
}

// TestConfigDiffBackoffs: a rejoin backoff is the same by value; a func backoff is never the same.
func TestConfigDiffBackoffs(t *testing.T) {
	cfg := func(b operators.Backoff) *channelConfig {
		_, c, err := channelSetup("room", time.Second, []ChannelOption{WithRejoinBackoff(b)})
		require.NoError(t, err)
		return &c
	}
	assert.Empty(t, configDiff(cfg(operators.StepBackoff{time.Second}), cfg(operators.StepBackoff{time.Second})))
	assert.Empty(t, configDiff(cfg(DefaultRejoinBackoff), cfg(operators.RealtimeReconnect)))
	f := operators.BackoffFunc(func(int) time.Duration { return time.Second })
	diff := configDiff(cfg(f), cfg(f))
	require.Len(t, diff, 1)
	assert.Contains(t, diff[0], "a func equals no other backoff")
}
