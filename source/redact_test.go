package source_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport"
)

// A server that echoes the client's API key and access token in a join refusal, at length (issue 18,
// items 4 and 5): no error, error text or log line carries either, and what an error prints is bounded,
// while its fields keep the whole (redacted) text.
func TestServerTextInErrorsIsRedactedAndBounded(t *testing.T) {
	const key = "anon-key-that-the-server-echoes"
	s := newServer(t, realtimetest.WithJoinErrorDelay(time.Millisecond))
	token := s.Token("authenticated", time.Hour)
	long := strings.Repeat("blah ", 200_000) // 1 MB
	s.Faults().RejectJoins("InvalidJWTToken: token " + token + " and key " + key + " refused. " + long)

	var logs logBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var mu sync.Mutex
	var seen []error
	c := connect(t, s, source.WithAPIKey(key), source.WithLogger(logger),
		source.WithAccessToken(func(context.Context) (string, error) { return token, nil }),
		source.WithErrorHandler(func(err error) { mu.Lock(); seen = append(seen, err); mu.Unlock() }))
	ch, err := c.Channel("room")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err = ch.Subscribe(ctx)
	var je *source.JoinError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "InvalidJWTToken", je.Code)
	assert.Greater(t, len(je.Reason), len(long), "the field keeps the whole reason")
	assert.Contains(t, je.Reason, "token "+transport.Redacted+" and key "+transport.Redacted)
	require.NoError(t, c.Close(waitCtx(t)))

	mu.Lock()
	errs := append([]error{err, je}, seen...)
	mu.Unlock()
	for _, e := range errs {
		text := e.Error()
		assert.NotContains(t, text, token)
		assert.NotContains(t, text, key)
		assert.Less(t, len(text), 1000, "an error prints a bounded text: %.120s…", text)
	}
	out := logs.String()
	assert.NotContains(t, out, token)
	assert.NotContains(t, out, key)
	assert.Contains(t, out, "InvalidJWTToken", "the refusal was logged")
	assert.Less(t, len(out), 100_000, "log lines are bounded")
}

// An acknowledged broadcast the server refuses for its size says why: the reply's response is the bare
// string "payload_size_exceeded" (issue 20, item 3), which is the ReplyError's reason and in its text.
func TestRefusedBroadcastSaysWhy(t *testing.T) {
	s := newServer(t, realtimetest.WithMaxPayloadKB(1))
	c := connect(t, s, fast()...)
	ch, err := c.Channel("big", source.WithBroadcastAck())
	require.NoError(t, err)
	require.NoError(t, ch.Subscribe(waitCtx(t)))
	err = ch.Send(waitCtx(t), "blob", map[string]string{"data": strings.Repeat("x", 4000)})
	var re *source.ReplyError
	require.ErrorAs(t, err, &re)
	assert.ErrorIs(t, err, source.ErrReply)
	assert.Equal(t, "payload_size_exceeded", re.Reason)
	assert.Contains(t, err.Error(), "payload_size_exceeded")
	assert.JSONEq(t, `"payload_size_exceeded"`, string(re.Response))
	require.NoError(t, ch.Send(waitCtx(t), "small", map[string]string{"data": "x"}), "the channel carries on")
}
