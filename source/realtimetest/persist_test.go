package realtimetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

const joinPrivateAck = `{"config":{"private":true,"broadcast":{"ack":true}}}`

// joinReplay is a private join asking for replay since/limit ("" limit:
// none).
func joinReplay(since int64, limit string) string {
	r := `"since":` + strconv.FormatInt(since, 10)
	if limit != "" {
		r += `,"limit":` + limit
	}
	return `{"config":{"private":true,"broadcast":{"replay":{` + r + `}}}}`
}

// replayedJSON is the text frame of a replayed JSON message.
func replayedJSON(jr, topic, event, id, payload string) string {
	return `["` + jr + `",null,"` + topic + `","broadcast",{"event":"` + event + `","meta":{"id":"` + id +
		`","replayed":true},"payload":` + payload + `,"type":"broadcast"}]`
}

// replayedBinary is the kind 4 frame of a replayed binary message.
func replayedBinary(topic, event, id string, payload []byte) []byte {
	meta := `{"id":"` + id + `","replayed":true}`
	b := []byte{4, byte(len(topic)), byte(len(event)), byte(len(meta)), 0}
	b = append(b, topic+event+meta...)
	return append(b, payload...)
}

// ackID reads the id of a persisted broadcast's ack,
// [jr,ref,topic,"phx_reply",{"status":"ok","response":{"id":ID}}].
func ackID(t *testing.T, c *client, jr, ref, topic string) string {
	t.Helper()
	m := c.decode(c.next())
	require.Equal(t, phoenix.EventReply, m.Event)
	require.Equal(t, jr, m.JoinRef)
	require.Equal(t, ref, m.Ref)
	var reply struct {
		Status   string `json:"status"`
		Response struct {
			ID string `json:"id"`
		} `json:"response"`
	}
	require.NoError(t, json.Unmarshal(m.Payload, &reply))
	require.Equal(t, "ok", reply.Status)
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, reply.Response.ID)
	return reply.Response.ID
}

func TestPersistedKind3BroadcastsAreReplayedOnJoin(t *testing.T) {
	s := newServer(t)
	a := dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:room", joinPrivateAck)

	// The frames realtime-js sends for send({..., persist: true}) and
	// send({..., persist: {ttl: 60}}) (client.md §2.4), then one without
	// persist.
	send := func(ref, event, meta string, enc byte, payload []byte) {
		require.NoError(t, a.tc.WriteFrame(ctx(t), userBroadcastPush(jr, ref, "realtime:room", event, meta, enc, payload), true))
	}
	send("2", "msg", `{"persist":true}`, 1, []byte(`{"hi":"é"}`))
	id1 := ackID(t, a, jr, "2", "realtime:room")
	send("3", "bin", `{"persist":{"ttl":60}}`, 0, []byte{1, 2, 3})
	id2 := ackID(t, a, jr, "3", "realtime:room")
	send("4", "live", "", 1, []byte(`{}`))
	a.expect(`["` + jr + `","4","realtime:room","phx_reply",{"status":"ok","response":{}}]`)

	stored := s.StoredBroadcasts("room")
	require.Len(t, stored, 2)
	assert.Equal(t, id1, stored[0].ID)
	assert.Equal(t, "msg", stored[0].Event)
	assert.JSONEq(t, `{"hi":"é"}`, string(stored[0].Payload))
	assert.False(t, stored[0].Binary)
	assert.True(t, stored[0].ExpiresAt.IsZero(), "persist: true has no TTL")
	assert.Equal(t, id2, stored[1].ID)
	assert.True(t, stored[1].Binary)
	assert.Equal(t, []byte{1, 2, 3}, stored[1].Payload)
	assert.Equal(t, 60*time.Second, stored[1].ExpiresAt.Sub(stored[1].InsertedAt))

	// A vsn 2.0.0 join with replay: the reply, a JSON text push with the
	// join_ref, then binary kind 4; nothing else.
	b := dial(t, s, "2.0.0")
	bjr := b.joinOK("realtime:room", joinReplay(0, "10"))
	b.expect(replayedJSON(bjr, "realtime:room", "msg", id1, `{"hi":"é"}`))
	f := b.next()
	require.True(t, f.binary)
	assert.Equal(t, replayedBinary("realtime:room", "bin", id2, []byte{1, 2, 3}), f.data)
	b.expectNone()

	// vsn 1.0.0: the JSON message only; binary replays are skipped.
	v1 := dial(t, s, "1.0.0")
	v1.sendText(`{"topic":"realtime:room","event":"phx_join","payload":` + joinReplay(0, "") + `,"ref":"1","join_ref":"1"}`)
	v1.expect(`{"topic":"realtime:room","event":"phx_reply","payload":{"status":"ok","response":{"postgres_changes":[]}},"ref":"1"}`)
	v1.expect(`{"topic":"realtime:room","event":"broadcast","payload":{"event":"msg","meta":{"id":"` + id1 +
		`","replayed":true},"payload":{"hi":"é"},"type":"broadcast"},"ref":null}`)
	v1.expectNone()

	// A join without replay gets nothing.
	c := dial(t, s, "2.0.0")
	c.joinOK("realtime:room", joinPrivate)
	c.expectNone()
}

func TestPersistIsIgnoredOnPublicChannels(t *testing.T) {
	s := newServer(t)
	a := dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:room", joinSelfAck)
	require.NoError(t, a.tc.WriteFrame(ctx(t), userBroadcastPush(jr, "2", "realtime:room", "msg", `{"persist":true}`, 1, []byte(`{}`)), true))
	a.next() // the self copy
	a.expect(`["` + jr + `","2","realtime:room","phx_reply",{"status":"ok","response":{}}]`)
	assert.Empty(t, s.StoredBroadcasts("room"))
}

func TestPersistedJSONTextBroadcast(t *testing.T) {
	s := newServer(t)
	a := dial(t, s, "2.0.0")
	jr := a.joinOK("realtime:room", joinPrivateAck)
	ref := a.push(jr, "realtime:room", "broadcast", `{"type":"broadcast","event":"m","payload":{"n":1},"persist":true}`)
	id := ackID(t, a, jr, ref, "realtime:room")
	ref = a.push(jr, "realtime:room", "broadcast", `{"type":"broadcast","event":"m","payload":{"n":2},"persist":false}`)
	a.expect(`["` + jr + `","` + ref + `","realtime:room","phx_reply",{"status":"ok","response":{}}]`)

	b := dial(t, s, "2.0.0")
	bjr := b.joinOK("realtime:room", joinReplay(0, ""))
	b.expect(replayedJSON(bjr, "realtime:room", "m", id, `{"n":1}`))
	b.expectNone()
}

func TestReplaySelectsLatestSinceInOrder(t *testing.T) {
	s := newServer(t)
	now := time.Now()
	store := func(event string, at time.Time) string {
		id, err := s.StoreBroadcast(StoredBroadcast{Topic: "test", Event: event, Payload: []byte(`{"value":"` + event + `"}`), InsertedAt: at})
		require.NoError(t, err)
		return id
	}
	// realtime_channel_test.exs "replay messages on private topic".
	store("old", now.Add(-24*time.Hour))
	first := store("first", now.Add(-time.Minute))
	second := store("second", now.Add(-2*time.Minute))
	store("third", now.Add(-3*time.Minute))
	store("future", now.Add(2*time.Minute)) // past now + 1 minute: never replayed
	_, err := s.StoreBroadcast(StoredBroadcast{Topic: "test", Event: "expired", InsertedAt: now.Add(-30 * time.Second),
		ExpiresAt: now.Add(-time.Second)})
	require.NoError(t, err)

	since := now.Add(-5 * time.Minute).UnixMilli()
	c := dial(t, s, "2.0.0")
	jr := c.joinOK("realtime:test", joinReplay(since, "2"))
	c.expect(replayedJSON(jr, "realtime:test", "second", second, `{"value":"second"}`))
	c.expect(replayedJSON(jr, "realtime:test", "first", first, `{"value":"first"}`))
	c.expectNone()

	// limit 0 and negative limits are clamped to 1: the latest message.
	for _, limit := range []string{"0", "-3"} {
		d := dial(t, s, "2.0.0")
		djr := d.joinOK("realtime:test", joinReplay(since, limit))
		d.expect(replayedJSON(djr, "realtime:test", "first", first, `{"value":"first"}`))
		d.expectNone()
	}

	// since 0: everything still live, oldest first.
	e := dial(t, s, "2.0.0")
	ejr := e.joinOK("realtime:test", joinReplay(0, "null"))
	for _, ev := range []string{"old", "third", "second", "first"} {
		m := e.decode(e.next())
		assert.Equal(t, ejr, m.JoinRef)
		assert.Contains(t, string(m.Payload), `"event":"`+ev+`"`)
	}
	e.expectNone()
}

func TestReplayLimitIsClampedTo25(t *testing.T) {
	s := newServer(t)
	base := time.Now().Add(-time.Hour)
	for i := range 30 {
		_, err := s.StoreBroadcast(StoredBroadcast{Topic: "many", Event: fmt.Sprintf("e%02d", i), InsertedAt: base.Add(time.Duration(i) * time.Second)})
		require.NoError(t, err)
	}
	for _, limit := range []string{"100", ""} { // over the cap, and absent (25)
		c := dial(t, s, "2.0.0")
		c.joinOK("realtime:many", joinReplay(0, limit))
		for i := 5; i < 30; i++ {
			m := c.decode(c.next())
			assert.Contains(t, string(m.Payload), fmt.Sprintf(`"event":"e%02d"`, i))
		}
		c.expectNone()
	}
}

func TestReplayIsPerPrivateTopic(t *testing.T) {
	s := newServer(t)
	_, err := s.StoreBroadcast(StoredBroadcast{Topic: "other", Event: "x"})
	require.NoError(t, err)
	c := dial(t, s, "2.0.0")
	c.joinOK("realtime:room", joinReplay(0, ""))
	c.expectNone()
}

func TestReplayInvalidSince(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	jr := c.join("realtime:room", joinReplay(maxReplaySince+1, ""))
	c.expect(`["` + jr + `","` + jr + `","realtime:room","phx_reply",{"status":"error","response":{"reason":"UnableToReplayMessages: Replay params are not valid"}}]`)
}

func TestLiveBroadcastAlreadyReplayedIsNotDeliveredAgain(t *testing.T) {
	s := newServer(t)
	const id = "7b1f6c3e-9a2d-4c5b-8e7f-0a1b2c3d4e5f"
	// realtime.send() on a private topic: stored and delivered with meta.id.
	n, err := s.EmitBroadcast(DBBroadcast{Topic: "room", Event: "db", Payload: []byte(`{"a":1}`), Private: true, ID: id})
	require.NoError(t, err)
	assert.Zero(t, n)
	require.Len(t, s.StoredBroadcasts("room"), 1)

	replayer, plain := dial(t, s, "2.0.0"), dial(t, s, "2.0.0")
	jr := replayer.joinOK("realtime:room", joinReplay(0, ""))
	replayer.expect(replayedJSON(jr, "realtime:room", "db", id, `{"a":1}`))
	plain.joinOK("realtime:room", joinPrivate)

	// The same row arrives live (the replication stream raced the join):
	// only the channel that did not replay it gets it.
	n, err = s.EmitBroadcast(DBBroadcast{Topic: "room", Event: "db", Payload: []byte(`{"a":1}`), Private: true, ID: id})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	f := plain.next()
	require.True(t, f.binary)
	assert.Equal(t, append([]byte{4, 13, 2, byte(len(`{"id":"` + id + `"}`)), 1}, `realtime:roomdb{"id":"`+id+`"}{"a":1}`...), f.data)
	replayer.expectNone()

	// The REST batch's meta.id is de-duplicated the same way.
	status, _, _ := post(t, s.HTTPURL()+"/api/broadcast", "application/json",
		[]byte(`{"messages":[{"topic":"room","event":"db","payload":{"a":1},"private":true,"id":"`+id+`"}]}`), apikey)
	require.Equal(t, http.StatusAccepted, status)
	plain.expect(`[null,null,"realtime:room","broadcast",{"event":"db","meta":{"id":"` + id + `"},"payload":{"a":1},"type":"broadcast"}]`)
	replayer.expectNone()
}

func TestRESTSinglePersist(t *testing.T) {
	s := newServer(t)
	url := s.HTTPURL() + "/api/broadcast/room/events/"
	status, body, _ := post(t, url+"a?private=true&persist=true", "application/json", []byte(`{"n":1}`), apikey)
	require.Equal(t, http.StatusAccepted, status, body)
	// realtime-js's httpSend with persist: {ttl: 60} (URLSearchParams escapes the brackets).
	status, body, _ = post(t, url+"b?private=true&persist%5Bttl%5D=60", "application/octet-stream", []byte{9, 8}, apikey)
	require.Equal(t, http.StatusAccepted, status, body)
	status, body, _ = post(t, url+"c?private=true", "application/json", []byte(`{}`), apikey)
	require.Equal(t, http.StatusAccepted, status, body)
	status, body, _ = post(t, url+"d?private=true&persist=false", "application/json", []byte(`{}`), apikey)
	require.Equal(t, http.StatusAccepted, status, body)

	stored := s.StoredBroadcasts("room")
	require.Len(t, stored, 2)
	assert.Equal(t, "a", stored[0].Event)
	assert.True(t, stored[0].ExpiresAt.IsZero())
	assert.Equal(t, "b", stored[1].Event)
	assert.True(t, stored[1].Binary)
	assert.Equal(t, 60*time.Second, stored[1].ExpiresAt.Sub(stored[1].InsertedAt))

	c := dial(t, s, "2.0.0")
	jr := c.joinOK("realtime:room", joinReplay(0, ""))
	c.expect(replayedJSON(jr, "realtime:room", "a", stored[0].ID, `{"n":1}`))
	assert.Equal(t, replayedBinary("realtime:room", "b", stored[1].ID, []byte{9, 8}), c.next().data)
	c.expectNone()

	// persist needs private (SingleBroadcast.validate_persist_is_private).
	status, body, _ = post(t, url+"e?persist=true", "application/json", []byte(`{}`), apikey)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, `{"errors":{"persist":["can only be used on private channels"]}}`, body)
	status, body, _ = post(t, url+"e?private=true&persist%5Bttl%5D=soon", "application/json", []byte(`{}`), apikey)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, `{"errors":{"persist":["is invalid"]}}`, body)
	assert.Len(t, s.StoredBroadcasts("room"), 2)
}

func TestStoreBroadcastValidates(t *testing.T) {
	s := newServer(t)
	_, err := s.StoreBroadcast(StoredBroadcast{Topic: "room"})
	require.ErrorIs(t, err, ErrInvalidChange)
	_, err = s.StoreBroadcast(StoredBroadcast{Topic: "room", Event: "e", Payload: []byte("{")})
	require.ErrorIs(t, err, ErrInvalidChange)
	id, err := s.StoreBroadcast(StoredBroadcast{Topic: "room", Event: "e", ID: "given"})
	require.NoError(t, err)
	assert.Equal(t, "given", id)
	s.Close()
	_, err = s.StoreBroadcast(StoredBroadcast{Topic: "room", Event: "e"})
	require.ErrorIs(t, err, ErrServerClosed)
}

func TestReplayParams(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		since int64
		limit int
		ok    bool
	}{
		{`{"since":1719999999000,"limit":10}`, 1719999999000, 10, true},
		{`{"since":0}`, 0, 25, true},
		{`{"since":0,"limit":null}`, 0, 25, true},
		{`{"since":0,"limit":0}`, 0, 1, true},
		{`{"since":0,"limit":26}`, 0, 25, true},
		{`{"since":-1000,"limit":3}`, -1000, 3, true},
		{`{}`, 0, 0, false},
		{`{"since":"1"}`, 0, 0, false},
		{`{"since":1,"limit":"2"}`, 0, 0, false},
		{`{"since":1.5}`, 0, 0, false},
		{`{"since":253402300800000}`, 0, 0, false},
		{`[]`, 0, 0, false},
	} {
		since, limit, ok := replayParams(json.RawMessage(tc.raw))
		assert.Equal(t, tc.ok, ok, tc.raw)
		if tc.ok {
			assert.Equal(t, tc.since, since.UnixMilli(), tc.raw)
			assert.Equal(t, tc.limit, limit, tc.raw)
		}
	}
}

func TestPersistRequest(t *testing.T) {
	for _, tc := range []struct {
		meta    string
		persist bool
		ttl     time.Duration
	}{
		{`{"persist":true}`, true, 0},
		{`{"persist":{"ttl":60}}`, true, time.Minute},
		{`{"persist":{}}`, true, 0},
		{`{"persist":{"ttl":0}}`, true, 0},
		{`{"persist":false}`, false, 0},
		{`{"persist":null}`, false, 0},
		{`{"persist":"yes"}`, false, 0},
		{`{}`, false, 0},
		{``, false, 0},
	} {
		p, ttl := persistFromMeta([]byte(tc.meta))
		assert.Equal(t, tc.persist, p, tc.meta)
		assert.Equal(t, tc.ttl, ttl, tc.meta)
	}
}
