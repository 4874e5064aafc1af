package realtimetest

import (
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func TestHeartbeatV2(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	c.sendText(`[null,"5","phoenix","heartbeat",{}]`)
	c.expect(`[null,"5","phoenix","phx_reply",{"status":"ok","response":{}}]`)
}

func TestHeartbeatV1(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "1.0.0")
	c.sendText(`{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"5"}`)
	c.expectJSON(`{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"5"}`)
}

func TestJoinWithPostgresBindingV2(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	c.sendText(`["1","1","realtime:any","phx_join",{"config":{"broadcast":{"self":false,"ack":false},"presence":{"enabled":false,"key":""},"postgres_changes":[{"event":"INSERT","schema":"public"}],"private":false}}]`)
	id := bindingID([]byte(`{"event":"INSERT","schema":"public"}`))
	assert.True(t, id >= 0 && id <= maxBindingID)
	c.expect(`["1","1","realtime:any","phx_reply",{"status":"ok","response":{"postgres_changes":[{"id":` + strconv.FormatInt(id, 10) + `,"event":"INSERT","schema":"public"}]}}]`)
	c.expect(`["1",null,"realtime:any","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"any"}]`)
	c.expectNone()
}

func TestUnknownVsnIs403WithEmptyBody(t *testing.T) {
	s := newServer(t)
	resp, err := http.Get(s.HTTPURL() + "/socket/websocket?apikey=x&vsn=3.0.0")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, body)
	_ = transport.StatusGoingAway
	_ = phoenix.V1
}
