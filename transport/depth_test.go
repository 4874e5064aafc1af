package transport

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A rejected handshake whose body nests past phoenix.MaxDepth: the body is
// kept but not decoded, and the error wraps phoenix.ErrTooDeep; the next
// dial reads its body as usual.
func TestHandshakeBodyPastTheDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", phoenix.MaxDepth+1) + strings.Repeat("]", phoenix.MaxDepth+1)
	bodies := []string{`{"error":"Unauthorized","detail":` + deep + `}`, `{"error":"Unauthorized","detail":[[1]]}`}
	calls := 0
	srv := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(bodies[min(calls, 1)]))
		calls++
	})
	url := "ws" + strings.TrimPrefix(srv, "http") + "/socket"

	_, err := Dial(testCtx(t), url)
	var he *HandshakeError
	require.ErrorAs(t, err, &he)
	require.ErrorIs(t, err, phoenix.ErrTooDeep)
	assert.Equal(t, http.StatusUnauthorized, he.StatusCode)
	assert.Equal(t, bodies[0], string(he.Body))
	assert.Empty(t, he.Message)
	assert.Contains(t, err.Error(), strconv.Itoa(phoenix.MaxDepth))

	_, err = Dial(testCtx(t), url)
	require.ErrorAs(t, err, &he)
	assert.NotErrorIs(t, err, phoenix.ErrTooDeep)
	assert.Equal(t, "Unauthorized", he.Message)
}
