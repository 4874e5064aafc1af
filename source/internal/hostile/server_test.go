package hostile_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rxrealtime/rxrealtime/source/internal/hostile"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var client = phoenix.NewV2()

func start(t *testing.T, opts ...hostile.Option) *hostile.Server {
	t.Helper()
	srv, err := hostile.New(opts...)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func dial(t *testing.T, srv *hostile.Server) *transport.Conn {
	t.Helper()
	conn, err := transport.Dial(ctx(t), srv.URL()+"?apikey=k&vsn=2.0.0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

func send(t *testing.T, conn *transport.Conn, m phoenix.Message) {
	t.Helper()
	b, binary, err := client.Encode(nil, &m)
	require.NoError(t, err)
	require.NoError(t, conn.WriteFrame(ctx(t), b, binary))
}

func read(t *testing.T, conn *transport.Conn) phoenix.Message {
	t.Helper()
	data, binary, err := conn.ReadFrame()
	require.NoError(t, err)
	var m phoenix.Message
	require.NoError(t, client.Decode(&m, data, binary))
	return m
}

// The server answers a join (echoing its bindings with ids) and a
// heartbeat, records both, and sends what the test scripts.
func TestServerAnswersJoinsAndHeartbeats(t *testing.T) {
	srv := start(t)
	conn := dial(t, srv)
	sc, err := srv.Conn(ctx(t), 1)
	require.NoError(t, err)
	assert.Equal(t, "k", sc.Request.Query.Get("apikey"))

	send(t, conn, phoenix.Message{JoinRef: "1", Ref: "1", Topic: "realtime:a", Event: phoenix.EventJoin,
		Payload: []byte(`{"config":{"postgres_changes":[{"event":"*","schema":"public","table":"t"}]},"access_token":"tok"}`)})
	reply := read(t, conn)
	status, resp, err := phoenix.ParseReply(reply.Payload)
	require.NoError(t, err)
	assert.Equal(t, "ok", status)
	assert.JSONEq(t, `{"postgres_changes":[{"event":"*","schema":"public","table":"t","id":1001}]}`, string(resp))
	j, err := sc.Joined(ctx(t), "realtime:a")
	require.NoError(t, err)
	assert.Equal(t, "tok", j.AccessToken)
	assert.Equal(t, "1", j.JoinRef)

	send(t, conn, phoenix.Message{Ref: "2", Topic: phoenix.TopicPhoenix, Event: phoenix.EventHeartbeat, Payload: []byte(`{}`)})
	hb := read(t, conn)
	assert.Equal(t, "2", hb.Ref)
	assert.Equal(t, phoenix.EventReply, hb.Event)

	require.NoError(t, sc.Text([]byte(`[null,null,"realtime:a","x",{"n":1}]`)))
	assert.JSONEq(t, `{"n":1}`, string(read(t, conn).Payload))
	require.NoError(t, sc.Flood(3, []byte(`[null,null,"realtime:a","y",{}]`), false))
	for range 3 {
		assert.Equal(t, "y", read(t, conn).Event)
	}
}

// A join the JoinFunc refuses gets its error reply.
func TestServerRefusesJoins(t *testing.T) {
	srv := start(t, hostile.WithJoin(func(j hostile.Join) (string, []byte) {
		return "error", []byte(`{"reason":"no ` + j.Topic + `"}`)
	}))
	conn := dial(t, srv)
	send(t, conn, phoenix.Message{JoinRef: "1", Ref: "1", Topic: "realtime:a", Event: phoenix.EventJoin, Payload: []byte(`{}`)})
	status, resp, err := phoenix.ParseReply(read(t, conn).Payload)
	require.NoError(t, err)
	assert.Equal(t, "error", status)
	assert.JSONEq(t, `{"reason":"no realtime:a"}`, string(resp))
}

// A refused handshake carries the status and the body built from the
// request; a stalled one never completes.
func TestServerHandshakes(t *testing.T) {
	srv := start(t, hostile.WithHandshake(func(r hostile.Request) hostile.Answer {
		return hostile.Answer{Status: 401, Body: `{"error":"key ` + r.Query.Get("apikey") + `"}`}
	}))
	_, err := transport.Dial(ctx(t), srv.URL()+"?apikey=sekrit")
	var he *transport.HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 401, he.StatusCode)
	assert.Contains(t, string(he.Body), `"error":"key `)

	stall := start(t, hostile.WithHandshake(func(hostile.Request) hostile.Answer { return hostile.Answer{Stall: true} }))
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = transport.Dial(short, stall.URL())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, stall.Accepted())
	assert.Empty(t, stall.Conns())
}

// Close sends any code; the client's answer is the connection's end.
func TestServerCloses(t *testing.T) {
	srv := start(t)
	conn := dial(t, srv)
	sc, err := srv.Conn(ctx(t), 1)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, _, err := conn.ReadFrame()
		done <- err
	}()
	require.NoError(t, sc.Close(4000, "bye"))
	var ce *transport.CloseError
	require.ErrorAs(t, <-done, &ce)
	assert.Equal(t, transport.StatusCode(4000), ce.Code)
	assert.Equal(t, "bye", ce.Reason)
	<-sc.Done()
	var cc *hostile.ClientClose
	require.True(t, errors.As(sc.Err(), &cc), "got %v", sc.Err())
	assert.Equal(t, uint16(4000), cc.Code)
}
