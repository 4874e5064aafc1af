package framesrv

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

// maxClientMessage bounds a client message; clients only send joins,
// heartbeats, leaves and broadcasts.
const maxClientMessage = 1 << 20

// conn is one client connection. The reading goroutine (run) owns joined,
// pending and started; writes from it and from the burst goroutine are
// serialised by wmu.
type conn struct {
	s     *Server
	nc    net.Conn
	br    *bufio.Reader
	p     params
	burst *frames.Burst

	wmu  sync.Mutex
	wbuf []byte

	joined  map[string]joinState
	need    map[string]bool // topics of the burst still to join
	started bool
	bwg     sync.WaitGroup
}

type joinState struct {
	joinRef *string
	ack     bool // broadcast.ack: acknowledge broadcasts
}

func newConn(s *Server, nc net.Conn, br *bufio.Reader, p params, b *frames.Burst) *conn {
	c := &conn{s: s, nc: nc, br: br, p: p, burst: b, joined: make(map[string]joinState)}
	c.need = make(map[string]bool, p.channels)
	for _, t := range b.Topics() {
		c.need[t] = true
	}
	return c
}

// drop closes the connection with a TCP reset.
func (c *conn) drop() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.nc.Close()
}

func (c *conn) run() {
	defer c.bwg.Wait()
	defer c.nc.Close()
	var msg []byte
	var buf []byte
	var hdr [ws.MaxHeaderSize - 2]byte
	for {
		h, err := ws.ReadHeaderBuffer(c.br, hdr[:])
		if err != nil {
			return
		}
		if h.Length > maxClientMessage || int64(len(msg))+h.Length > maxClientMessage {
			c.writeClose(ws.StatusMessageTooBig)
			return
		}
		if cap(buf) < int(h.Length) {
			buf = make([]byte, h.Length)
		}
		p := buf[:h.Length]
		if _, err := io.ReadFull(c.br, p); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpClose:
			code := ws.StatusNormalClosure
			if len(p) >= 2 {
				code = ws.StatusCode(binary.BigEndian.Uint16(p))
			}
			c.writeClose(code)
			return
		case ws.OpPing:
			c.writeFrame(ws.OpPong, p)
			continue
		case ws.OpPong:
			continue
		case ws.OpText, ws.OpBinary, ws.OpContinuation:
			if h.Fin && len(msg) == 0 {
				c.handle(p) // unfragmented: no copy
				continue
			}
			msg = append(msg, p...)
			if !h.Fin {
				continue
			}
			c.handle(msg)
			msg = msg[:0]
		}
	}
}

func (c *conn) writeClose(code ws.StatusCode) {
	c.writeFrame(ws.OpClose, ws.NewCloseFrameBody(code, ""))
}

// writeFrame writes one unfragmented server frame.
func (c *conn) writeFrame(op ws.OpCode, p []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = c.wbuf[:0]
	c.wbuf = appendHeader(c.wbuf, op, len(p))
	c.wbuf = append(c.wbuf, p...)
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.nc.Write(c.wbuf)
}

func appendHeader(b []byte, op ws.OpCode, n int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n <= 125:
		return append(b, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}

// startBurst writes the burst from its own goroutine, so the reading
// goroutine keeps answering heartbeats meanwhile.
func (c *conn) startBurst() {
	c.started = true
	c.bwg.Add(1)
	go func() {
		defer c.bwg.Done()
		c.writeBurst()
	}()
}

func (c *conn) writeBurst() {
	b, n := c.burst, c.p.n
	k := b.Len()
	start := time.Now()
	sent, bytes, j := 0, 0, 0
	for sent < n {
		// Whole frames up to the batch size, without wrapping the ring.
		m := 1
		for m < n-sent && j+m < k && len(b.Wire(j, j+m+1)) <= c.s.cfg.batchBytes {
			m++
		}
		w := b.Wire(j, j+m)
		c.wmu.Lock()
		_ = c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := c.nc.Write(w)
		c.wmu.Unlock()
		if err != nil {
			return
		}
		sent += m
		bytes += len(w)
		c.s.sent.add(int64(m))
		j = (j + m) % k
	}
	d := time.Since(start)
	c.writeFrame(ws.OpText, frames.AppendDone(nil, c.p.vsn, b.Topics()[0], n))
	c.s.burstDone(BurstStats{Frames: n, Bytes: bytes, Duration: d})
}
