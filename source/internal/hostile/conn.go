package hostile

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// maxClientFrame bounds what the server reads from a client: joins,
// heartbeats and pushes.
const maxClientFrame = 1 << 20

// closeLinger is how long Close waits for the client to answer its close
// frame before it closes the socket anyway.
const closeLinger = 2 * time.Second

// Serializer is the server's end of vsn 2.0.0.
var Serializer = phoenix.NewV2(phoenix.WithSide(phoenix.ServerSide))

// Join is a phx_join the server answered.
type Join struct {
	Topic   string
	JoinRef string
	Ref     string
	Payload []byte
	// AccessToken is the join payload's access_token, "" if none.
	AccessToken string
	// Bindings are the join's config.postgres_changes entries, raw.
	Bindings []json.RawMessage
	// Status is the status of the reply the server sent.
	Status string
}

// BindingID is the id the server gives the i-th postgres_changes binding
// of a join (from 0); changes carry it in their "ids".
func BindingID(i int) int { return 1001 + i }

// OK is the default JoinFunc: status ok, each postgres_changes binding
// echoed with its id ([BindingID]), as Realtime does.
func OK(j Join) (string, []byte) {
	out := make([]map[string]any, 0, len(j.Bindings))
	for i, raw := range j.Bindings {
		var b map[string]any
		if json.Unmarshal(raw, &b) != nil {
			b = map[string]any{}
		}
		b["id"] = BindingID(i)
		out = append(out, b)
	}
	resp, _ := json.Marshal(map[string]any{"postgres_changes": out})
	return "ok", resp
}

// ClientClose is [Conn.Err] after the client sent a close frame.
type ClientClose struct {
	Code   uint16 // 1005 for a close frame without a code
	Reason string
}

// Error implements error.
func (e *ClientClose) Error() string {
	return fmt.Sprintf("hostile: client closed the connection with %d %q", e.Code, e.Reason)
}

// Conn is one upgraded connection. It answers heartbeats, joins and leaves
// on its own; everything else it sends is up to the test. Writes are
// serialized and may come from any goroutine.
type Conn struct {
	s  *Server
	nc net.Conn
	// Request is the upgrade request.
	Request Request

	wmu sync.Mutex
	bw  *bufio.Writer

	mu       sync.Mutex
	received []phoenix.Message
	joins    map[string]Join
	changed  chan struct{} // closed (and replaced) on each message received
	done     chan struct{} // closed when the reader ended
	closing  bool          // Close sent a close frame
	err      error
}

func newConn(s *Server, nc net.Conn, req Request) *Conn {
	return &Conn{
		s: s, nc: nc, Request: req,
		bw:      bufio.NewWriterSize(nc, 64<<10),
		joins:   make(map[string]Join),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (the client's close frame as a
// *ClientClose, io.EOF...), nil while it is up.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// run reads the client's frames until the connection ends.
func (c *Conn) run() {
	err := c.read()
	c.mu.Lock()
	c.err = err
	close(c.done)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *Conn) read() error {
	br := bufio.NewReader(c.nc)
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return err
		}
		if h.Length > maxClientFrame {
			return fmt.Errorf("hostile: client frame of %d bytes", h.Length)
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(br, payload); err != nil {
			return err
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpPing:
			_ = c.WriteFrame(ws.OpPong, payload)
		case ws.OpClose:
			c.mu.Lock()
			answered := c.closing
			c.mu.Unlock()
			if !answered {
				_ = c.WriteFrame(ws.OpClose, payload)
			}
			code, reason := ws.ParseCloseFrameData(payload)
			return &ClientClose{Code: uint16(code), Reason: reason}
		case ws.OpText, ws.OpBinary:
			var m phoenix.Message
			if err := Serializer.Decode(&m, payload, h.OpCode == ws.OpBinary); err != nil {
				continue // a test server that cannot read a frame ignores it, as Realtime does
			}
			c.handle(m)
		}
	}
}

// handle records m and answers heartbeats, joins and leaves.
func (c *Conn) handle(m phoenix.Message) {
	switch {
	case m.Topic == phoenix.TopicPhoenix && m.Event == phoenix.EventHeartbeat:
		_ = c.Reply(m, "ok", []byte(`{}`))
	case m.Event == phoenix.EventJoin:
		j := Join{Topic: m.Topic, JoinRef: m.JoinRef, Ref: m.Ref, Payload: m.Payload}
		var p struct {
			AccessToken string `json:"access_token"`
			Config      struct {
				PostgresChanges []json.RawMessage `json:"postgres_changes"`
			} `json:"config"`
		}
		if json.Unmarshal(m.Payload, &p) == nil {
			j.AccessToken, j.Bindings = p.AccessToken, p.Config.PostgresChanges
		}
		status, resp := c.s.join(j)
		j.Status = status
		c.mu.Lock()
		c.joins[m.Topic] = j
		c.mu.Unlock()
		_ = c.Reply(m, status, resp)
	case m.Event == phoenix.EventLeave:
		_ = c.Reply(m, "ok", []byte(`{}`))
		_ = c.Send(phoenix.Message{JoinRef: m.JoinRef, Ref: m.JoinRef, Topic: m.Topic, Event: phoenix.EventClose, Payload: []byte(`{}`)})
		c.mu.Lock()
		delete(c.joins, m.Topic)
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.received = append(c.received, m)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// Await waits for a message from the client matching ok (among those
// received so far, then new ones) and returns the first one.
func (c *Conn) Await(ctx context.Context, ok func(phoenix.Message) bool) (phoenix.Message, error) {
	seen := 0
	for {
		c.mu.Lock()
		fresh := c.received[seen:len(c.received):len(c.received)]
		seen = len(c.received)
		changed, ended, err := c.changed, c.isDone(), c.err
		c.mu.Unlock()
		for _, m := range fresh { // ok may lock c.mu
			if ok(m) {
				return m, nil
			}
		}
		if ended {
			return phoenix.Message{}, fmt.Errorf("hostile: connection ended: %w", err)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return phoenix.Message{}, ctx.Err()
		}
	}
}

func (c *Conn) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Joined waits until the client joined topic on this connection and the
// server replied ok, and returns the join.
func (c *Conn) Joined(ctx context.Context, topic string) (Join, error) {
	_, err := c.Await(ctx, func(m phoenix.Message) bool {
		if m.Topic != topic || m.Event != phoenix.EventJoin {
			return false
		}
		c.mu.Lock()
		j, ok := c.joins[topic]
		c.mu.Unlock()
		return ok && j.JoinRef == m.JoinRef && j.Status == "ok"
	})
	if err != nil {
		return Join{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joins[topic], nil
}

// Send encodes m with the server's serializer and writes it.
func (c *Conn) Send(m phoenix.Message) error {
	b, binary, err := Serializer.Encode(nil, &m)
	if err != nil {
		return err
	}
	if binary {
		return c.Binary(b)
	}
	return c.Text(b)
}

// Reply answers the client's message to with status and response (raw
// JSON).
func (c *Conn) Reply(to phoenix.Message, status string, response []byte) error {
	payload := make([]byte, 0, len(response)+32)
	payload = append(payload, `{"status":`...)
	payload = strconv.AppendQuote(payload, status)
	payload = append(payload, `,"response":`...)
	payload = append(payload, response...)
	payload = append(payload, '}')
	// Framed by hand: the serializer checks a payload (its depth among other things), and a hostile
	// reply is one the client must survive, not one an encoder would write.
	frame := make([]byte, 0, len(payload)+len(to.Topic)+64)
	frame = append(frame, '[')
	frame = appendNullable(frame, to.JoinRef)
	frame = append(frame, ',')
	frame = appendNullable(frame, to.Ref)
	frame = append(frame, ',')
	frame = strconv.AppendQuote(frame, to.Topic)
	frame = append(frame, `,"phx_reply",`...)
	frame = append(frame, payload...)
	frame = append(frame, ']')
	return c.Text(frame)
}

// appendNullable appends s as a JSON string, or null when it is empty.
func appendNullable(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return strconv.AppendQuote(dst, s)
}

// Text writes b as one text frame.
func (c *Conn) Text(b []byte) error { return c.WriteFrame(ws.OpText, b) }

// Binary writes b as one binary frame.
func (c *Conn) Binary(b []byte) error { return c.WriteFrame(ws.OpBinary, b) }

// WriteFrame writes one final, unmasked frame.
func (c *Conn) WriteFrame(op ws.OpCode, payload []byte) error {
	return c.WriteHeader(ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))}, payload)
}

// WriteHeader writes h and then payload, as they are: h.Length may lie
// about len(payload), h may set RSV bits, a mask (payload is not masked) or
// no Fin.
func (c *Conn) WriteHeader(h ws.Header, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := ws.WriteHeader(c.bw, h); err != nil {
		return err
	}
	if _, err := c.bw.Write(payload); err != nil {
		return err
	}
	return c.bw.Flush()
}

// WriteRaw writes b to the socket as it is: bytes that need not form a
// frame.
func (c *Conn) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.bw.Write(b); err != nil {
		return err
	}
	return c.bw.Flush()
}

// FloodControl writes n control frames of opcode op (ping, pong) with
// payload, as fast as the socket takes them.
func (c *Conn) FloodControl(n int, op ws.OpCode, payload []byte) error {
	return c.flood(n, ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))}, payload)
}

// Flood writes payload n times, each as a final text (or binary) frame, as
// fast as the socket takes them.
func (c *Conn) Flood(n int, payload []byte, binary bool) error {
	op := ws.OpText
	if binary {
		op = ws.OpBinary
	}
	return c.flood(n, ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))}, payload)
}

func (c *Conn) flood(n int, h ws.Header, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for range n {
		if err := ws.WriteHeader(c.bw, h); err != nil {
			return err
		}
		if _, err := c.bw.Write(payload); err != nil {
			return err
		}
	}
	return c.bw.Flush()
}

// Close sends a close frame with code (any value, even one that must not
// be sent) and reason, then closes the connection once the client answered
// or after two seconds. Code 0 sends an empty close frame.
func (c *Conn) Close(code uint16, reason string) error {
	var body []byte
	if code != 0 {
		body = binary.BigEndian.AppendUint16(nil, code)
		body = append(body, reason...)
	}
	return c.CloseBody(body)
}

// CloseBody is Close with the close frame's body given raw (a one-byte
// body, a reason longer than a control frame allows...).
func (c *Conn) CloseBody(body []byte) error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	err := c.WriteFrame(ws.OpClose, body)
	// Half-close and let the reader drain what the client still sends: a
	// socket closed with unread data resets, and a reset may destroy the
	// close frame before the client reads it.
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	select {
	case <-c.done:
	case <-time.After(closeLinger):
		_ = c.nc.Close()
	}
	return err
}

// Drop ends the connection at once with a TCP reset, as a crashed server
// would.
func (c *Conn) Drop() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.nc.Close()
}
