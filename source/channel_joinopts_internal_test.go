package source

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/rxrealtime/rxrealtime/source/postgres"
)

// client.md §1.7: with postgres_changes_options.wait and at least one
// binding, the join timeout is max(timeout, (wait timeout ?? 15 s) + 10 s).
func TestPostgresWaitJoinTimeoutRule(t *testing.T) {
	b := []postgres.Binding{{Event: postgres.Insert, Schema: "public", Table: "t"}}
	for _, tc := range []struct {
		name     string
		cfg      channelConfig
		expected time.Duration
	}{
		{"no wait", channelConfig{joinTimeout: 10 * time.Second, bindings: b}, 10 * time.Second},
		{"wait without bindings", channelConfig{joinTimeout: 10 * time.Second, pgWait: true}, 10 * time.Second},
		{"server default", channelConfig{joinTimeout: 10 * time.Second, pgWait: true, bindings: b}, 25 * time.Second},
		{"own wait", channelConfig{joinTimeout: 10 * time.Second, pgWait: true, pgWaitTimeout: 2 * time.Second, bindings: b}, 12 * time.Second},
		{"longer join timeout wins", channelConfig{joinTimeout: time.Minute, pgWait: true, pgWaitTimeout: 2 * time.Second, bindings: b}, time.Minute},
	} {
		assert.Equal(t, tc.expected, postgresWaitJoinTimeout(&tc.cfg), tc.name)
	}
}
