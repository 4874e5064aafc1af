package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestOffline runs the example without a project, as go run does when
// SUPABASE_URL is not set.
func TestOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, func(string) string { return "" }))
	assert.Equal(t, []string{
		"SUPABASE_URL or SUPABASE_ANON_KEY not set: running offline",
		"signed in",
		"connected",
		"subscribed",
		"received: hello over the socket",
		"received: hello over REST",
		"token refreshed, still subscribed",
	}, strings.Split(strings.TrimSpace(out.String()), "\n"))
}
