package realtimetest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

const (
	joinPlain    = `{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},"postgres_changes":[],"private":false}}`
	joinSelfAck  = `{"config":{"broadcast":{"ack":true,"self":true},"presence":{"key":"","enabled":false},"postgres_changes":[],"private":false}}`
	joinPrivate  = `{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},"postgres_changes":[],"private":true}}`
	okEmptyReply = `{"status":"ok","response":{}}`
)

// joinOK joins topic and consumes the reply (and nothing else).
func (c *client) joinOK(topic, payload string) string {
	c.t.Helper()
	jr := c.join(topic, payload)
	c.expect(`["` + jr + `","` + jr + `","` + topic + `","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]`)
	return jr
}

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
	c.expect(`{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"5"}`)
}

func TestJoinReplyV1HasNoJoinRef(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "1.0.0")
	c.sendText(`{"topic":"realtime:room","event":"phx_join","payload":` + joinPlain + `,"ref":"1","join_ref":"1"}`)
	c.expect(`{"topic":"realtime:room","event":"phx_reply","payload":{"status":"ok","response":{"postgres_changes":[]}},"ref":"1"}`)
}

func TestJoinWithPostgresBindingV2(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	c.sendText(`["1","1","realtime:any","phx_join",{"config":{"broadcast":{"self":false,"ack":false},"presence":{"enabled":false,"key":""},"postgres_changes":[{"event":"INSERT","schema":"public"}],"private":false}}]`)
	id := bindingID([]byte(`{"event":"INSERT","schema":"public"}`))
	c.expect(`["1","1","realtime:any","phx_reply",{"status":"ok","response":{"postgres_changes":[{"id":` + strconv.FormatInt(id, 10) + `,"event":"INSERT","schema":"public"}]}}]`)
	c.expect(`["1",null,"realtime:any","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"any"}]`)
	c.expectNone()
}

func TestJoinWithBadFilterStillJoinsAndReportsTheError(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	jr := c.join("realtime:f", `{"config":{"postgres_changes":[{"event":"*","schema":"public","table":"t","filter":"id=wrong.1"}]}}`)
	m := c.nextMsg()
	assert.Equal(t, phoenix.EventReply, m.Event)
	status, _, err := phoenix.ParseReply(m.Payload)
	require.NoError(t, err)
	assert.Equal(t, "ok", status)
	c.expect(`["` + jr + `",null,"realtime:f","system",{"extension":"postgres_changes","status":"error","message":"Error parsing ` +
		"`filter`" + ` params: [\"wrong\", \"1\"]","channel":"f"}]`)
	n, err := s.EmitChange(Change{Type: Insert, Schema: "public", Table: "t", Record: map[string]any{"id": 1}})
	require.NoError(t, err)
	assert.Zero(t, n, "a channel whose subscription failed gets no changes")
}

func TestJoinOrderPostgresThenReplicationThenPresence(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	jr := c.join("realtime:all", `{"config":{"broadcast":{"replication_ready":true},"presence":{"enabled":true,"key":"me"},"postgres_changes":[{"event":"*","schema":"public","table":"t"}]}}`)
	assert.Equal(t, phoenix.EventReply, c.nextMsg().Event)
	c.expect(`["` + jr + `",null,"realtime:all","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"all"}]`)
	c.expect(`["` + jr + `",null,"realtime:all","system",{"extension":"system","status":"ok","message":"Replication connection established","channel":"all"}]`)
	c.expect(`["` + jr + `",null,"realtime:all","presence_state",{}]`)
}

func TestJoinErrors(t *testing.T) {
	cases := []struct {
		name    string
		opts    []Option
		topic   string
		payload string
		reason  string
	}{
		{"no topic name", nil, "realtime:", joinPlain, "TopicNameRequired: You must provide a topic name"},
		{"private only", []Option{WithPrivateOnly()}, "realtime:x", joinPlain, "PrivateOnly: This project only allows private channels"},
		{"replay on public", nil, "realtime:x", `{"config":{"broadcast":{"replay":{"since":1}}}}`,
			"UnableToReplayMessages: Replay is not allowed for public channels"},
		{"bad replay params", nil, "realtime:x", `{"config":{"private":true,"broadcast":{"replay":{}}}}`,
			"UnableToReplayMessages: Replay params are not valid"},
		{"non-map binding", nil, "realtime:x", `{"config":{"postgres_changes":[1]}}`, "UnknownErrorOnChannel: expected a map, got: 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.opts...)
			c := dial(t, s, "2.0.0")
			jr := c.join(tc.topic, tc.payload)
			c.expect(`["` + jr + `","` + jr + `","` + tc.topic + `","phx_reply",{"status":"error","response":{"reason":"` + tc.reason + `"}}]`)
			c.expectNone()
			require.Len(t, s.Clients(), 1)
			assert.Empty(t, s.Clients()[0].Channels)
		})
	}
}

func TestPrivateOnlyAcceptsPrivateJoinAndValidReplay(t *testing.T) {
	s := newServer(t, WithPrivateOnly())
	c := dial(t, s, "2.0.0")
	c.joinOK("realtime:p", `{"config":{"private":true,"broadcast":{"replay":{"since":1719999999000,"limit":10}}}}`)
}

func TestJoinErrorDelayBlocksTheSocket(t *testing.T) {
	s := newServer(t, WithJoinErrorDelay(50*time.Millisecond))
	c := dial(t, s, "2.0.0")
	jr := c.join("realtime:", joinPlain)
	c.sendText(`[null,"99","phoenix","heartbeat",{}]`)
	c.expect(`["` + jr + `","` + jr + `","realtime:","phx_reply",{"status":"error","response":{"reason":"TopicNameRequired: You must provide a topic name"}}]`)
	c.expect(`[null,"99","phoenix","phx_reply",{"status":"ok","response":{}}]`)
	in, err := s.WaitFor(ctx(t), func(f Frame) bool { return f.Dir == In && f.Msg.Event == phoenix.EventJoin })
	require.NoError(t, err)
	out, err := s.WaitFor(ctx(t), func(f Frame) bool { return f.Dir == Out && f.Msg.Ref == jr })
	require.NoError(t, err)
	assert.GreaterOrEqual(t, out.Time.Sub(in.Time), 50*time.Millisecond)
}

func TestLeaveRepliesThenCloses(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	jr := c.joinOK("realtime:room", joinPlain)
	ref := c.push(jr, "realtime:room", "phx_leave", "{}")
	c.expect(`["` + jr + `","` + ref + `","realtime:room","phx_reply",{"status":"ok","response":{}}]`)
	c.expect(`["` + jr + `","` + jr + `","realtime:room","phx_close",{}]`)
	ref = c.push(jr, "realtime:room", "broadcast", `{"type":"broadcast","event":"e","payload":{}}`)
	c.expect(`[null,"` + ref + `","realtime:room","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]`)
}

func TestLeaveOfTopicNotJoinedRepliesOK(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	c.sendText(`["7","8","realtime:x","phx_leave",{}]`)
	c.expect(`["7","8","realtime:x","phx_reply",{"status":"ok","response":{}}]`)
	c.expectNone()
}

func TestDuplicateJoinRepliesThenClosesTheOldJoin(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	c.sendText(`["1","1","realtime:room","phx_join",{"config":{"presence":{"enabled":true}}}]`)
	c.expect(`["1","1","realtime:room","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]`)
	c.expect(`["1",null,"realtime:room","presence_state",{}]`)
	c.sendText(`["3","3","realtime:room","phx_join",{"config":{"presence":{"enabled":true}}}]`)
	c.expect(`["3","3","realtime:room","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]`)
	c.expect(`["1","1","realtime:room","phx_close",{}]`)
	c.expect(`["3",null,"realtime:room","presence_state",{}]`)
	require.Len(t, s.Clients()[0].Channels, 1)
	assert.Equal(t, "3", s.Clients()[0].Channels[0].JoinRef)
}

// A phx_leave whose join_ref is not the topic's current join is ignored, as Phoenix ignores it ("the
// client has raced a server close"): no reply, and the current join stays. The test server used to leave
// whatever join the topic had, so a client's late leave of an old join closed its new one.
func TestStaleLeaveIsIgnored(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	c.sendText(`["1","1","realtime:room","phx_join",{"config":{"presence":{"enabled":true}}}]`)
	c.expect(`["1","1","realtime:room","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]`)
	c.expect(`["1",null,"realtime:room","presence_state",{}]`)
	c.sendText(`["3","3","realtime:room","phx_join",{"config":{"presence":{"enabled":true}}}]`)
	c.expect(`["3","3","realtime:room","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]`)
	c.expect(`["1","1","realtime:room","phx_close",{}]`)
	c.expect(`["3",null,"realtime:room","presence_state",{}]`)
	c.sendText(`["1","4","realtime:room","phx_leave",{}]`)
	c.expectNone()
	require.Len(t, s.Clients()[0].Channels, 1)
	assert.Equal(t, "3", s.Clients()[0].Channels[0].JoinRef)
	c.sendText(`["3","5","realtime:room","phx_leave",{}]`)
	c.expect(`["3","5","realtime:room","phx_reply",{"status":"ok","response":{}}]`)
	c.expect(`["3","3","realtime:room","phx_close",{}]`)
}

func TestDuplicateJoinThatFailsStillClosesTheOldJoin(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	c.joinOK("realtime:room", joinPlain)
	s.Faults().RejectJoins("RealtimeRestarting: Realtime is restarting, please standby")
	c.sendText(`["5","5","realtime:room","phx_join",{}]`)
	c.expect(`["5","5","realtime:room","phx_reply",{"status":"error","response":{"reason":"RealtimeRestarting: Realtime is restarting, please standby"}}]`)
	c.expect(`["1","1","realtime:room","phx_close",{}]`)
	assert.Empty(t, s.Clients()[0].Channels)
}

func TestUnmatchedTopic(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	c.sendText(`["1","2","realtime:nope","broadcast",{"type":"broadcast","event":"e","payload":{}}]`)
	c.expect(`[null,"2","realtime:nope","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]`)
	c.sendText(`["3","3","room","phx_join",{}]`)
	c.expect(`[null,"3","room","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]`)
	c.sendText(`["4","4","phoenix","phx_join",{}]`)
	c.expect(`[null,"4","phoenix","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]`)
	c.sendText(`[null,"5","phoenix","other",{}]`)
	c.expect(`[null,"5","phoenix","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]`)
}

func TestUnknownEventGetsNoReply(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	jr := c.joinOK("realtime:room", joinPlain)
	c.push(jr, "realtime:room", "foo", `{"a":1}`)
	c.expectNone()
}

func TestStaleJoinRefIsStillDelivered(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	c.joinOK("realtime:room", joinSelfAck)
	ref := c.push("999", "realtime:room", "broadcast", `{"type":"broadcast","event":"e","payload":{}}`)
	c.expect(`[null,null,"realtime:room","broadcast",{"type":"broadcast","event":"e","payload":{}}]`)
	c.expect(`["1","` + ref + `","realtime:room","phx_reply",{"status":"ok","response":{}}]`)
}

func TestMalformedFramesAreIgnoredAndRecorded(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	for _, bad := range []string{"not json", `[1,2]`, `{"topic":"x"}`, ``, `["1","1","t"]`} {
		c.sendText(bad)
	}
	require.NoError(t, c.tc.WriteFrame(context.Background(), []byte{9, 9, 9}, true))
	c.expectNone()
	var bad int
	for _, f := range s.Frames() {
		if f.Dir == In && f.Err != nil {
			bad++
			assert.ErrorIs(t, f.Err, phoenix.ErrMalformed)
			assert.Empty(t, f.Msg.Event)
		}
	}
	assert.Equal(t, 6, bad)
}

func TestServerPushesNeverCarryJoinRefOnV1(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "1.0.0")
	c.sendText(`{"topic":"realtime:room","event":"phx_join","payload":{"config":{"presence":{"enabled":true}}},"ref":"1","join_ref":"1"}`)
	c.nextText()
	c.expect(`{"topic":"realtime:room","event":"presence_state","payload":{},"ref":null}`)
	c.sendText(`{"topic":"realtime:room","event":"phx_leave","payload":{},"ref":"2","join_ref":"1"}`)
	c.expect(`{"topic":"realtime:room","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"2"}`)
	c.expect(`{"topic":"realtime:room","event":"phx_close","payload":{},"ref":"1"}`)
}

func TestHandshake(t *testing.T) {
	s := newServer(t)
	get := func(path string, hdr map[string]string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, s.HTTPURL()+path, nil)
		require.NoError(t, err)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	status, body := get("/socket/websocket?apikey=x&vsn=3.0.0", nil)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Empty(t, body)

	status, body = get("/socket/websocket?vsn=2.0.0", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.JSONEq(t, `{"error":"API key is missing"}`, body)

	// Both paths and both ways of passing the key work; no vsn means 1.0.0.
	for _, u := range []string{
		s.URL() + "/websocket?apikey=k&vsn=2.0.0",
		"ws://" + s.Addr() + "/realtime/v1/websocket?apikey=k&vsn=2.0.0",
		"ws://" + s.Addr() + "/realtime/v1/socket/websocket?vsn=2.0.0&apikey=k",
	} {
		c := dialURL(t, u, "2.0.0")
		c.expectNone()
	}
	c := dialURL(t, s.URL()+"/websocket?vsn=2.0.0", "2.0.0", transport.WithHeader("x-api-key", "k"))
	c.expectNone()
	c = dialURL(t, s.URL()+"/websocket?apikey=k", "1.0.0")
	c.expectNone()
	clients := s.Clients()
	assert.Equal(t, "1.0.0", clients[len(clients)-1].Vsn)
}

func TestHandshakeJWT(t *testing.T) {
	s := newServer(t, WithJWTSecret(string(testSecret)))
	good := s.Token("anon", time.Hour)
	expired := mustSign(t, map[string]any{"role": "anon", "exp": time.Now().Unix() - 10})
	noRole := mustSign(t, map[string]any{"exp": time.Now().Unix() + 100})
	cases := []struct {
		token  string
		status int
		body   string
	}{
		{expired, 401, `{"error":"Token has expired"}`},
		{noRole, 401, "{\"error\":\"Fields `role` and `exp` are required in JWT\"}"},
		{"garbage", 401, `{"error":"The token provided is not a valid JWT"}`},
		{tamperSignature(good), 401, `{"error":"Failed to validate JWT signature"}`},
	}
	for _, tc := range cases {
		_, err := transport.Dial(ctx(t), wsURL(s, "2.0.0", tc.token))
		var he *transport.HandshakeError
		require.True(t, errors.As(err, &he), "%v", err)
		assert.Equal(t, tc.status, he.StatusCode)
		assert.JSONEq(t, tc.body, string(he.Body))
		assert.NotContains(t, err.Error(), tc.token)
	}
	c := dialURL(t, wsURL(s, "2.0.0", good), "2.0.0")
	c.expectNone()
	// x-api-key wins over apikey.
	_, err := transport.Dial(ctx(t), wsURL(s, "2.0.0", good), transport.WithHeader("x-api-key", "garbage"))
	var he *transport.HandshakeError
	require.True(t, errors.As(err, &he))
	assert.Equal(t, 401, he.StatusCode)
}

func TestHandshakeTenant(t *testing.T) {
	s := newServer(t, WithTenant("realtime-dev"))
	_, err := transport.Dial(ctx(t), wsURL(s, "2.0.0", "k"))
	var he *transport.HandshakeError
	require.True(t, errors.As(err, &he))
	assert.Equal(t, http.StatusNotFound, he.StatusCode)
	assert.JSONEq(t, `{"error":"Tenant not found"}`, string(he.Body))
	c := dialURL(t, wsURL(s, "2.0.0", "k"), "2.0.0", transport.WithHeader("Host", "realtime-dev.localhost"))
	c.expectNone()
}

func TestConnectErrorDelay(t *testing.T) {
	s := newServer(t, WithConnectErrorDelay(30*time.Millisecond))
	start := time.Now()
	_, err := transport.Dial(ctx(t), s.URL()+"/websocket?vsn=2.0.0")
	require.Error(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
}

func TestIdleTimeoutClosesWith1000(t *testing.T) {
	s := newServer(t, WithIdleTimeout(50*time.Millisecond))
	c := dial(t, s, "2.0.0")
	assert.Equal(t, transport.StatusNormalClosure, c.closeCode())
	waitClients(t, s, 0)
}

func TestStartRejectsBadOptions(t *testing.T) {
	for _, o := range []Option{
		WithJWTSecret(""), WithTenant(""), WithMaxConcurrentUsers(0), WithMaxEventsPerSecond(-1),
		WithMaxJoinsPerSecond(0), WithMaxChannelsPerClient(0), WithMaxPayloadKB(0),
		WithClientPresenceLimit(0, time.Second), WithJoinErrorDelay(-1), WithConnectErrorDelay(-1),
		WithIdleTimeout(0), WithMaxFrameSize(0),
	} {
		s, err := Start(o)
		assert.ErrorIs(t, err, ErrInvalidOption)
		assert.Nil(t, s)
	}
	assert.Panics(t, func() { NewServer(WithTenant("")) })
}

func TestClientsAndTopics(t *testing.T) {
	s := newServer(t)
	a := dial(t, s, "2.0.0")
	b := dial(t, s, "1.0.0")
	a.joinOK("realtime:one", joinPlain)
	a.join("realtime:two", `{"config":{"private":true,"broadcast":{"self":true,"ack":true},"presence":{"key":"k"},"postgres_changes":[{"event":"*","schema":"public"}]}}`)
	a.nextText()
	a.nextText()
	b.sendText(`{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}`)
	b.nextText()
	clients := s.Clients()
	require.Len(t, clients, 2)
	assert.Less(t, clients[0].ID, clients[1].ID)
	if clients[0].Vsn == "1.0.0" { // the two handshakes may complete in any order
		clients[0], clients[1] = clients[1], clients[0]
	}
	assert.Equal(t, "2.0.0", clients[0].Vsn)
	assert.Equal(t, "1.0.0", clients[1].Vsn)
	assert.True(t, strings.HasPrefix(clients[0].RemoteAddr, "127.0.0.1:"))
	require.Len(t, clients[0].Channels, 2)
	two := clients[0].Channels[1]
	assert.Equal(t, ChannelInfo{Topic: "realtime:two", JoinRef: "2", Private: true, Self: true, Ack: true, PresenceKey: "k",
		PostgresChanges: 1}, two)
	assert.Equal(t, []string{"realtime:one", "realtime:two"}, s.Topics(clients[0].ID))
	assert.Nil(t, s.Topics(999))
	assert.Empty(t, clients[1].Channels)
}

func TestCloseIsIdempotentAndClosesClientsWith1001(t *testing.T) {
	s, err := Start()
	require.NoError(t, err)
	c := dial(t, s, "2.0.0")
	c.expectNone()
	s.Close()
	s.Close()
	assert.Equal(t, transport.StatusGoingAway, c.closeCode())
	_, err = s.EmitChange(Change{Type: Insert, Schema: "s", Table: "t"})
	assert.ErrorIs(t, err, ErrServerClosed)
	assert.ErrorIs(t, s.Faults().Start(), ErrServerClosed)
}

func TestOversizedFrameClosesWith1009(t *testing.T) {
	s := newServer(t, WithMaxFrameSize(64))
	c := dial(t, s, "2.0.0")
	c.sendText(`[null,"1","phoenix","heartbeat",{"padding":"` + strings.Repeat("x", 100) + `"}]`)
	assert.Equal(t, transport.StatusMessageTooBig, c.closeCode())
	waitClients(t, s, 0)
}
