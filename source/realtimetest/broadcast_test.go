package realtimetest

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

const cursor = `{"type":"broadcast","event":"cursor","payload":{"x":1}}`

func TestBroadcastFanOutWithoutSelf(t *testing.T) {
	s := newServer(t)
	a, b := dial(t, s, "2.0.0"), dial(t, s, "2.0.0")
	other := dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:room1", joinPlain)
	b.joinOK("realtime:room1", joinPlain)
	other.joinOK("realtime:room2", joinPlain)
	a.push(jr, "realtime:room1", "broadcast", cursor)
	b.expect(`[null,null,"realtime:room1","broadcast",` + cursor + `]`)
	a.expectNone()
	other.expectNone()
}

func TestBroadcastSelfAndAck(t *testing.T) {
	s := newServer(t)
	a := dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:room1", joinSelfAck)
	ref := a.push(jr, "realtime:room1", "broadcast", cursor)
	a.expect(`[null,null,"realtime:room1","broadcast",` + cursor + `]`)
	a.expect(`["` + jr + `","` + ref + `","realtime:room1","phx_reply",{"status":"ok","response":{}}]`)
}

func TestBroadcastV1Formats(t *testing.T) {
	s := newServer(t)
	a := dial(t, s, "1.0.0")
	b := dial(t, s, "1.0.0")
	c2 := dial(t, s, "2.0.0")
	a.sendText(`{"topic":"realtime:room1","event":"phx_join","payload":{"config":{"broadcast":{"ack":true}}},"ref":"1","join_ref":"1"}`)
	a.nextText()
	b.sendText(`{"topic":"realtime:room1","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}`)
	b.nextText()
	c2.joinOK("realtime:room1", joinPlain)
	a.sendText(`{"topic":"realtime:room1","event":"broadcast","payload":` + cursor + `,"ref":"3","join_ref":"1"}`)
	a.expect(`{"topic":"realtime:room1","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"3"}`)
	b.expect(`{"topic":"realtime:room1","event":"broadcast","payload":` + cursor + `,"ref":null}`)
	c2.expect(`[null,null,"realtime:room1","broadcast",` + cursor + `]`)
}

func TestBroadcastNonMapPayloadReachesV1Only(t *testing.T) {
	s := newServer(t)
	a, v1, v2 := dial(t, s, "2.0.0"), dial(t, s, "1.0.0"), dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:r", joinPlain)
	v1.sendText(`{"topic":"realtime:r","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}`)
	v1.nextText()
	v2.joinOK("realtime:r", joinPlain)
	a.push(jr, "realtime:r", "broadcast", `[1,2]`)
	v1.expect(`{"topic":"realtime:r","event":"broadcast","payload":[1,2],"ref":null}`)
	v2.expectNone()
}

func TestPublicAndPrivateChannelsAreSeparate(t *testing.T) {
	s := newServer(t)
	pub, priv, priv2 := dial(t, s, "2.0.0"), dial(t, s, "2.0.0"), dial(t, s, "2.0.0")
	pjr := pub.joinOK("realtime:room", joinPlain)
	xjr := priv.joinOK("realtime:room", joinPrivate)
	priv2.joinOK("realtime:room", joinPrivate)
	pub.push(pjr, "realtime:room", "broadcast", cursor)
	priv.expectNone()
	priv2.expectNone()
	priv.push(xjr, "realtime:room", "broadcast", cursor)
	priv2.expect(`[null,null,"realtime:room","broadcast",` + cursor + `]`)
	pub.expectNone()
}

// userBroadcastPush builds a binary kind 3 frame.
func userBroadcastPush(joinRef, ref, topic, event, meta string, enc byte, payload []byte) []byte {
	b := []byte{3, byte(len(joinRef)), byte(len(ref)), byte(len(topic)), byte(len(event)), byte(len(meta)), enc}
	b = append(b, joinRef+ref+topic+event+meta...)
	return append(b, payload...)
}

func TestBinaryUserBroadcastKind3InKind4Out(t *testing.T) {
	s := newServer(t)
	a, v2, v1 := dial(t, s, "2.0.0"), dial(t, s, "2.0.0"), dial(t, s, "1.0.0")
	jr := a.joinOK("realtime:room1", joinSelfAck)
	v2.joinOK("realtime:room1", joinPlain)
	v1.sendText(`{"topic":"realtime:room1","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}`)
	v1.nextText()

	// The frame realtime-js sends for channel.send({type:"broadcast",event:"cursor",payload:{x:5}}).
	frame := userBroadcastPush(jr, "7", "realtime:room1", "cursor", "", 1, []byte(`{"x":5}`))
	require.NoError(t, a.tc.WriteFrame(ctx(t), frame, true))
	want, _ := hex.DecodeString("040e060001" + hex.EncodeToString([]byte(`realtime:room1cursor{"x":5}`)))
	f := v2.next()
	assert.True(t, f.binary)
	assert.Equal(t, want, f.data)
	v1.expect(`{"topic":"realtime:room1","event":"broadcast","payload":{"type":"broadcast","event":"cursor","payload":{"x":5}},"ref":null}`)
	self := a.next()
	assert.Equal(t, want, self.data)
	a.expect(`["` + jr + `","7","realtime:room1","phx_reply",{"status":"ok","response":{}}]`)

	// A binary payload (encoding 0) with metadata: the metadata is dropped,
	// V1 subscribers get nothing.
	frame = userBroadcastPush(jr, "8", "realtime:room1", "bin", `{"persist":true}`, 0, []byte{1, 2, 3})
	require.NoError(t, a.tc.WriteFrame(ctx(t), frame, true))
	want = append([]byte{4, 14, 3, 0, 0}, "realtime:room1bin\x01\x02\x03"...)
	assert.Equal(t, want, v2.next().data)
	v1.expectNone()

	// The recorder saw the kind 3 frame decoded.
	in, err := s.WaitFor(ctx(t), func(f Frame) bool {
		return f.Dir == In && f.Msg.Kind == phoenix.KindUserBroadcastPush && f.Msg.UserEvent == "bin"
	})
	require.NoError(t, err)
	assert.True(t, in.Binary)
	assert.True(t, in.Msg.Binary)
	assert.JSONEq(t, `{"persist":true}`, string(in.Msg.Meta))
	out, err := s.WaitFor(ctx(t), func(f Frame) bool {
		return f.Dir == Out && f.Msg.Kind == phoenix.KindUserBroadcast && f.Msg.UserEvent == "bin"
	})
	require.NoError(t, err)
	assert.Equal(t, want, out.Data)
}

func TestBinaryKind0BroadcastGoesOutAsKind2(t *testing.T) {
	s := newServer(t)
	a, b := dial(t, s, "2.0.0"), dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:r", joinPlain)
	b.joinOK("realtime:r", joinPlain)
	push := append([]byte{0, byte(len(jr)), 1, 10, 9}, jr+"5realtime:rbroadcast"...)
	push = append(push, 7, 7)
	require.NoError(t, a.tc.WriteFrame(ctx(t), push, true))
	assert.Equal(t, append([]byte{2, 10, 9}, "realtime:rbroadcast\x07\x07"...), b.next().data)
}

func TestBroadcastPayloadTooLarge(t *testing.T) {
	s := newServer(t, WithMaxPayloadKB(1))
	a, b := dial(t, s, "2.0.0"), dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:r", `{"config":{"broadcast":{"ack":true}}}`)
	bjr := b.joinOK("realtime:r", joinPlain)
	big := `{"type":"broadcast","event":"e","payload":{"s":"` + strings.Repeat("x", 1600) + `"}}`
	ref := a.push(jr, "realtime:r", "broadcast", big)
	a.expect(`["` + jr + `","` + ref + `","realtime:r","phx_reply",{"status":"error","response":"payload_size_exceeded"}]`)
	b.push(bjr, "realtime:r", "broadcast", big) // no ack: silently dropped
	b.expectNone()
	a.expectNone()
}

// post sends a REST request and returns status and body.
func post(t *testing.T, url, contentType string, body []byte, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}

var apikey = map[string]string{"apikey": "anon-key"}

func TestRESTBatchBroadcast(t *testing.T) {
	s := newServer(t)
	v2, v1, priv := dial(t, s, "2.0.0"), dial(t, s, "1.0.0"), dial(t, s, "2.0.0")
	v2.joinOK("realtime:room1", joinPlain)
	v1.sendText(`{"topic":"realtime:room1","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}`)
	v1.nextText()
	priv.joinOK("realtime:room1", joinPrivate)

	status, body, hdr := post(t, s.HTTPURL()+"/api/broadcast", "application/json",
		[]byte(`{"messages":[{"topic":"room1","event":"cursor","payload":{"x":1}},`+
			`{"topic":"room1","event":"p","payload":{},"private":true,"id":"0f8e3a53-8a5b-4a55-9d8d-0e2c4d5e6f70"}]}`), apikey)
	assert.Equal(t, http.StatusAccepted, status)
	assert.Empty(t, body)
	assert.Equal(t, "100", hdr.Get("x-rate-limit"))
	v2.expect(`[null,null,"realtime:room1","broadcast",{"event":"cursor","payload":{"x":1},"type":"broadcast"}]`)
	v1.expect(`{"topic":"realtime:room1","event":"broadcast","payload":{"event":"cursor","payload":{"x":1},"type":"broadcast"},"ref":null}`)
	priv.expect(`[null,null,"realtime:room1","broadcast",{"event":"p","meta":{"id":"0f8e3a53-8a5b-4a55-9d8d-0e2c4d5e6f70"},"payload":{},"type":"broadcast"}]`)
	v2.expectNone()

	// The hosted prefix and a Bearer token work too.
	status, _, _ = post(t, s.HTTPURL()+"/realtime/v1/api/broadcast", "application/json",
		[]byte(`{"messages":[{"topic":"room1","event":"e","payload":{}}]}`), map[string]string{"Authorization": "Bearer tok"})
	assert.Equal(t, http.StatusAccepted, status)
	v2.expect(`[null,null,"realtime:room1","broadcast",{"event":"e","payload":{},"type":"broadcast"}]`)
}

func TestRESTBatchBroadcastErrors(t *testing.T) {
	s := newServer(t)
	cases := []struct {
		body   string
		hdr    map[string]string
		status int
		want   string
	}{
		{`{"messages":[]}`, nil, 401, `{"message":"Unauthorized"}`},
		{`{"messages":[]}`, map[string]string{"Authorization": "Basic abc"}, 401, `{"message":"Unauthorized"}`},
		{`{}`, apikey, 422, `{"errors":{"messages":["can't be blank"]}}`},
		{`{"messages":{"a":1}}`, apikey, 422, `{"errors":{"messages":["is invalid"]}}`},
		{`{"messages":[1]}`, apikey, 422, `{"errors":{"messages":["is invalid"]}}`},
		{`{"messages":[{},{"topic":"t","event":"e","payload":{}},{"topic":5,"event":"","payload":[],"private":"maybe","id":"nope"}]}`, apikey, 422,
			`{"errors":{"messages":[{"event":["can't be blank"],"payload":["can't be blank"],"topic":["can't be blank"]},{},` +
				`{"event":["can't be blank"],"id":["is invalid"],"payload":["is invalid"],"private":["is invalid"],"topic":["is invalid"]}]}}`},
		{`not json`, apikey, 400, `"Bad Request"`},
	}
	for _, tc := range cases {
		status, body, _ := post(t, s.HTTPURL()+"/api/broadcast", "application/json", []byte(tc.body), tc.hdr)
		assert.Equal(t, tc.status, status, tc.body)
		assert.JSONEq(t, tc.want, body, tc.body)
	}
}

func TestRESTBatchRateLimits(t *testing.T) {
	s := newServer(t, WithMaxEventsPerSecond(1)) // trips at 60 events in the last minute
	msgs := func(n int) []byte {
		var b strings.Builder
		b.WriteString(`{"messages":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"topic":"t","event":"e","payload":{}}`)
		}
		b.WriteString(`]}`)
		return []byte(b.String())
	}
	status, body, _ := post(t, s.HTTPURL()+"/api/broadcast", "application/json", msgs(2), apikey)
	assert.Equal(t, 429, status)
	assert.JSONEq(t, `{"message":"Too many messages to broadcast, please reduce the batch size"}`, body)
	status, _, _ = post(t, s.HTTPURL()+"/api/broadcast", "application/json", msgs(1), apikey)
	assert.Equal(t, 202, status)
	s.mu.Lock()
	s.countEvent(58)
	s.mu.Unlock()
	// 59 events in the last minute: avg 59/60 is still under 1.
	status, _, hdr := post(t, s.HTTPURL()+"/api/broadcast/t/events/e", "application/json", []byte(`{}`), apikey)
	assert.Equal(t, 202, status)
	assert.Equal(t, "0", hdr.Get("x-rate-rolling"))
	// 60 events: the limit is tripped.
	status, body, hdr = post(t, s.HTTPURL()+"/api/broadcast", "application/json", msgs(1), apikey)
	assert.Equal(t, 429, status)
	assert.JSONEq(t, `{"message":"Too many requests"}`, body)
	assert.Equal(t, "1", hdr.Get("x-rate-rolling"))
	assert.Equal(t, "0", hdr.Get("x-rate-limit-remaining"))
}

func TestRESTSingleBroadcast(t *testing.T) {
	s := newServer(t)
	v2, v1, priv := dial(t, s, "2.0.0"), dial(t, s, "1.0.0"), dial(t, s, "2.0.0")
	v2.joinOK("realtime:room:1", joinPlain)
	v1.sendText(`{"topic":"realtime:room:1","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}`)
	v1.nextText()
	priv.joinOK("realtime:room:1", joinPrivate)

	status, body, _ := post(t, s.HTTPURL()+"/api/broadcast/room%3A1/events/msg", "application/json", []byte(`{"a": 1}`), apikey)
	assert.Equal(t, 202, status)
	assert.Empty(t, body)
	assert.Equal(t, append([]byte{4, 15, 3, 0, 1}, `realtime:room:1msg{"a":1}`...), v2.next().data)
	v1.expect(`{"topic":"realtime:room:1","event":"broadcast","payload":{"type":"broadcast","event":"msg","payload":{"a":1}},"ref":null}`)

	status, _, _ = post(t, s.HTTPURL()+"/api/broadcast/room%3A1/events/bin?private=true", "application/octet-stream", []byte{1, 2}, apikey)
	assert.Equal(t, 202, status)
	assert.Equal(t, append([]byte{4, 15, 3, 0, 0}, "realtime:room:1bin\x01\x02"...), priv.next().data)
	v1.expectNone()
	v2.expectNone()

	// A JSON body that is not an object is wrapped as Plug does.
	status, _, _ = post(t, s.HTTPURL()+"/realtime/v1/api/broadcast/room%3A1/events/arr", "application/json", []byte(`[1]`), apikey)
	assert.Equal(t, 202, status)
	assert.Equal(t, append([]byte{4, 15, 3, 0, 1}, `realtime:room:1arr{"_json":[1]}`...), v2.next().data)

	status, body, _ = post(t, s.HTTPURL()+"/api/broadcast/room/events/e", "text/plain", []byte(`x`), apikey)
	assert.Equal(t, 415, status)
	assert.JSONEq(t, `{"error":"Unsupported Media Type. Use application/json or application/octet-stream"}`, body)
	status, body, _ = post(t, s.HTTPURL()+"/api/broadcast/room/events/e", "application/json", []byte(`{}`), nil)
	assert.Equal(t, 401, status)
	assert.JSONEq(t, `{"message":"Unauthorized"}`, body)
}

func TestRESTSingleBroadcastPayloadTooLarge(t *testing.T) {
	s := newServer(t, WithMaxPayloadKB(1))
	status, body, _ := post(t, s.HTTPURL()+"/api/broadcast/r/events/e", "application/octet-stream", make([]byte, 1600), apikey)
	assert.Equal(t, 422, status)
	assert.JSONEq(t, `{"errors":{"payload":["Payload size exceeds tenant limit"]}}`, body)
}

func TestRESTWithJWTAndTenant(t *testing.T) {
	s := newServer(t, WithJWTSecret(string(testSecret)), WithTenant("proj"))
	status, body, _ := post(t, s.HTTPURL()+"/api/broadcast/r/events/e", "application/json", []byte(`{}`), apikey)
	assert.Equal(t, 401, status)
	assert.JSONEq(t, `{"message":"Tenant not found in database"}`, body)
	req, err := http.NewRequest(http.MethodPost, s.HTTPURL()+"/api/broadcast/r/events/e", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Host = "proj.localhost"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("apikey", "not-a-jwt")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
	req, err = http.NewRequest(http.MethodPost, s.HTTPURL()+"/api/broadcast/r/events/e", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Host = "proj.localhost"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.Token("service_role", 60e9))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 202, resp.StatusCode)
}

func TestEmitBroadcastFromDatabase(t *testing.T) {
	s := newServer(t)
	v2, v1, pub := dial(t, s, "2.0.0"), dial(t, s, "1.0.0"), dial(t, s, "2.0.0")
	v2.joinOK("realtime:room", joinPrivate)
	v1.sendText(`{"topic":"realtime:room","event":"phx_join","payload":{"config":{"private":true}},"ref":"1","join_ref":"1"}`)
	v1.nextText()
	pub.joinOK("realtime:room", joinPlain)

	n, err := s.EmitBroadcast(DBBroadcast{Topic: "room", Event: "INSERT", Private: true, ID: "abc",
		Payload: []byte(`{"operation":"INSERT","record":{"id":1},"old_record":null,"schema":"public","table":"t"}`)})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	want := append([]byte{4, 13, 6, 12, 1}, `realtime:roomINSERT{"id":"abc"}{"operation":"INSERT","record":{"id":1},"old_record":null,"schema":"public","table":"t"}`...)
	assert.Equal(t, want, v2.next().data)
	v1.expect(`{"topic":"realtime:room","event":"broadcast","payload":{"type":"broadcast","event":"INSERT","payload":` +
		`{"operation":"INSERT","record":{"id":1},"old_record":null,"schema":"public","table":"t"},"meta":{"id":"abc"}},"ref":null}`)
	pub.expectNone()

	n, err = s.EmitBroadcast(DBBroadcast{Topic: "room", Event: "bin", Binary: true, Private: true, Payload: []byte{1}})
	require.NoError(t, err)
	assert.Equal(t, 1, n, "vsn 1.0.0 sockets cannot receive binary payloads")
	m := v2.nextMsg()
	assert.Equal(t, phoenix.KindUserBroadcast, m.Kind)
	assert.Regexp(t, `^\{"id":"[0-9a-f-]{36}"\}$`, string(m.Meta))
	v1.expectNone()

	_, err = s.EmitBroadcast(DBBroadcast{Topic: "room", Event: "e", Payload: []byte(`{`)})
	assert.ErrorIs(t, err, ErrInvalidChange)
	_, err = s.EmitBroadcast(DBBroadcast{Event: "e"})
	assert.ErrorIs(t, err, ErrInvalidChange)
}
