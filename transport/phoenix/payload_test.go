package phoenix

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseReply(t *testing.T) {
	cases := []struct {
		in       string
		status   string
		response string
	}{
		{`{"status":"ok","response":{}}`, "ok", `{}`},
		{` { "response" : {"postgres_changes":[{"id":1}]} , "status" : "error" } `, "error", `{"postgres_changes":[{"id":1}]}`},
		{`{"status":"error","response":"payload_size_exceeded"}`, "error", `"payload_size_exceeded"`},
		{`{"status":"o\u006b","extra":[1],"response":null}`, "ok", `null`},
		{`{"status":"timeout"}`, "timeout", ``},
	}
	for _, c := range cases {
		status, response, err := ParseReply([]byte(c.in))
		require.NoError(t, err, c.in)
		assert.Equal(t, c.status, status, c.in)
		assert.Equal(t, c.response, string(response), c.in)
	}
	for _, bad := range []string{``, `[]`, `{"response":{}}`, `{"status":1,"response":{}}`, `{"status":"ok",}`, `{"status":"ok"} x`, `{"status":"ok"`} {
		_, _, err := ParseReply([]byte(bad))
		var pe *PayloadError
		require.ErrorAs(t, err, &pe, bad)
		assert.ErrorIs(t, err, ErrMalformed)
		assert.Equal(t, "reply", pe.Shape)
		assert.Contains(t, pe.Error(), "reply payload")
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, _, _ = ParseReply([]byte(`{"status":"ok","response":{"postgres_changes":[]}}`))
	})
	assert.Zero(t, allocs)
}

func TestParseBroadcast(t *testing.T) {
	event, p, meta, err := ParseBroadcast([]byte(`{"type":"broadcast","event":"cursor","payload":{"x":1}}`))
	require.NoError(t, err)
	assert.Equal(t, "cursor", event)
	assert.Equal(t, `{"x":1}`, string(p))
	assert.Nil(t, meta)

	event, p, meta, err = ParseBroadcast([]byte(`{"meta":{"replayed":true},"payload":[1],"event":"\u00e9v","x":0}`))
	require.NoError(t, err)
	assert.Equal(t, "év", event)
	assert.Equal(t, `[1]`, string(p))
	assert.Equal(t, `{"replayed":true}`, string(meta))

	event, p, _, err = ParseBroadcast([]byte(`{"event":"e"}`))
	require.NoError(t, err)
	assert.Equal(t, "e", event)
	assert.Nil(t, p)

	for _, bad := range []string{`1`, `{}`, `{"event":2}`, `{"type":"presence","event":"e"}`, `{"type":1,"event":"e"}`, `{"event":"e"`} {
		_, _, _, err := ParseBroadcast([]byte(bad))
		var pe *PayloadError
		require.ErrorAs(t, err, &pe, bad)
		assert.ErrorIs(t, err, ErrMalformed)
		assert.Equal(t, "broadcast", pe.Shape)
	}
}
