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

// TestRun runs the example as main does and checks the conversation.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out))
	assert.Equal(t, []string{
		"alice sees alice online",
		"bob sees alice online",
		"alice sees bob online",
		"bob -> room: hello alice",
		"alice <- bob: hello alice",
		"alice -> room: hi bob, welcome",
		"bob <- alice: hi bob, welcome",
		"alice sees bob leave",
		"alice: 1 online",
	}, strings.Split(strings.TrimSpace(out.String()), "\n"))
}
