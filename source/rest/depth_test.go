package rest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source/rest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// An error body nested past phoenix.MaxDepth is not decoded: the error
// says so (wrapping phoenix.ErrTooDeep) and keeps its status, and the next
// request is unaffected.
func TestErrorBodyPastTheDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", phoenix.MaxDepth+1) + strings.Repeat("]", phoenix.MaxDepth+1)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"errors":{"payload":` + deep + `}}`))
		case 2:
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"errors":{"payload":["is invalid"]}}`))
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := rest.New(srv.URL, "anon", rest.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	send := func() error { return c.Broadcast(context.Background(), "room", "ev", map[string]int{"a": 1}, false) }

	err = send()
	require.ErrorIs(t, err, phoenix.ErrTooDeep)
	require.ErrorIs(t, err, rest.ErrInvalid)
	var se *rest.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusUnprocessableEntity, se.Status)
	assert.Equal(t, http.StatusText(http.StatusUnprocessableEntity), se.Message, "a body that is not read explains nothing")
	assert.Contains(t, err.Error(), strconv.Itoa(phoenix.MaxDepth))

	err = send()
	require.ErrorIs(t, err, rest.ErrInvalid)
	assert.NotErrorIs(t, err, phoenix.ErrTooDeep)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, `{"payload":["is invalid"]}`, se.Message)

	require.NoError(t, send())
}
