package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun runs the example as main does and checks what it prints, so the
// quickstart cannot rot.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out))

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 7, out.String())
	assert.Regexp(t, regexp.MustCompile(`^server: listening on ws://127\.0\.0\.1:\d+/socket$`), lines[0])
	assert.Equal(t, []string{
		"channel: realtime:quickstart SUBSCRIBED",
		"presence: gopher joined as Gopher (online)",
		`postgres_changes: INSERT public.messages id=1 body="hello from Postgres"`,
		"broadcast: sent and acknowledged",
		"broadcast: received cursor at (10,20)",
		"done",
	}, lines[1:])
}
