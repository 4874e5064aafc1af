package transport

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Conn is one WebSocket connection, client side (from [Dial]) or server side
// (from [Upgrade]).
//
// One goroutine reads with [Conn.ReadFrame]; any number of goroutines may
// write with [Conn.WriteFrame] and [Conn.Ping] and close with [Conn.Close] or
// [Conn.CloseNow].
//
// Errors are terminal: once ReadFrame fails, the socket is closed and every
// later call reports the same fate (a failed write blocks further writes at
// once; see [Conn.WriteFrame] for how it ends the connection). The fate is one
// of
//   - [ErrClosed]: the local side called Close or CloseNow;
//   - [*CloseError] with the peer's code: the peer sent a close frame;
//   - [*CloseError] with [StatusAbnormal]: the connection was lost without a
//     close frame (its Err says why: EOF, reset, a failed write, ...);
//   - [*FrameTooLargeError] or an [ErrProtocol] error: the peer misbehaved and
//     the connection was failed with 1009 or 1002.
type Conn struct {
	nc           net.Conn
	br           *bufio.Reader
	client       bool
	secrets      func() []string // what the dial sent and WithSecrets: removed from the peer's close reason
	maxSize      int64
	writeTimeout time.Duration

	// Reader state, owned by the single ReadFrame goroutine.
	rhdr [ws.MaxHeaderSize]byte
	ctrl [ws.MaxControlFramePayloadSize]byte
	rerr error

	lastRead atomic.Int64 // unix nanoseconds
	lastPong atomic.Int64 // unix nanoseconds, 0 if none

	// Writer state, guarded by wlock: a one-slot semaphore rather than a
	// mutex so that waiting for it can be bounded by a context or a timer.
	wlock chan struct{}
	bw    *bufio.Writer
	whdr  [ws.MaxHeaderSize]byte

	closeStarted atomic.Bool
	fate         atomic.Pointer[fateBox] // why the connection ended
	wfail        atomic.Pointer[fateBox] // first failed write, if any
}

type fateBox struct{ err error }

func newConn(nc net.Conn, br *bufio.Reader, client bool, o options) *Conn {
	c := &Conn{
		nc:           nc,
		br:           br,
		client:       client,
		maxSize:      o.maxFrameSize,
		writeTimeout: o.writeTimeout,
		wlock:        make(chan struct{}, 1),
		bw:           bufio.NewWriterSize(nc, o.writeBufferSize),
	}
	c.lastRead.Store(time.Now().UnixNano())
	return c
}

// NetConn returns the underlying connection (TLS for wss). It is an escape
// hatch for tests and fault injection: reading from or writing to it
// corrupts the WebSocket stream; setting a read deadline on it is fine (a
// timed out ReadFrame reports a [*CloseError] with [StatusAbnormal] wrapping
// the deadline error).
func (c *Conn) NetConn() net.Conn { return c.nc }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LastRead returns when the last frame header of any kind (data, ping, pong,
// close) was read, or when the connection was established if none was. It is
// safe to call from any goroutine.
func (c *Conn) LastRead() time.Time { return time.Unix(0, c.lastRead.Load()) }

// LastPong returns when the last pong frame was read, or the zero time if
// none was. It is safe to call from any goroutine.
func (c *Conn) LastPong() time.Time {
	n := c.lastPong.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Err returns the error that ended the connection (see [Conn]), or the error
// of a failed write that made further writes impossible, or nil while the
// connection is healthy.
func (c *Conn) Err() error { return c.writeBlocked() }

// Close sends a close frame with code and reason, then closes the socket
// without waiting for the peer's reply. Sending is best effort and bounded by
// the write timeout (see [WithWriteTimeout]), capped at one second, both for
// waiting for a concurrent writer and for the write itself.
//
// A code that must not appear on the wire (1005, 1006, 1015, anything outside
// 1000-4999) is replaced by an empty close frame, which the peer reports as
// 1005. The reason is truncated to the 123 bytes a close frame can carry (at a
// UTF-8 boundary).
//
// Close is idempotent and safe to call concurrently with everything else: a
// blocked ReadFrame returns [ErrClosed] promptly. It returns nil unless closing
// the socket itself fails.
func (c *Conn) Close(code StatusCode, reason string) error {
	if !c.closeStarted.CompareAndSwap(false, true) {
		return nil
	}
	polite := false
	if _, first := c.setFate(ErrClosed); first {
		polite = c.sendClose(code, reason, min(c.writeTimeout, maxCloseWait))
	}
	return c.closeSocket(polite)
}

// CloseNow closes the socket at once, without a close frame, as a dropped
// connection would: the peer sees an abnormal closure (1006). Later calls
// report [ErrClosed]. It is idempotent.
func (c *Conn) CloseNow() error {
	c.closeStarted.Store(true)
	c.setFate(ErrClosed)
	return c.closeSocket(false)
}

// maxCloseWait caps how long Close spends on the close frame.
const maxCloseWait = time.Second

// closeSocket closes the connection. For TLS, a polite close (after a close
// frame was written) also sends the TLS close_notify alert; otherwise the TCP
// connection under TLS is closed directly: no alert, as for a dropped
// connection, and no risk of blocking (tls.Conn.Close may wait up to 5 s to
// write the alert to a peer that does not read).
func (c *Conn) closeSocket(polite bool) error {
	nc := c.nc
	if tc, ok := nc.(*tls.Conn); ok && !polite {
		nc = tc.NetConn()
	}
	err := nc.Close()
	if err != nil && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// setFate records err as the reason the connection ended, unless one is
// already recorded. It returns the recorded fate and whether it is err.
func (c *Conn) setFate(err error) (error, bool) {
	if c.fate.CompareAndSwap(nil, &fateBox{err: err}) {
		return err, true
	}
	return c.fate.Load().err, false
}

// fail ends the connection with err: records it as the fate (unless the
// connection already ended), sends a close frame with code if send is true
// and the fate was not already set, and closes the socket. It returns the
// connection's fate, which callers report.
func (c *Conn) fail(err error, send bool, code StatusCode, reason string) error {
	fate, first := c.setFate(err)
	polite := false
	if first && send {
		polite = c.sendClose(code, reason, c.writeTimeout)
	}
	_ = c.closeSocket(polite)
	return fate
}
