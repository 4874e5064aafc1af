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

// TestRun runs the example as main does and checks what it prints.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out))
	assert.Equal(t, []string{
		"subscribed to realtime:todos",
		`INSERT public.todos: #9007199254740993 "buy milk" done=false due=2026-03-01`,
		`UPDATE public.todos: #9007199254740993 "buy milk" done=true (old row: key #9007199254740993)`,
		"DELETE public.todos: #9007199254740993",
	}, strings.Split(strings.TrimSpace(out.String()), "\n"))
}
