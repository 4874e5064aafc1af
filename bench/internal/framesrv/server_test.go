package framesrv

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

func start(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func dial(t *testing.T, url string) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, _, _, err := ws.Dial(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(10*time.Second)))
	return nc
}

func send(t *testing.T, nc net.Conn, text string) {
	t.Helper()
	require.NoError(t, wsutil.WriteClientText(nc, []byte(text)))
}

// recv reads the next text message as a generic vsn 2.0.0 array.
func recv(t *testing.T, nc net.Conn) []any {
	t.Helper()
	p, err := wsutil.ReadServerText(nc)
	require.NoError(t, err)
	var a []any
	require.NoError(t, json.Unmarshal(p, &a), "%s", p)
	require.Len(t, a, 5)
	return a
}

func TestJoinReplyEchoesBindingsWithIDs(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V2, 0, 1))
	send(t, nc, `["1","1","realtime:room","phx_join",{"config":{"broadcast":{"ack":false},`+
		`"postgres_changes":[{"event":"INSERT","schema":"public","table":"messages"},{"event":"*","schema":"public","table":"rooms","filter":"id=eq.1"}]}}]`)
	reply := recv(t, nc)
	assert.Equal(t, []any{"1", "1", "realtime:room", "phx_reply"}, reply[:4])
	assert.Equal(t, map[string]any{"status": "ok", "response": map[string]any{"postgres_changes": []any{
		map[string]any{"event": "INSERT", "schema": "public", "table": "messages", "id": float64(frames.BindingID)},
		map[string]any{"event": "*", "schema": "public", "table": "rooms", "filter": "id=eq.1", "id": float64(frames.BindingID + 1)},
	}}}, reply[4])
	sys := recv(t, nc)
	assert.Equal(t, []any{"1", nil, "realtime:room", "system"}, sys[:4])
	assert.Equal(t, map[string]any{"extension": "postgres_changes", "status": "ok", "message": "Subscribed to PostgreSQL", "channel": "room"}, sys[4])
	assert.Equal(t, int64(1), s.Stats().Joins)
}

func TestJoinWithoutBindingsAndV1Replies(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V1, 0, 1))
	send(t, nc, `{"topic":"realtime:x","event":"phx_join","payload":{},"ref":"3","join_ref":"3"}`)
	p, err := wsutil.ReadServerText(nc)
	require.NoError(t, err)
	assert.JSONEq(t, `{"topic":"realtime:x","event":"phx_reply","payload":{"status":"ok","response":{"postgres_changes":[]}},"ref":"3"}`, string(p))
	send(t, nc, `{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"4"}`)
	p, err = wsutil.ReadServerText(nc)
	require.NoError(t, err)
	assert.JSONEq(t, `{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"4"}`, string(p))
}

func TestHeartbeatLeaveAndUnknownTopic(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V2, 0, 1))
	send(t, nc, `[null,"9","phoenix","heartbeat",{}]`)
	assert.Equal(t, []any{nil, "9", "phoenix", "phx_reply", map[string]any{"status": "ok", "response": map[string]any{}}}, recv(t, nc))
	send(t, nc, `[null,"10","phoenix","phx_join",{}]`)
	assert.Equal(t, map[string]any{"status": "error", "response": map[string]any{"reason": "unmatched topic"}}, recv(t, nc)[4])

	send(t, nc, `["2","2","realtime:a","phx_join",{}]`)
	recv(t, nc)
	send(t, nc, `["2","3","realtime:a","phx_leave",{}]`)
	assert.Equal(t, []any{"2", "3", "realtime:a", "phx_reply"}, recv(t, nc)[:4])
	assert.Equal(t, []any{"2", "2", "realtime:a", "phx_close", map[string]any{}}, recv(t, nc))
	// Leaving again: a reply, no close.
	send(t, nc, `["2","4","realtime:a","phx_leave",{}]`)
	assert.Equal(t, "4", recv(t, nc)[1])
	send(t, nc, `[null,"11","phoenix","heartbeat",{}]`)
	assert.Equal(t, "11", recv(t, nc)[1])
}

func TestBroadcastsAreCountedAndAckedOnRequest(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V2, 0, 1))
	send(t, nc, `["1","1","realtime:quiet","phx_join",{"config":{"broadcast":{"ack":false}}}]`)
	recv(t, nc)
	send(t, nc, `["2","2","realtime:acked","phx_join",{"config":{"broadcast":{"ack":true}}}]`)
	recv(t, nc)
	send(t, nc, `["1","3","realtime:quiet","broadcast",{"type":"broadcast","event":"e","payload":{}}]`)
	send(t, nc, `["2","4","realtime:acked","broadcast",{"type":"broadcast","event":"e","payload":{}}]`)
	assert.Equal(t, []any{"2", "4", "realtime:acked", "phx_reply"}, recv(t, nc)[:4])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.WaitBroadcasts(ctx, 2))
	assert.Equal(t, int64(2), s.Stats().Broadcasts)
}

func TestBurstStartsOnceEveryChannelIsJoined(t *testing.T) {
	s := start(t, WithRing(8), WithBatchBytes(3000))
	const n = 50
	nc := dial(t, s.URL(frames.V2, n, 2))
	b, err := s.Burst(frames.V2, 2)
	require.NoError(t, err)
	send(t, nc, `["1","1","realtime:bench-0","phx_join",{}]`)
	recv(t, nc)
	send(t, nc, `[null,"5","phoenix","heartbeat",{}]`)
	assert.Equal(t, "5", recv(t, nc)[1], "no burst before the second channel joins")
	send(t, nc, `["2","2","realtime:bench-1","phx_join",{}]`)
	recv(t, nc)
	for i := range n {
		p, err := wsutil.ReadServerText(nc)
		require.NoError(t, err)
		require.Equal(t, b.Text(i%b.Len()), p, "frame %d", i)
	}
	done := recv(t, nc)
	assert.Equal(t, []any{nil, nil, "realtime:bench-0", "broadcast"}, done[:4])
	assert.Equal(t, map[string]any{"type": "broadcast", "event": frames.DoneEvent, "payload": map[string]any{"n": float64(n)}}, done[4])

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.WaitBursts(ctx, 1))
	st := s.Stats()
	assert.Equal(t, int64(n), st.Frames)
	assert.Equal(t, n, st.LastBurst.Frames)
	assert.Equal(t, b.WireBytes()*(n/b.Len())+len(b.Wire(0, n%b.Len())), st.LastBurst.Bytes)
	assert.Positive(t, st.LastBurst.Rate())
	assert.Equal(t, int64(1), st.Conns)
}

func TestPingIsAnsweredDuringIdle(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V1, 0, 1))
	require.NoError(t, wsutil.WriteClientMessage(nc, ws.OpPing, []byte("hi")))
	f, err := ws.ReadFrame(nc)
	require.NoError(t, err)
	assert.Equal(t, ws.OpPong, f.Header.OpCode)
	assert.Equal(t, "hi", string(f.Payload))
}

func TestCloseFrameIsEchoed(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V2, 0, 1))
	require.NoError(t, wsutil.WriteClientMessage(nc, ws.OpClose, ws.NewCloseFrameBody(ws.StatusGoingAway, "bye")))
	f, err := ws.ReadFrame(nc)
	require.NoError(t, err)
	assert.Equal(t, ws.OpClose, f.Header.OpCode)
	code, _ := ws.ParseCloseFrameData(f.Payload)
	assert.Equal(t, ws.StatusGoingAway, code)
}

func TestMalformedMessagesAreCounted(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V2, 0, 1))
	send(t, nc, `not json`)
	send(t, nc, `[1,2]`)
	send(t, nc, `["1","1","realtime:a","phx_join",[]]`)
	assert.Equal(t, map[string]any{"status": "error", "response": map[string]any{"reason": "malformed join payload"}}, recv(t, nc)[4])
	assert.Equal(t, int64(3), s.Stats().BadMessages)
}

func TestTooLargeClientMessageIsRefused(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V2, 0, 1))
	// The header alone announces the size: the server refuses it before any payload, so the test writes
	// only the header (writing the megabyte raced the server's close: "broken pipe" now and then).
	require.NoError(t, ws.WriteHeader(nc, ws.Header{Fin: true, OpCode: ws.OpText, Length: maxClientMessage + 1,
		Masked: true, Mask: ws.NewMask()}))
	f, err := ws.ReadFrame(nc)
	require.NoError(t, err)
	code, _ := ws.ParseCloseFrameData(f.Payload)
	assert.Equal(t, ws.StatusMessageTooBig, code)
}

func TestHandshakeRejectsBadParameters(t *testing.T) {
	s := start(t)
	for q, status := range map[string]int{"?vsn=3.0.0": 403, "?vsn=2.0.0&n=x": 400, "?channels=-1": 400, "?channels=100001": 400} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		nc, _, _, err := ws.Dial(ctx, s.Endpoint()+"/websocket"+q)
		cancel()
		if nc != nil {
			_ = nc.Close()
		}
		var se ws.StatusError
		require.True(t, errors.As(err, &se), "%s: %v", q, err)
		assert.Equal(t, status, int(se), q)
	}
}

func TestDropAllResetsConnections(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V2, 0, 1))
	send(t, nc, `[null,"1","phoenix","heartbeat",{}]`)
	recv(t, nc)
	assert.Equal(t, 1, s.DropAll())
	_, err := wsutil.ReadServerText(nc)
	assert.Error(t, err)
}

func TestWaitHonoursContext(t *testing.T) {
	s := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.WaitJoins(ctx, 1), context.DeadlineExceeded)
	require.NoError(t, s.WaitJoins(context.Background(), 0))
}

func TestBurstAfterClose(t *testing.T) {
	s, err := Start()
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = s.Burst(frames.V1, 1)
	assert.ErrorIs(t, err, ErrClosed)
}

func TestFragmentedMessagesAreReassembled(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V2, 0, 1))
	text := []byte(`[null,"7","phoenix","heartbeat",{}]`)
	first := ws.NewFrame(ws.OpText, false, text[:10])
	second := ws.NewFrame(ws.OpContinuation, true, text[10:])
	for _, f := range []ws.Frame{first, second} {
		require.NoError(t, ws.WriteFrame(nc, ws.MaskFrame(f)))
	}
	assert.Equal(t, "7", recv(t, nc)[1])
}

func TestBinaryBroadcastsAreCounted(t *testing.T) {
	s := start(t)
	nc := dial(t, s.URL(frames.V2, 0, 1))
	send(t, nc, `["1","1","realtime:acked","phx_join",{"config":{"broadcast":{"ack":true}}}]`)
	recv(t, nc)
	bin := func(p []byte) { require.NoError(t, wsutil.WriteClientBinary(nc, p)) }
	// kind 3 user broadcast: jr "1", ref "2", topic, event "e", meta "{}", json payload.
	k3 := []byte{3, 1, 1, 14, 1, 2, 1}
	k3 = append(k3, "12realtime:ackede{}"...)
	k3 = append(k3, `{"a":1}`...)
	bin(k3)
	assert.Equal(t, []any{"1", "2", "realtime:acked", "phx_reply"}, recv(t, nc)[:4])
	// kind 0 push of event broadcast, no ref: counted, not acknowledged.
	k0 := []byte{0, 1, 0, 14, 9}
	k0 = append(k0, "1realtime:ackedbroadcast"...)
	k0 = append(k0, "raw"...)
	bin(k0)
	// Bad binary frames.
	bin([]byte{9})
	bin([]byte{3, 1, 1, 200, 1, 0, 1})
	bin([]byte{0, 0, 0, 1, 1, 't', 'x'})
	send(t, nc, `[null,"8","phoenix","heartbeat",{}]`)
	assert.Equal(t, "8", recv(t, nc)[1])
	st := s.Stats()
	assert.Equal(t, int64(2), st.Broadcasts)
	assert.Equal(t, int64(3), st.BadMessages)
}
