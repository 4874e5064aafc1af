package source_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// TestOptionsValidated covers every Option: each good value is accepted by
// New, each bad one makes New fail with ErrInvalidOption naming the option.
func TestOptionsValidated(t *testing.T) {
	const url = "ws://127.0.0.1:4000/socket"
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) { return nil, errors.New("unused") }
	good := map[string][]source.Option{
		"WithAPIKey":            {source.WithAPIKey("key"), source.WithAPIKey("")},
		"WithAPIKeyHeader":      {source.WithAPIKeyHeader()},
		"WithParam":             {source.WithParam("x", "1"), source.WithParam("x", "")},
		"WithHeader":            {source.WithHeader("X-Client", "a b"), source.WithHeader("Host", "example.com")},
		"WithServerLogLevel":    {source.WithServerLogLevel(""), source.WithServerLogLevel("info"), source.WithServerLogLevel("warning"), source.WithServerLogLevel("error")},
		"WithSerializer":        {source.WithSerializer(phoenix.V1), source.WithSerializer(phoenix.V2)},
		"WithHeartbeat":         {source.WithHeartbeat(time.Second, 0), source.WithHeartbeat(time.Second, 2*time.Second)},
		"WithPushTimeout":       {source.WithPushTimeout(time.Millisecond)},
		"WithSendBuffer":        {source.WithSendBuffer(0), source.WithSendBuffer(1)},
		"WithMaxFrameSize":      {source.WithMaxFrameSize(1)},
		"WithConsumerWait":      {source.WithConsumerWait(0, 0), source.WithConsumerWait(time.Millisecond, time.Second)},
		"WithReconnectBackoff":  {source.WithReconnectBackoff(operators.RealtimeReconnect)},
		"WithMaxReconnects":     {source.WithMaxReconnects(0), source.WithMaxReconnects(3)},
		"WithTLSConfig":         {source.WithTLSConfig(nil), source.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12})},
		"WithDialTimeout":       {source.WithDialTimeout(time.Millisecond)},
		"WithDialer":            {source.WithDialer(nil), source.WithDialer(dial)},
		"WithAccessToken":       {source.WithAccessToken(nil), source.WithAccessToken(func(context.Context) (string, error) { return "t", nil })},
		"WithLogger":            {source.WithLogger(nil), source.WithLogger(slog.Default())},
		"WithMetrics":           {source.WithMetrics(nil)},
		"WithTrafficByTopic":    {source.WithTrafficByTopic(1, 1)},
		"WithErrorHandler":      {source.WithErrorHandler(nil), source.WithErrorHandler(func(error) {})},
		"WithHTTPClient":        {source.WithHTTPClient(nil), source.WithHTTPClient(&http.Client{})},
		"WithAnonymousFallback": {source.WithAnonymousFallback()},
	}
	for name, opts := range good {
		for i, o := range opts {
			_, err := source.New(url, o)
			assert.NoError(t, err, "%s #%d", name, i)
		}
	}

	bad := []struct {
		opt  source.Option
		want string // the error's text after "rxrealtime: invalid option "
	}{
		{source.WithParam("", "1"), "WithParam: empty query parameter name"},
		{source.WithHeader("a b", "1"), `WithHeader: transport: header name "a b" is not an HTTP token`},
		{source.WithHeader("", "1"), `WithHeader: transport: header name "" is not an HTTP token`},
		{source.WithHeader("X-A", "1\r\n2"), `WithHeader: transport: value of header "X-A" contains CR, LF or NUL`},
		{source.WithHeader("sec-websocket-key", "k"), `WithHeader: transport: header "Sec-Websocket-Key" is managed by the WebSocket handshake`},
		{source.WithServerLogLevel("debug"), `WithServerLogLevel: level "debug" is not info, warning or error`},
		{source.WithSerializer(nil), "WithSerializer: nil serializer"},
		{source.WithHeartbeat(0, 0), "WithHeartbeat: interval 0s is not positive"},
		{source.WithHeartbeat(-time.Second, 0), "WithHeartbeat: interval -1s is not positive"},
		{source.WithHeartbeat(time.Second, -time.Second), "WithHeartbeat: timeout -1s is negative"},
		{source.WithPushTimeout(0), "WithPushTimeout: timeout 0s is not positive"},
		{source.WithSendBuffer(-1), "WithSendBuffer: size -1 is negative"},
		{source.WithMaxFrameSize(0), "WithMaxFrameSize: size 0 is not positive"},
		{source.WithConsumerWait(-time.Millisecond, 0), "WithConsumerWait: wait -1ms is negative"},
		{source.WithConsumerWait(time.Second, time.Millisecond), "WithConsumerWait: total 1ms is below each wait 1s"},
		{source.WithReconnectBackoff(nil), "WithReconnectBackoff: nil backoff"},
		{source.WithMaxReconnects(-1), "WithMaxReconnects: count -1 is negative"},
		{source.WithDialTimeout(0), "WithDialTimeout: timeout 0s is not positive"},
		{source.WithTrafficByTopic(0, 1), "WithTrafficByTopic: limits 0 topics, 1 events are not positive"},
		{source.WithTrafficByTopic(1, -1), "WithTrafficByTopic: limits 1 topics, -1 events are not positive"},
	}
	for _, tc := range bad {
		c, err := source.New(url, tc.opt)
		require.Error(t, err, tc.want)
		assert.Nil(t, c)
		assert.ErrorIs(t, err, source.ErrInvalidOption)
		assert.Equal(t, "rxrealtime: invalid option "+tc.want, err.Error())
	}

	// The first bad option is the one reported; later good ones do not
	// clear it, and nil options are skipped.
	_, err := source.New(url, nil, source.WithPushTimeout(-1), source.WithHeartbeat(0, 0), source.WithPushTimeout(time.Second))
	require.ErrorIs(t, err, source.ErrInvalidOption)
	assert.True(t, strings.Contains(err.Error(), "WithPushTimeout"), err.Error())
}

// Reserved query parameters and a header-unsafe key fail in New, not as retried dial errors.
func TestOptionsReservedParamsAndHeaderKey(t *testing.T) {
	for _, key := range []string{"vsn", "apikey", "log_level"} {
		_, err := source.New("ws://127.0.0.1:4000/socket", source.WithParam(key, "x"))
		assert.ErrorIs(t, err, source.ErrInvalidOption, key)
	}
	_, err := source.New("ws://127.0.0.1:4000/socket", source.WithAPIKey("k\r\nX-Evil: 1"), source.WithAPIKeyHeader())
	require.ErrorIs(t, err, source.ErrInvalidOption)
	assert.NotContains(t, err.Error(), "X-Evil", "the key is not in the error")
	_, err = source.New("ws://127.0.0.1:4000/socket", source.WithAPIKey("k\r\nX-Evil: 1")) // in the query it is escaped
	assert.NoError(t, err)
}
