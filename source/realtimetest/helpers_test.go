package realtimetest

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitTimeout bounds every wait in these tests; it is a safety net, never
// an assertion on timing.
const waitTimeout = 5 * time.Second

// rxFrame is one frame a test client received.
type rxFrame struct {
	data   []byte
	binary bool
}

// client is a raw Phoenix client over transport + phoenix serializers.
type client struct {
	t      *testing.T
	tc     *transport.Conn
	ser    phoenix.Serializer
	ref    int
	frames chan rxFrame
	done   chan struct{}
	err    error // why the reader stopped; read after done is closed
}

// newServer starts a server closed at the end of the test.
func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// wsURL builds the socket URL for vsn with an apikey.
func wsURL(s *Server, vsn, apikey string) string {
	q := url.Values{}
	if apikey != "" {
		q.Set("apikey", apikey)
	}
	if vsn != "" {
		q.Set("vsn", vsn)
	}
	return s.URL() + "/websocket?" + q.Encode()
}

// dial connects a client speaking vsn ("1.0.0" or "2.0.0").
func dial(t *testing.T, s *Server, vsn string, opts ...transport.Option) *client {
	t.Helper()
	return dialURL(t, wsURL(s, vsn, "anon-key"), vsn, opts...)
}

func dialURL(t *testing.T, u, vsn string, opts ...transport.Option) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	tc, err := transport.Dial(ctx, u, opts...)
	require.NoError(t, err)
	var ser phoenix.Serializer = phoenix.V1
	if vsn == phoenix.VersionV2 {
		ser = phoenix.V2
	}
	c := &client{t: t, tc: tc, ser: ser, frames: make(chan rxFrame, 1024), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			data, binary, err := tc.ReadFrame()
			if err != nil {
				c.err = err
				return
			}
			c.frames <- rxFrame{data, binary}
		}
	}()
	t.Cleanup(func() {
		_ = tc.CloseNow()
		<-c.done
	})
	return c
}

// nextRef returns a fresh ref.
func (c *client) nextRef() string {
	c.ref++
	return strconv.Itoa(c.ref)
}

// sendText writes a raw text frame.
func (c *client) sendText(s string) {
	c.t.Helper()
	require.NoError(c.t, c.tc.WriteFrame(context.Background(), []byte(s), false))
}

// send encodes and writes m.
func (c *client) send(m phoenix.Message) {
	c.t.Helper()
	data, binary, err := c.ser.Encode(nil, &m)
	require.NoError(c.t, err)
	require.NoError(c.t, c.tc.WriteFrame(context.Background(), data, binary))
}

// push sends event on topic with joinRef and a fresh ref; returns the ref.
func (c *client) push(joinRef, topic, event, payload string) string {
	c.t.Helper()
	ref := c.nextRef()
	c.send(phoenix.Message{JoinRef: joinRef, Ref: ref, Topic: topic, Event: event, Payload: []byte(payload)})
	return ref
}

// join sends phx_join (join_ref == ref) and returns the join ref.
func (c *client) join(topic, payload string) string {
	c.t.Helper()
	ref := c.nextRef()
	c.send(phoenix.Message{JoinRef: ref, Ref: ref, Topic: topic, Event: phoenix.EventJoin, Payload: []byte(payload)})
	return ref
}

// next returns the next received frame.
func (c *client) next() rxFrame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("connection ended while waiting for a frame: %v", c.err)
	case <-time.After(waitTimeout):
		c.t.Fatal("no frame within the safety timeout")
	}
	return rxFrame{}
}

// nextText returns the next frame, which must be text.
func (c *client) nextText() string {
	c.t.Helper()
	f := c.next()
	require.False(c.t, f.binary, "expected a text frame, got binary % x", f.data)
	return string(f.data)
}

// expect asserts the next frame is exactly want (text).
func (c *client) expect(want string) {
	c.t.Helper()
	require.Equal(c.t, want, c.nextText())
}

// expectJSON asserts the next frame is JSON equal to want.
func (c *client) expectJSON(want string) {
	c.t.Helper()
	require.JSONEq(c.t, want, c.nextText())
}

// decode decodes a received frame with the client's serializer.
func (c *client) decode(f rxFrame) phoenix.Message {
	c.t.Helper()
	var m phoenix.Message
	require.NoError(c.t, c.ser.Decode(&m, f.data, f.binary))
	return m
}

// nextMsg returns the next frame decoded.
func (c *client) nextMsg() phoenix.Message {
	c.t.Helper()
	return c.decode(c.next())
}

// expectNone asserts that nothing arrives before a heartbeat round trip:
// frames are written in order, so once the heartbeat reply is here anything
// sent before it would have arrived.
func (c *client) expectNone() {
	c.t.Helper()
	ref := c.push("", "phoenix", "heartbeat", "{}")
	got := c.nextText()
	want := `[null,"` + ref + `","phoenix","phx_reply",{"status":"ok","response":{}}]`
	if c.ser.Version() == phoenix.VersionV1 {
		want = `{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"` + ref + `"}`
	}
	require.Equal(c.t, want, got, "an unexpected frame arrived before the heartbeat reply")
}

// closed waits for the connection to end and returns the reader's error.
func (c *client) closed() error {
	c.t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(waitTimeout):
		c.t.Fatal("connection still open after the safety timeout")
	}
	return nil
}

// closeCode waits for the connection to end and returns the close code the
// server sent (StatusAbnormal for a drop without close frame).
func (c *client) closeCode() transport.StatusCode {
	c.t.Helper()
	err := c.closed()
	var ce *transport.CloseError
	require.True(c.t, errors.As(err, &ce), "want a CloseError, got %v", err)
	return ce.Code
}

// ctx returns a context bounded by the safety timeout.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return c
}

// jsonField extracts a top-level member of a JSON object.
func jsonField(t *testing.T, raw []byte, key string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	return m[key]
}

// waitClients waits until the server has n connections.
func waitClients(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for len(s.Clients()) != n {
		if time.Now().After(deadline) {
			t.Fatalf("server has %d clients, want %d", len(s.Clients()), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitTopics waits until connection id has joined topic.
func waitTopics(t *testing.T, s *Server, id ConnID, topic string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !slices.Contains(s.Topics(id), topic) {
		if time.Now().After(deadline) {
			t.Fatalf("connection %d has topics %v, want %s", id, s.Topics(id), topic)
		}
		time.Sleep(time.Millisecond)
	}
}
