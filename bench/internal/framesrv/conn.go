package framesrv

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

// maxClientMessage bounds a client message; clients only send joins,
// heartbeats, leaves and broadcasts.
const maxClientMessage = 1 << 20

// conn is one client connection. The reading goroutine (run) owns joined,
// need, answers, started and the scratch buffers; the output queue is
// shared with the burst goroutine under wmu.
type conn struct {
	s       *Server
	nc      net.Conn
	dropped atomic.Bool // by DropAll: the connection may stay in the server's set until its goroutine ends
	br      *bufio.Reader
	p       params
	burst   *frames.Burst

	wmu sync.Mutex
	out []byte // queued server frames, written by flush

	joined  map[string]joinState
	need    map[string]bool // topics of the burst still to join
	answers map[string]joinAnswer
	started bool
	bwg     sync.WaitGroup

	scratch, payload, text []byte
}

type joinState struct {
	joinRef []byte // nil for null
	ack     bool   // broadcast.ack: acknowledge broadcasts
}

// flushAt is how much queued output forces a write before the client's
// pipelined messages are all handled.
const flushAt = 64 << 10

func newConn(s *Server, nc net.Conn, br *bufio.Reader, p params, b *frames.Burst) *conn {
	c := &conn{s: s, nc: nc, br: br, p: p, burst: b, joined: make(map[string]joinState), answers: make(map[string]joinAnswer)}
	c.need = make(map[string]bool, p.channels)
	for _, t := range b.Topics() {
		c.need[t] = true
	}
	return c
}

// drop closes the connection with a TCP reset.
// drop resets the connection; it reports false if an earlier drop already did.
func (c *conn) drop() bool {
	if c.dropped.Swap(true) {
		return false
	}
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.nc.Close()
	return true
}

func (c *conn) run() {
	defer c.bwg.Wait()
	defer c.nc.Close()
	var msg []byte
	var buf []byte
	var hdr [ws.MaxHeaderSize - 2]byte
	var op ws.OpCode // opcode of the message being read
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
			if h.OpCode != ws.OpContinuation {
				op = h.OpCode
			}
			if h.Fin && len(msg) == 0 {
				c.handleFrame(op, p) // unfragmented: no copy
			} else {
				msg = append(msg, p...)
				if !h.Fin {
					continue
				}
				c.handleFrame(op, msg)
				msg = msg[:0]
			}
			// Answers to pipelined messages go out together, once the
			// client's messages read so far are all handled.
			if c.br.Buffered() == 0 {
				c.flush()
			}
		}
	}
}

// queue appends text as one server text frame to the output.
func (c *conn) queue(text []byte) {
	c.wmu.Lock()
	c.out = appendHeader(c.out, ws.OpText, len(text))
	c.out = append(c.out, text...)
	full := len(c.out) >= flushAt
	c.wmu.Unlock()
	if full {
		c.flush()
	}
}

// flush writes the queued output.
func (c *conn) flush() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.flushLocked()
}

func (c *conn) flushLocked() error {
	if len(c.out) == 0 {
		return nil
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.nc.Write(c.out)
	c.out = c.out[:0]
	return err
}

func (c *conn) writeClose(code ws.StatusCode) {
	c.writeFrame(ws.OpClose, ws.NewCloseFrameBody(code, ""))
}

// writeFrame writes one unfragmented server frame at once, after whatever
// is queued.
func (c *conn) writeFrame(op ws.OpCode, p []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.out = appendHeader(c.out, op, len(p))
	c.out = append(c.out, p...)
	_ = c.flushLocked()
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
	if c.p.rate > 0 {
		c.writePaced()
		return
	}
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
		err := c.flushLocked() // replies queued before this batch go first
		if err == nil {
			_ = c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			_, err = c.nc.Write(w)
		}
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

// writePaced is the burst of the latency workload: frame i is due at
// start + i/rate and is written on its own as soon as it is due (at once if
// the writer is late, so the mean rate holds). Each frame is encoded when
// it is written, its row's created_at (and commit_timestamp) set to the
// time of the write, microseconds, which is what clients measure their
// latency from. The rows and ids are the ring's, so the checksum holds.
func (c *conn) writePaced() {
	b, n, rate := c.burst, c.p.n, int64(c.p.rate)
	k, topics := b.Len(), b.Topics()
	start := time.Now()
	bytes := 0
	var text []byte
	for i := range n {
		due := start.Add(time.Duration(int64(i) * int64(time.Second) / rate))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		j := i % k
		row := *b.Row(j)
		row.CreatedAt = time.Now()
		text = frames.AppendChange(text[:0], c.p.vsn, topics[j%len(topics)], &row)
		c.wmu.Lock()
		c.out = appendHeader(c.out, ws.OpText, len(text))
		c.out = append(c.out, text...)
		err := c.flushLocked()
		c.wmu.Unlock()
		if err != nil {
			return
		}
		bytes += len(text)
		c.s.sent.add(1)
	}
	d := time.Since(start)
	c.writeFrame(ws.OpText, frames.AppendDone(nil, c.p.vsn, topics[0], n))
	c.s.burstDone(BurstStats{Frames: n, Bytes: bytes, Duration: d})
}
