package realtimetest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

const trackA = `{"type":"presence","event":"track","payload":{"name":"a"}}`

// diffRefs decodes a presence_diff frame and returns the phx_ref of the
// first join and leave meta of key ("" when absent), checking the frame
// otherwise matches want with refs blanked.
func presenceRefs(t *testing.T, payload []byte, key string) (join, leave string) {
	t.Helper()
	var d struct {
		Joins  map[string]struct{ Metas []map[string]any } `json:"joins"`
		Leaves map[string]struct{ Metas []map[string]any } `json:"leaves"`
	}
	require.NoError(t, json.Unmarshal(payload, &d))
	if g, ok := d.Joins[key]; ok && len(g.Metas) > 0 {
		join, _ = g.Metas[0]["phx_ref"].(string)
	}
	if g, ok := d.Leaves[key]; ok && len(g.Metas) > 0 {
		leave, _ = g.Metas[0]["phx_ref"].(string)
	}
	return join, leave
}

func TestPresenceTrackDiffStateUntrackLeave(t *testing.T) {
	s := newServer(t)
	a, b := dial(t, s, "2.0.0"), dial(t, s, "2.0.0")
	ajr := a.join("realtime:room1", `{"config":{"presence":{"enabled":true,"key":"user-a"}}}`)
	a.nextText()
	a.expect(`["` + ajr + `",null,"realtime:room1","presence_state",{}]`)
	// b joins with presence disabled: no presence_state, but diffs still reach it.
	b.joinOK("realtime:room1", joinPlain)

	ref := a.push(ajr, "realtime:room1", "presence", trackA)
	a.expect(`["` + ajr + `","` + ref + `","realtime:room1","phx_reply",{"status":"ok","response":{}}]`)
	diff := a.nextMsg()
	assert.Equal(t, phoenix.EventPresenceDiff, diff.Event)
	assert.Empty(t, diff.JoinRef, "presence_diff is a fan-out frame")
	r1, _ := presenceRefs(t, diff.Payload, "user-a")
	require.NotEmpty(t, r1)
	want := `[null,null,"realtime:room1","presence_diff",{"joins":{"user-a":{"metas":[{"phx_ref":"` + r1 + `","name":"a"}]}},"leaves":{}}]`
	assert.Equal(t, want, string(a.frameOf(diff)))
	b.expect(want)

	// Same payload again: ok, no diff.
	ref = a.push(ajr, "realtime:room1", "presence", trackA)
	a.expect(`["` + ajr + `","` + ref + `","realtime:room1","phx_reply",{"status":"ok","response":{}}]`)
	b.expectNone()

	// A late joiner with presence gets the state.
	c := dial(t, s, "2.0.0")
	cjr := c.join("realtime:room1", `{"config":{"presence":{"enabled":true}}}`)
	c.nextText()
	c.expect(`["` + cjr + `",null,"realtime:room1","presence_state",{"user-a":{"metas":[{"phx_ref":"` + r1 + `","name":"a"}]}}]`)

	// Update: leave of the old meta and join of the new one, phx_ref_prev set.
	ref = a.push(ajr, "realtime:room1", "presence", `{"type":"presence","event":"TRACK","payload":{"name":"a2"}}`)
	a.expect(`["` + ajr + `","` + ref + `","realtime:room1","phx_reply",{"status":"ok","response":{}}]`)
	upd := b.nextMsg()
	r2, left := presenceRefs(t, upd.Payload, "user-a")
	assert.Equal(t, r1, left)
	assert.Equal(t, `{"joins":{"user-a":{"metas":[{"phx_ref":"`+r2+`","phx_ref_prev":"`+r1+`","name":"a2"}]}},`+
		`"leaves":{"user-a":{"metas":[{"phx_ref":"`+r1+`","name":"a"}]}}}`, string(upd.Payload))
	a.nextText()
	c.nextText()

	// Untrack: a leave.
	ref = a.push(ajr, "realtime:room1", "presence", `{"type":"presence","event":"untrack"}`)
	a.expect(`["` + ajr + `","` + ref + `","realtime:room1","phx_reply",{"status":"ok","response":{}}]`)
	leaveDiff := `[null,null,"realtime:room1","presence_diff",{"joins":{},"leaves":{"user-a":{"metas":[{"phx_ref":"` + r2 +
		`","phx_ref_prev":"` + r1 + `","name":"a2"}]}}}]`
	a.expect(leaveDiff)
	b.expect(leaveDiff)
	c.expect(leaveDiff)

	// Track again, then leave the channel: the others see the leave.
	a.push(ajr, "realtime:room1", "presence", trackA)
	a.nextText()
	a.nextText()
	b.nextText()
	c.nextText()
	lref := a.push(ajr, "realtime:room1", "phx_leave", `{}`)
	a.expect(`["` + ajr + `","` + lref + `","realtime:room1","phx_reply",{"status":"ok","response":{}}]`)
	a.expect(`["` + ajr + `","` + ajr + `","realtime:room1","phx_close",{}]`)
	m := b.nextMsg()
	_, gone := presenceRefs(t, m.Payload, "user-a")
	assert.NotEmpty(t, gone)
	c.nextText()
	a.expectNone()

	// Disconnecting a tracked socket leaves as well.
	c.push(cjr, "realtime:room1", "presence", trackA)
	c.nextText()
	c.nextText()
	b.nextText()
	clients := s.Clients()
	require.Len(t, clients, 3)
	ckey := clients[2].Channels[0].PresenceKey
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-1`, ckey, "an empty key becomes a UUIDv1")
	_ = c.tc.CloseNow()
	m = b.nextMsg()
	_, gone = presenceRefs(t, m.Payload, ckey)
	assert.NotEmpty(t, gone)
	waitClients(t, s, 2)
}

// frameOf re-encodes m as the client's serializer would have received it.
func (c *client) frameOf(m phoenix.Message) []byte {
	c.t.Helper()
	data, _, err := c.ser.Encode(nil, &m)
	require.NoError(c.t, err)
	return data
}

func TestPresenceRepliesForOddPayloads(t *testing.T) {
	s := newServer(t)
	a := dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:r", joinPlain)
	ref := a.push(jr, "realtime:r", "presence", `{"type":"presence"}`)
	a.expect(`["` + jr + `","` + ref + `","realtime:r","phx_reply",{"status":"ok","response":{}}]`)
	ref = a.push(jr, "realtime:r", "presence", `{"type":"presence","event":"track","payload":"x"}`)
	a.expect(`["` + jr + `","` + ref + `","realtime:r","phx_reply",{"status":"error","response":{"reason":"Presence track payload must be a map"}}]`)
	ref = a.push(jr, "realtime:r", "presence", `{"type":"presence","event":"wave"}`)
	a.expect(`["` + jr + `","` + ref + `","realtime:r","phx_reply",{"status":"error","response":{}}]`)
	// Tracking without a payload tracks {} and enables presence (but sends no state).
	ref = a.push(jr, "realtime:r", "presence", `{"type":"presence","event":"track"}`)
	a.expect(`["` + jr + `","` + ref + `","realtime:r","phx_reply",{"status":"ok","response":{}}]`)
	m := a.nextMsg()
	assert.Equal(t, phoenix.EventPresenceDiff, m.Event)
	assert.True(t, s.Clients()[0].Channels[0].PresenceEnabled)
	a.expectNone()
}

func TestPresenceIsPerNamespace(t *testing.T) {
	s := newServer(t)
	pub, priv := dial(t, s, "2.0.0"), dial(t, s, "2.0.0")
	jr := pub.joinOK("realtime:r", joinPlain)
	priv.joinOK("realtime:r", joinPrivate)
	pub.push(jr, "realtime:r", "presence", trackA)
	pub.nextText()
	pub.nextText()
	priv.expectNone()
}

func TestClientPresenceRateLimit(t *testing.T) {
	s := newServer(t, WithClientPresenceLimit(2, DefaultClientPresenceWindow))
	a := dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:r", joinPlain)
	for i := range 2 {
		a.push(jr, "realtime:r", "presence", `{"type":"presence","event":"track","payload":{"i":`+string(rune('0'+i))+`}}`)
		a.nextText() // reply
		a.nextText() // diff
	}
	a.push(jr, "realtime:r", "presence", trackA)
	a.expect(`["` + jr + `",null,"realtime:r","system",{"extension":"system","status":"error","message":"Client presence rate limit exceeded","channel":"r"}]`)
	a.expect(`["` + jr + `","` + jr + `","realtime:r","phx_close",{}]`)
	// The channel is gone, and with it its subscription to the diffs.
	a.expectNone()
	assert.Empty(t, s.Clients()[0].Channels)
}

func TestTrackTooLargeShutsTheChannelDown(t *testing.T) {
	s := newServer(t, WithMaxPayloadKB(1))
	a := dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:r", joinPlain)
	big := make([]byte, 1600)
	for i := range big {
		big[i] = 'x'
	}
	a.push(jr, "realtime:r", "presence", `{"type":"presence","event":"track","payload":{"s":"`+string(big)+`"}}`)
	a.expect(`["` + jr + `",null,"realtime:r","system",{"extension":"system","status":"error","message":"Track message size exceeded","channel":"r"}]`)
	a.expect(`["` + jr + `","` + jr + `","realtime:r","phx_close",{}]`)
}

func TestPresenceEnabledForTheTenant(t *testing.T) {
	s := newServer(t, WithPresenceEnabled())
	a := dial(t, s, "2.0.0")
	jr := a.join("realtime:r", joinPlain)
	a.nextText()
	a.expect(`["` + jr + `",null,"realtime:r","presence_state",{}]`)
}
