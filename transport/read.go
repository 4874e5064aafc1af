package transport

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"time"

	"github.com/gobwas/ws"
)

// preallocLimit is how much of a peer-declared payload length is trusted for
// allocation before the bytes arrive. Frames up to this size (which covers
// Realtime's messages by far) are read into one exactly sized slice; larger
// ones grow as data actually arrives, so a peer announcing a 5 MB frame and
// sending nothing cannot make us allocate 5 MB.
const preallocLimit = 64 << 10

// ReadFrame reads the next data message and reports whether it is binary
// (else text).
//
// Only one goroutine may call ReadFrame at a time. The returned slice is
// freshly allocated and owned by the caller, who may keep or alias it; for a
// single-frame message it is exactly the payload, with no intermediate copy.
//
// Control frames are handled inside: a ping is answered with a pong (through
// the same serialized writer as WriteFrame), a pong is recorded (see
// [Conn.LastPong]), a close frame is answered with a close frame echoing its
// code and then reported as a [*CloseError]. Fragmented messages are
// reassembled. Text payloads are not validated as UTF-8.
//
// A frame or message larger than the limit (see [WithMaxFrameSize]) is
// rejected from its header with a [*FrameTooLargeError] and the connection
// is closed with 1009; framing violations yield an [ErrProtocol] error and
// close with 1002. Errors are terminal; see [Conn] for the possible ones.
func (c *Conn) ReadFrame() (data []byte, binary bool, err error) {
	if c.rerr != nil {
		return nil, false, c.rerr
	}
	if f := c.fate.Load(); f != nil {
		c.rerr = f.err
		return nil, false, f.err
	}
	data, binary, err = c.readMessage()
	if err != nil {
		c.rerr = err
		return nil, false, err
	}
	return data, binary, nil
}

func (c *Conn) readMessage() ([]byte, bool, error) {
	var (
		msg   []byte    // fragments read so far
		op    ws.OpCode // opcode of the fragmented message in progress, 0 if none
		total int64     // len(msg)
	)
	state := ws.StateServerSide
	if c.client {
		state = ws.StateClientSide
	}
	for {
		h, err := ws.ReadHeaderBuffer(c.br, c.rhdr[:2])
		if err != nil {
			return nil, false, c.readFailed(err)
		}
		c.lastRead.Store(time.Now().UnixNano())
		s := state
		if op != 0 {
			s |= ws.StateFragmented
		}
		if err := ws.CheckHeader(h, s); err != nil {
			return nil, false, c.fail(&protocolError{msg: err.Error()}, true, StatusProtocolError, "")
		}
		if h.OpCode.IsControl() {
			if err := c.handleControl(h); err != nil {
				return nil, false, err
			}
			continue
		}
		if h.Length > c.maxSize-total {
			size := total + h.Length
			if size < 0 { // overflow: a peer-declared length near 2^63
				size = math.MaxInt64
			}
			return nil, false, c.fail(&FrameTooLargeError{Size: size, Limit: c.maxSize}, true, StatusMessageTooBig, "")
		}
		if op == 0 && h.Fin {
			// Unfragmented message: read it straight into its final slice.
			p, err := c.readPayload(nil, h)
			if err != nil {
				return nil, false, err
			}
			return p, h.OpCode == ws.OpBinary, nil
		}
		if op == 0 {
			op = h.OpCode
		}
		msg, err = c.readPayload(msg, h)
		if err != nil {
			return nil, false, err
		}
		total += h.Length
		if h.Fin {
			return msg, op == ws.OpBinary, nil
		}
	}
}

// readPayload appends the payload of the frame h to dst and unmasks it.
func (c *Conn) readPayload(dst []byte, h ws.Header) ([]byte, error) {
	start := len(dst)
	if dst == nil && h.Length <= preallocLimit {
		dst = make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, dst); err != nil {
			return nil, c.readFailed(err)
		}
	} else {
		var err error
		if dst, err = c.readGrow(dst, h.Length, h.Fin); err != nil {
			return nil, c.readFailed(err)
		}
	}
	if h.Masked {
		ws.Cipher(dst[start:], h.Mask, 0)
	}
	return dst, nil
}

// readGrow appends n bytes read from the connection to dst. Each allocation
// trusts at most preallocLimit bytes, or as many as already arrived if more,
// of what the peer announced, so memory grows with the data actually
// received. For the final frame of a message the capacity never exceeds what
// the message needs; for a non-final one it grows geometrically (within the
// size limit), so many small fragments cost O(log n) allocations.
func (c *Conn) readGrow(dst []byte, n int64, final bool) ([]byte, error) {
	for n > 0 {
		if cap(dst) == len(dst) {
			grow := max(int64(len(dst)), preallocLimit)
			if final {
				grow = min(grow, n)
			} else {
				grow = min(grow, c.maxSize-int64(len(dst)))
			}
			nd := make([]byte, len(dst), int64(len(dst))+grow)
			copy(nd, dst)
			dst = nd
		}
		chunk := min(int64(cap(dst)-len(dst)), n)
		m, err := io.ReadFull(c.br, dst[len(dst):len(dst)+int(chunk)])
		dst = dst[:len(dst)+m]
		n -= int64(m)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return dst, err
		}
	}
	return dst, nil
}

// handleControl reads the payload of the control frame h and acts on it.
func (c *Conn) handleControl(h ws.Header) error {
	p := c.ctrl[:h.Length]
	if _, err := io.ReadFull(c.br, p); err != nil {
		return c.readFailed(err)
	}
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	switch h.OpCode {
	case ws.OpPing:
		return c.pong(p)
	case ws.OpPong:
		c.lastPong.Store(time.Now().UnixNano())
		return nil
	default: // ws.OpClose; CheckHeader rejected reserved op codes
		var secrets []string
		if c.secrets != nil {
			secrets = c.secrets()
		}
		ce, err := parseClose(p, secrets)
		if err != nil {
			return c.fail(err, true, StatusProtocolError, "")
		}
		// Echo the peer's code (an empty close frame for 1005), as RFC 6455
		// section 5.5.1 suggests.
		return c.fail(ce, true, ce.Code, "")
	}
}

// pong answers a ping with payload p. A pong that cannot be written ends the
// connection like any failed write.
func (c *Conn) pong(p []byte) error {
	if !c.lockWithin(c.writeTimeout) {
		// Writers are stuck longer than the write timeout: they will fail
		// the connection themselves.
		return nil
	}
	defer c.unlock()
	if c.writeBlocked() != nil {
		return nil // closing or writes failed; the next read reports the end
	}
	err := c.writeLocked(time.Now().Add(c.writeTimeout), ws.OpPong, p)
	if err != nil {
		if f := c.fate.Load(); f != nil {
			return f.err
		}
		c.writeFailed(errors.Join(errPongWrite, err))
		if f := c.fate.Load(); f != nil {
			return f.err // a timeout ended the connection
		}
		// The peer is gone: keep reading what it sent before leaving.
	}
	return nil
}

var errPongWrite = errors.New("transport: writing pong")

// parseClose decodes a close frame payload. The reason is the peer's text:
// secrets (what the dial sent) and JWTs are removed from it ([Redact]).
func parseClose(p []byte, secrets []string) (*CloseError, error) {
	switch len(p) {
	case 0:
		return &CloseError{Code: StatusNoStatus}, nil
	case 1:
		return nil, &protocolError{msg: "close frame payload of 1 byte"}
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !code.sendable() {
		return nil, &protocolError{msg: "close frame with invalid code " + code.String()}
	}
	return &CloseError{Code: code, Reason: Redact(string(p[2:]), secrets...)}, nil
}

// readFailed maps a read error to the connection's fate: if the connection
// already ended (Close, a failed write) that fate; a malformed header length
// is a protocol violation; anything else is an abnormal closure.
func (c *Conn) readFailed(err error) error {
	if f := c.fate.Load(); f != nil {
		return f.err
	}
	if errors.Is(err, ws.ErrHeaderLengthMSB) || errors.Is(err, ws.ErrHeaderLengthUnexpected) {
		return c.fail(&protocolError{msg: err.Error()}, true, StatusProtocolError, "")
	}
	return c.fail(&CloseError{Code: StatusAbnormal, Err: err}, false, 0, "")
}
