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

// TestRun runs the example as main does and checks the screens it prints:
// the last one, after the restart, is the table as the server holds it,
// changes made while it was down included.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out))
	assert.Equal(t, []string{
		"== loaded (synced true, 1 loads)",
		"   #1 design the API       done",
		"   #2 write the tests      doing",
		"   #3 ship it              todo",
		"== live: card 2 moved (synced true, 1 loads)",
		"   #1 design the API       done",
		"   #2 write the tests      done",
		"   #3 ship it              todo",
		"== server down: the last rows, stale (synced false, 1 loads)",
		"   #1 design the API       done",
		"   #2 write the tests      done",
		"   #3 ship it              todo",
		"== server back: reloaded and reconciled (synced true, 2 loads)",
		"   #2 write the tests      done",
		"   #3 ship it              doing",
		"   #5 write the changelog  todo",
		"== found by the reload",
		"   - #1 design the API",
		"   ~ #3 ship it: todo -> doing",
		"   + #5 write the changelog",
	}, strings.Split(strings.TrimRight(out.String(), "\n"), "\n"))
}
