package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// WriteFrame writes data as one final text (binary == false) or binary frame.
//
// It is safe for concurrent use: frames are written whole, one at a time, in
// the order the callers get the write lock. data is not modified and may be
// reused as soon as WriteFrame returns (client frames are masked in the
// connection's own buffer, not in data).
//
// ctx bounds the wait for the write lock and, through its deadline, the write
// itself (together with the write timeout, see [WithWriteTimeout]). A context
// cancelled without a deadline is noticed before the first byte is written;
// once writing started, the deadline is what stops it.
//
// A failed write may leave a partial frame on the wire, so every later write
// fails with the same error. If it timed out, the connection is ended at once
// (socket closed, ReadFrame reports a [*CloseError] with [StatusAbnormal]
// wrapping it). If the peer reset the connection, the socket is left to the
// reader, which still returns what the peer sent before leaving (typically
// its close frame, so its close code is not lost) and then the end of the
// stream. Errors while waiting for the lock (ctx done) do not affect the
// connection.
func (c *Conn) WriteFrame(ctx context.Context, data []byte, binary bool) error {
	op := ws.OpText
	if binary {
		op = ws.OpBinary
	}
	return c.write(ctx, op, data)
}

// Frame is one data frame for [Conn.WriteFrames]: Data as a final text
// frame, or a binary frame when Binary is set.
type Frame struct {
	Data   []byte
	Binary bool
}

// WriteFrames writes frames, in order, as consecutive final frames and flushes
// them together: a batch costs one write to the socket (more only when it
// exceeds the write buffer, see [WithWriteBufferSize]) where WriteFrame costs
// one per frame. No other frame is written between them.
//
// Everything else is as for [Conn.WriteFrame]: the frames' data is not
// modified, ctx bounds the wait for the write lock and (with the write
// timeout, which bounds the whole batch) the write, and a failure blocks
// every later write. When it fails, any prefix of the batch may have reached
// the peer. Writing no frame does nothing.
func (c *Conn) WriteFrames(ctx context.Context, frames ...Frame) error {
	if len(frames) == 0 {
		return nil
	}
	return c.writeBatch(ctx, ws.OpText, nil, frames)
}

// Ping sends a ping control frame with data (at most 125 bytes, else
// [ErrControlTooLarge]). The peer's pong is consumed by ReadFrame, which
// records it in [Conn.LastPong]. Concurrency and ctx are as for WriteFrame.
func (c *Conn) Ping(ctx context.Context, data []byte) error {
	if len(data) > ws.MaxControlFramePayloadSize {
		return ErrControlTooLarge
	}
	return c.write(ctx, ws.OpPing, data)
}

func (c *Conn) write(ctx context.Context, op ws.OpCode, data []byte) error {
	return c.writeBatch(ctx, op, data, nil)
}

// writeBatch writes frames if there are any, else one frame of op with data.
func (c *Conn) writeBatch(ctx context.Context, op ws.OpCode, data []byte, frames []Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.writeBlocked(); err != nil {
		return err
	}
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.unlock()
	if err := c.writeBlocked(); err != nil {
		return err
	}
	deadline := time.Now().Add(c.writeTimeout)
	ctxDeadline, hasDeadline := ctx.Deadline()
	if hasDeadline && ctxDeadline.Before(deadline) {
		deadline = ctxDeadline
	}
	var err error
	if frames != nil {
		err = c.writeFramesLocked(deadline, frames)
	} else {
		err = c.writeLocked(deadline, op, data)
	}
	if err == nil {
		return nil
	}
	if hasDeadline && !time.Now().Before(ctxDeadline) {
		err = fmt.Errorf("transport: write: %w: %w", context.DeadlineExceeded, err)
	} else {
		err = fmt.Errorf("transport: write: %w", err)
	}
	return c.writeFailed(err)
}

// writeBlocked returns why writing is impossible: the connection's fate, or
// the error of an earlier failed write.
func (c *Conn) writeBlocked() error {
	if f := c.fate.Load(); f != nil {
		return f.err
	}
	if f := c.wfail.Load(); f != nil {
		return f.err
	}
	return nil
}

// writeFailed handles a failed write (err) with the write lock held: a partial
// frame may be on the wire, so no further write is allowed.
//
// A timeout means the peer is stuck or too slow: the connection is ended
// (fate: a *CloseError with StatusAbnormal wrapping err) and the socket closed,
// which also wakes the reader. Any other failure (reset, broken pipe) means the
// peer is gone, and the socket is left to the reader: what the peer sent
// before leaving, typically its close frame, is still in the kernel buffer and
// the reader reports it (or the EOF after it). Closing the socket here would
// lose the peer's close code to a race with concurrent writers.
func (c *Conn) writeFailed(err error) error {
	if f := c.fate.Load(); f != nil {
		// The connection had already ended (Close raced with this write):
		// report that rather than its consequence.
		return f.err
	}
	c.wfail.CompareAndSwap(nil, &fateBox{err: err})
	if isTimeout(err) {
		fate := c.fail(&CloseError{Code: StatusAbnormal, Err: err}, false, 0, "")
		if !isAbnormalWith(fate, err) {
			return fate
		}
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
}

func isAbnormalWith(fate, err error) bool {
	var ce *CloseError
	return errors.As(fate, &ce) && ce.Err == err
}

// lock acquires the write lock or gives up when ctx is done.
func (c *Conn) lock(ctx context.Context) error {
	select {
	case c.wlock <- struct{}{}:
		return nil
	default:
	}
	select {
	case c.wlock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lockWithin acquires the write lock or gives up after d.
func (c *Conn) lockWithin(d time.Duration) bool {
	select {
	case c.wlock <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case c.wlock <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (c *Conn) unlock() { <-c.wlock }

// writeLocked writes one final frame and flushes it. The caller holds the
// write lock.
func (c *Conn) writeLocked(deadline time.Time, op ws.OpCode, p []byte) error {
	if err := c.nc.SetWriteDeadline(deadline); err != nil {
		return err
	}
	if err := c.bufferFrame(op, p); err != nil {
		return err
	}
	return c.bw.Flush()
}

// writeFramesLocked writes frames and flushes them once. The caller holds the
// write lock.
func (c *Conn) writeFramesLocked(deadline time.Time, frames []Frame) error {
	if err := c.nc.SetWriteDeadline(deadline); err != nil {
		return err
	}
	for _, f := range frames {
		op := ws.OpText
		if f.Binary {
			op = ws.OpBinary
		}
		if err := c.bufferFrame(op, f.Data); err != nil {
			return err
		}
	}
	return c.bw.Flush()
}

// bufferFrame writes one final frame into the buffered writer (which flushes
// only when full). The caller holds the write lock.
func (c *Conn) bufferFrame(op ws.OpCode, p []byte) error {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	if c.client {
		h.Masked = true
		h.Mask = newMask()
	}
	if err := ws.WriteHeaderBuffer(c.bw, h, c.whdr[:]); err != nil {
		return err
	}
	if c.client {
		if err := writeMasked(c.bw, p, h.Mask); err != nil {
			return err
		}
	} else if _, err := c.bw.Write(p); err != nil {
		return err
	}
	return nil
}

// writeMasked writes p masked with mask to bw without modifying p: each chunk
// is copied into bw's free buffer space and masked there, so masking costs no
// allocation and no extra copy beyond the one buffering makes anyway.
func writeMasked(bw *bufio.Writer, p []byte, mask [4]byte) error {
	off := 0
	for len(p) > 0 {
		if bw.Available() == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		buf := bw.AvailableBuffer()
		n := copy(buf[:cap(buf)], p)
		ws.Cipher(buf[:n], mask, off)
		if _, err := bw.Write(buf[:n]); err != nil {
			return err
		}
		off += n
		p = p[n:]
	}
	return nil
}

// newMask returns a fresh masking key. math/rand/v2's global source is the
// runtime's per-thread ChaCha8 generator: unpredictable, lock free, no
// allocation.
func newMask() (m [4]byte) {
	binary.LittleEndian.PutUint32(m[:], rand.Uint32())
	return m
}

// sendClose writes a close frame (best effort) within d, bypassing the fate
// check: callers have just recorded the fate themselves. It reports whether
// the frame was written.
func (c *Conn) sendClose(code StatusCode, reason string, d time.Duration) bool {
	var body [ws.MaxControlFramePayloadSize]byte
	n := 0
	if code.sendable() {
		binary.BigEndian.PutUint16(body[:2], uint16(code))
		n = 2 + copy(body[2:], truncateUTF8(reason, ws.MaxControlFramePayloadSize-2))
	}
	if !c.lockWithin(d) {
		return false
	}
	defer c.unlock()
	if c.wfail.Load() != nil {
		return false // a partial frame may be on the wire
	}
	return c.writeLocked(time.Now().Add(d), ws.OpClose, body[:n]) == nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
