package workload

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/gobwas/ws"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

// errClosed is returned by rawConn.next when the server closed the socket.
var errClosed = errors.New("workload: server closed the connection")

// rawConn is the floor's WebSocket client: gobwas/ws frames read straight
// off a buffered socket, with nothing between the bytes and the decoder.
// One goroutine reads; writes are not concurrent with each other.
type rawConn struct {
	nc   net.Conn
	br   *bufio.Reader
	vsn  frames.Vsn
	buf  []byte // current message
	wbuf []byte
	hdr  [ws.MaxHeaderSize - 2]byte
	ref  int
}

func dialRaw(ctx context.Context, rawURL string, v frames.Vsn) (*rawConn, error) {
	nc, br, _, err := ws.Dialer{}.Dial(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("workload: dial: %w", err)
	}
	c := &rawConn{nc: nc, vsn: v, br: bufio.NewReaderSize(nc, 64<<10)}
	if br != nil {
		// The handshake reader already holds the first frames: read them
		// first, then the socket.
		c.br = bufio.NewReaderSize(io.MultiReader(br, nc), 64<<10)
	}
	return c, nil
}

// next returns the next data message. The slice is valid until the next
// call. Pings are answered; a close frame ends with errClosed.
func (c *rawConn) next() ([]byte, error) {
	c.buf = c.buf[:0]
	for {
		h, err := ws.ReadHeaderBuffer(c.br, c.hdr[:])
		if err != nil {
			return nil, err
		}
		if h.OpCode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(c.br, p); err != nil {
				return nil, err
			}
			switch h.OpCode {
			case ws.OpClose:
				return nil, errClosed
			case ws.OpPing:
				if err := c.writeFrame(ws.OpPong, p); err != nil {
					return nil, err
				}
			}
			continue
		}
		n := len(c.buf)
		need := n + int(h.Length)
		if cap(c.buf) < need {
			nb := make([]byte, n, max(need, 2*cap(c.buf)))
			copy(nb, c.buf)
			c.buf = nb
		}
		c.buf = c.buf[:need]
		if _, err := io.ReadFull(c.br, c.buf[n:]); err != nil {
			return nil, err
		}
		if h.Fin {
			return c.buf, nil
		}
	}
}

// skip reads the next data message without keeping it: it returns only the
// first up to len(head) bytes of it, in head.
func (c *rawConn) skip(head []byte) (int, error) {
	for {
		h, err := ws.ReadHeaderBuffer(c.br, c.hdr[:])
		if err != nil {
			return 0, err
		}
		if h.OpCode == ws.OpClose {
			return 0, errClosed
		}
		n := min(int(h.Length), len(head))
		if _, err := io.ReadFull(c.br, head[:n]); err != nil {
			return 0, err
		}
		if _, err := c.br.Discard(int(h.Length) - n); err != nil {
			return 0, err
		}
		if !h.OpCode.IsControl() {
			return n, nil
		}
	}
}

// writeFrame writes one masked client frame.
func (c *rawConn) writeFrame(op ws.OpCode, p []byte) error {
	c.wbuf = appendMasked(c.wbuf[:0], op, p)
	_, err := c.nc.Write(c.wbuf)
	return err
}

// appendMasked appends p as one final client frame, masked.
func appendMasked(b []byte, op ws.OpCode, p []byte) []byte {
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], rand.Uint32())
	b = appendClientHeader(b, ws.Header{Fin: true, OpCode: op, Masked: true, Mask: mask, Length: int64(len(p))})
	start := len(b)
	b = append(b, p...)
	ws.Cipher(b[start:], mask, 0)
	return b
}

func appendClientHeader(b []byte, h ws.Header) []byte {
	b = append(b, 0x80|byte(h.OpCode))
	n := h.Length
	switch {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0x80|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 0x80|127), uint64(n))
	}
	return append(b, h.Mask[:]...)
}

func (c *rawConn) nextRef() string {
	c.ref++
	return strconv.Itoa(c.ref)
}

// joinPayload is the join the floor sends: what realtime-js sends for one
// postgres_changes binding.
const joinPayload = `{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},` +
	`"postgres_changes":[{"event":"INSERT","schema":"public","table":"messages"}],"private":false}}`

// appendMessage encodes a client message: join_ref and ref are "" for none.
func appendMessage(b []byte, v frames.Vsn, joinRef, ref, topic, event string, payload []byte) []byte {
	q := func(b []byte, s string) []byte {
		if s == "" {
			return append(b, "null"...)
		}
		return strconv.AppendQuote(b, s) // refs, topics and events here are plain ASCII
	}
	if v == frames.V1 {
		b = append(b, `{"topic":`...)
		b = q(b, topic)
		b = append(b, `,"event":`...)
		b = q(b, event)
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
		b = append(b, `,"ref":`...)
		b = q(b, ref)
		if joinRef != "" {
			b = append(b, `,"join_ref":`...)
			b = q(b, joinRef)
		}
		return append(b, '}')
	}
	b = append(b, '[')
	b = q(b, joinRef)
	b = append(b, ',')
	b = q(b, ref)
	b = append(b, ',')
	b = q(b, topic)
	b = append(b, ',')
	b = q(b, event)
	b = append(b, ',')
	b = append(b, payload...)
	return append(b, ']')
}

// join sends a phx_join for topic and returns its ref (also its join_ref).
func (c *rawConn) join(topic string) (string, error) {
	ref := c.nextRef()
	msg := appendMessage(nil, c.vsn, ref, ref, topic, "phx_join", []byte(joinPayload))
	return ref, c.writeFrame(ws.OpText, msg)
}

// close runs the WebSocket closing handshake: it sends a close frame, reads
// (and drops) whatever the server still sends until its close frame, then
// closes the socket. Waiting for the server's close matters: closing a
// socket with unread data makes the kernel reset the connection, and the
// server may then lose frames it has not read yet.
func (c *rawConn) close() error {
	deadline := time.Now().Add(5 * time.Second)
	_ = c.nc.SetDeadline(deadline)
	if err := c.writeFrame(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "")); err == nil {
		var head [16]byte
		for {
			if _, err := c.skip(head[:]); err != nil {
				break
			}
		}
	}
	return c.nc.Close()
}

// awaitReplies reads until n phx_reply messages with status ok arrived,
// skipping anything else; an error reply fails.
func (c *rawConn) awaitReplies(n int) error {
	for n > 0 {
		text, err := c.next()
		if err != nil {
			return err
		}
		event, status, err := replyStatus(c.vsn, text)
		if err != nil {
			return err
		}
		if event != "phx_reply" {
			continue
		}
		if status != "ok" {
			return fmt.Errorf("workload: join refused: %s", text)
		}
		n--
	}
	return nil
}

// replyStatus decodes a server message's event and, for replies, status.
func replyStatus(v frames.Vsn, text []byte) (event, status string, err error) {
	var p struct {
		Status string `json:"status"`
	}
	var payload []byte
	if v == frames.V1 {
		var m struct {
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(text, &m); err != nil {
			return "", "", fmt.Errorf("workload: decode server message: %w", err)
		}
		event, payload = m.Event, m.Payload
	} else {
		e, err := frames.SplitV2(text)
		if err != nil {
			return "", "", err
		}
		event, payload = string(e.Event), e.Payload
	}
	if event == "phx_reply" {
		if err := json.Unmarshal(payload, &p); err != nil {
			return "", "", fmt.Errorf("workload: decode reply: %w", err)
		}
	}
	return event, p.Status, nil
}
