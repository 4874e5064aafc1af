package realtimetest

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport"
)

func TestChannelsPerClientLimit(t *testing.T) {
	s := newServer(t, WithMaxChannelsPerClient(2))
	c := dial(t, s, "2.0.0")
	c.joinOK("realtime:a", joinPlain)
	c.joinOK("realtime:b", joinPlain)
	jr := c.join("realtime:c", joinPlain)
	c.expect(`["` + jr + `","` + jr + `","realtime:c","phx_reply",{"status":"error","response":{"reason":"ChannelRateLimitReached: Too many channels"}}]`)
	// Rejoining a topic already joined replaces it, so it is not one more.
	c.joinOK("realtime:b", joinPlain)
	c.nextText() // phx_close of the old b
	// Another socket has its own budget.
	d := dial(t, s, "2.0.0")
	d.joinOK("realtime:c", joinPlain)
}

func TestEventsPerSecondLimitShutsReceiversDown(t *testing.T) {
	s := newServer(t, WithMaxEventsPerSecond(1)) // trips at 60 events in the last minute
	a, b := dial(t, s, "2.0.0"), dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:r", joinPlain)
	bjr := b.joinOK("realtime:r", joinPlain)
	// Each broadcast counts twice: the push and its delivery to b. The 30th
	// delivery brings the minute's average to 1 event per second.
	for i := 1; i <= 30; i++ {
		a.push(jr, "realtime:r", "broadcast", `{"type":"broadcast","event":"e","payload":{"i":`+strconv.Itoa(i)+`}}`)
		b.expect(`[null,null,"realtime:r","broadcast",{"type":"broadcast","event":"e","payload":{"i":` + strconv.Itoa(i) + `}}]`)
	}
	b.expect(`["` + bjr + `",null,"realtime:r","system",{"extension":"system","status":"error","message":"Too many messages per second","channel":"r"}]`)
	b.expect(`["` + bjr + `","` + bjr + `","realtime:r","phx_close",{}]`)
	a.expectNone()
}

func TestJoinsPerSecondLimit(t *testing.T) {
	s := newServer(t, WithMaxJoinsPerSecond(1)) // trips at 60 joins in the last minute
	c := dial(t, s, "2.0.0")
	for i := range 60 {
		c.joinOK("realtime:t"+strconv.Itoa(i), joinPlain)
	}
	jr := c.join("realtime:late", joinPlain)
	c.expect(`["` + jr + `","` + jr + `","realtime:late","phx_reply",{"status":"error","response":{"reason":"ClientJoinRateLimitReached: Too many joins per second"}}]`)
	assert.Equal(t, transport.StatusGoingAway, c.closeCode())
	_, err := transport.Dial(ctx(t), wsURL(s, "2.0.0", "k"))
	var he *transport.HandshakeError
	require.True(t, errors.As(err, &he))
	assert.Equal(t, 429, he.StatusCode)
	assert.JSONEq(t, `{"error":"Too many joins per second"}`, string(he.Body))
}

func TestConcurrentUsersLimit(t *testing.T) {
	s := newServer(t, WithMaxConcurrentUsers(1))
	a := dial(t, s, "2.0.0")
	b := dial(t, s, "2.0.0") // not a user until it joins
	a.joinOK("realtime:x", joinPlain)
	a.joinOK("realtime:y", joinPlain) // already counted
	jr := b.join("realtime:x", joinPlain)
	b.expect(`["` + jr + `","` + jr + `","realtime:x","phx_reply",{"status":"error","response":{"reason":"ConnectionRateLimitReached: Too many connected users"}}]`)
	_, err := transport.Dial(ctx(t), wsURL(s, "2.0.0", "k"))
	var he *transport.HandshakeError
	require.True(t, errors.As(err, &he))
	assert.Equal(t, 429, he.StatusCode)
	assert.JSONEq(t, `{"error":"Too many connected users"}`, string(he.Body))
	// When the user leaves, the slot frees up.
	_ = a.tc.CloseNow()
	waitClients(t, s, 1)
	b.joinOK("realtime:x", joinPlain)
}
