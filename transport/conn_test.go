package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundTripTextAndBinary(t *testing.T) {
	srv := newWSServer(t, echo)
	c := dialT(t, srv.wsURL())
	defer c.Close(StatusNormalClosure, "")

	sizes := []int{0, 1, 125, 126, 900, 4095, 4096, 4097, 65535, 65536, preallocLimit + 1, 300_000}
	for _, n := range sizes {
		for _, bin := range []bool{false, true} {
			msg := bytes.Repeat([]byte{'a' + byte(n%26)}, n)
			if n > 0 {
				msg[0], msg[n-1] = '<', '>'
			}
			sent := bytes.Clone(msg)
			require.NoError(t, c.WriteFrame(testCtx(t), msg, bin))
			assert.Equal(t, sent, msg, "WriteFrame must not modify the caller's slice (masking)")
			got, gotBin, err := c.ReadFrame()
			require.NoError(t, err, "size %d", n)
			assert.Equal(t, bin, gotBin, "size %d", n)
			assert.Equal(t, sent, got, "size %d", n)
		}
	}
	assert.Equal(t, "127.0.0.1", c.LocalAddr().(*net.TCPAddr).IP.String())
	assert.Equal(t, srv.Listener.Addr().String(), c.RemoteAddr().String())
	assert.NotNil(t, c.NetConn())
	assert.NoError(t, c.Err())
}

func TestReadFrameReturnsOwnedSlices(t *testing.T) {
	// Two frames read back to back must not share memory: callers alias them.
	in := append(serverFrame(ws.OpText, true, []byte("first")), serverFrame(ws.OpText, true, []byte("second"))...)
	c, _ := memClient(t, in)
	a, _, err := c.ReadFrame()
	require.NoError(t, err)
	b, _, err := c.ReadFrame()
	require.NoError(t, err)
	a[0] = 'F'
	assert.Equal(t, "First", string(a))
	assert.Equal(t, "second", string(b))
}

func TestClientFramesAreMaskedWithFreshKeys(t *testing.T) {
	masks := make(chan [4]byte, 3)
	url := rawServer(t, func(nc net.Conn) {
		for range 3 {
			h, p, err := readClientFrame(nc)
			if err != nil || string(p) != "same payload" {
				close(masks)
				return
			}
			masks <- h.Mask
		}
	})
	c := dialT(t, url)
	defer c.CloseNow()
	for range 3 {
		require.NoError(t, c.WriteFrame(testCtx(t), []byte("same payload"), false))
	}
	seen := map[[4]byte]bool{}
	for range 3 {
		m, ok := <-masks
		require.True(t, ok, "server saw an unmasked or corrupted frame")
		seen[m] = true
	}
	assert.Len(t, seen, 3, "each frame gets its own masking key")
}

func TestClientAnswersPing(t *testing.T) {
	type result struct {
		op      ws.OpCode
		payload string
		err     error
	}
	got := make(chan result, 1)
	url := rawServer(t, func(nc net.Conn) {
		if err := writeServerFrame(nc, ws.OpPing, true, []byte("are you there")); err != nil {
			got <- result{err: err}
			return
		}
		h, p, err := readClientFrame(nc)
		got <- result{op: h.OpCode, payload: string(p), err: err}
		_ = writeServerFrame(nc, ws.OpText, true, []byte("after ping"))
	})
	c := dialT(t, url)
	defer c.CloseNow()

	// ReadFrame answers the ping internally and returns the next data frame.
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, "after ping", string(data))
	r := <-got
	require.NoError(t, r.err)
	assert.Equal(t, ws.OpPong, r.op)
	assert.Equal(t, "are you there", r.payload)
}

func TestServerAnswersPingAndClientRecordsPong(t *testing.T) {
	srv := newWSServer(t, func(c *Conn, _ *http.Request) {
		data, _, err := c.ReadFrame() // answers the ping before returning this
		if err != nil {
			return
		}
		_ = c.WriteFrame(context.Background(), append([]byte("ack "), data...), false)
		_, _, _ = c.ReadFrame()
	})
	c := dialT(t, srv.wsURL())
	defer c.Close(StatusNormalClosure, "")
	assert.True(t, c.LastPong().IsZero())

	require.ErrorIs(t, c.Ping(testCtx(t), bytes.Repeat([]byte("x"), 126)), ErrControlTooLarge)
	require.NoError(t, c.Ping(testCtx(t), []byte("hb")))
	require.NoError(t, c.WriteFrame(testCtx(t), []byte("after ping"), false))
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, "ack after ping", string(data))
	// The pong was written before the ack, so ReadFrame consumed it first.
	assert.False(t, c.LastPong().IsZero(), "pong recorded")
	assert.False(t, c.LastRead().Before(c.LastPong()))
}

func TestPeerCloseCodesSurface(t *testing.T) {
	cases := []struct {
		code   StatusCode
		reason string
	}{
		{code: StatusNormalClosure, reason: "bye"},
		{code: StatusGoingAway, reason: "server shutting down"},
		{code: StatusInternalError, reason: "boom"},
		{code: StatusServiceRestart, reason: ""},
		{code: StatusTryAgainLater, reason: "later"},
		{code: 4000, reason: "private"},
	}
	for _, tc := range cases {
		t.Run(tc.code.String(), func(t *testing.T) {
			srv := newWSServer(t, func(c *Conn, _ *http.Request) {
				_ = c.Close(tc.code, tc.reason)
			})
			c := dialT(t, srv.wsURL())
			_, _, err := c.ReadFrame()
			var ce *CloseError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.code, ce.Code)
			assert.Equal(t, tc.reason, ce.Reason)
			assert.False(t, ce.Abnormal())
			assert.NotErrorIs(t, err, ErrClosed)
			assert.Contains(t, err.Error(), fmt.Sprint(int(tc.code)))

			// Terminal: the same error again, and writes report it too.
			_, _, err2 := c.ReadFrame()
			assert.Same(t, ce, errAsClose(t, err2))
			werr := c.WriteFrame(testCtx(t), []byte("x"), false)
			assert.Same(t, ce, errAsClose(t, werr))
			assert.Same(t, ce, errAsClose(t, c.Err()))
			assert.NoError(t, c.Close(StatusNormalClosure, ""))
		})
	}
}

func errAsClose(t *testing.T, err error) *CloseError {
	t.Helper()
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	return ce
}

func TestClientEchoesPeerClose(t *testing.T) {
	reply := make(chan []byte, 1)
	url := rawServer(t, func(nc net.Conn) {
		_ = writeServerFrame(nc, ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusCode(StatusServiceRestart), "restart"))
		h, p, err := readClientFrame(nc)
		if err != nil || h.OpCode != ws.OpClose {
			close(reply)
			return
		}
		reply <- p
	})
	c := dialT(t, url)
	_, _, err := c.ReadFrame()
	assert.Equal(t, StatusServiceRestart, errAsClose(t, err).Code)
	p, ok := <-reply
	require.True(t, ok, "client replied with a close frame")
	assert.Equal(t, StatusServiceRestart, closeFrameCode(p))
}

func TestEmptyCloseFrameIsNoStatus(t *testing.T) {
	c, mc := memClient(t, serverFrame(ws.OpClose, true, nil))
	_, _, err := c.ReadFrame()
	ce := errAsClose(t, err)
	assert.Equal(t, StatusNoStatus, ce.Code)
	// The reply is an empty close frame too (1005 must not be sent).
	h, p, err := readClientFrame(bytes.NewReader(mc.written()))
	require.NoError(t, err)
	assert.Equal(t, ws.OpClose, h.OpCode)
	assert.Empty(t, p)
}

func TestAbruptDropIsAbnormal(t *testing.T) {
	srv := newWSServer(t, func(c *Conn, _ *http.Request) {
		_ = c.WriteFrame(context.Background(), []byte("last words"), false)
		_ = c.CloseNow()
	})
	c := dialT(t, srv.wsURL())
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, "last words", string(data))
	_, _, err = c.ReadFrame()
	ce := errAsClose(t, err)
	assert.True(t, ce.Abnormal())
	assert.Equal(t, StatusAbnormal, ce.Code)
	assert.ErrorIs(t, err, io.EOF)
	assert.NotErrorIs(t, err, ErrClosed)
	assert.Contains(t, err.Error(), "1006")
}

func TestDropMidFrameIsAbnormal(t *testing.T) {
	frame := serverFrame(ws.OpText, true, bytes.Repeat([]byte("x"), 900))
	c, _ := memClient(t, frame[:500])
	_, _, err := c.ReadFrame()
	ce := errAsClose(t, err)
	assert.True(t, ce.Abnormal())
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestLocalCloseUnblocksReaderWithErrClosed(t *testing.T) {
	gotClose := make(chan error, 1)
	srv := newWSServer(t, func(c *Conn, _ *http.Request) {
		_, _, err := c.ReadFrame()
		gotClose <- err
	})
	c := dialT(t, srv.wsURL())

	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.ReadFrame()
		readErr <- err
	}()
	require.NoError(t, c.Close(StatusGoingAway, "client leaving"))
	require.NoError(t, c.Close(StatusNormalClosure, "again"), "idempotent")
	require.NoError(t, c.CloseNow(), "idempotent")

	err := <-readErr
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.ErrorIs(t, c.WriteFrame(testCtx(t), []byte("x"), false), ErrClosed)
	assert.ErrorIs(t, c.Ping(testCtx(t), nil), ErrClosed)
	_, _, err = c.ReadFrame()
	assert.ErrorIs(t, err, ErrClosed)

	serverErr := <-gotClose
	ce := errAsClose(t, serverErr)
	assert.Equal(t, StatusGoingAway, ce.Code)
	assert.Equal(t, "client leaving", ce.Reason)
}

func TestCloseNowDropsWithoutCloseFrame(t *testing.T) {
	gotClose := make(chan error, 1)
	srv := newWSServer(t, func(c *Conn, _ *http.Request) {
		_, _, err := c.ReadFrame()
		gotClose <- err
	})
	c := dialT(t, srv.wsURL())
	require.NoError(t, c.CloseNow())
	assert.ErrorIs(t, c.Err(), ErrClosed)
	ce := errAsClose(t, <-gotClose)
	assert.True(t, ce.Abnormal(), "server sees a dropped connection")
}

func TestCloseSendsSanitisedFrame(t *testing.T) {
	longReason := string(bytes.Repeat([]byte("é"), 100)) // 200 bytes
	cases := []struct {
		name       string
		code       StatusCode
		reason     string
		wantCode   StatusCode
		wantReason string
	}{
		{name: "normal", code: StatusNormalClosure, reason: "bye", wantCode: StatusNormalClosure, wantReason: "bye"},
		{name: "reserved 1006 sends empty", code: StatusAbnormal, reason: "x", wantCode: 0, wantReason: ""},
		{name: "no status sends empty", code: StatusNoStatus, reason: "", wantCode: 0, wantReason: ""},
		{name: "out of range sends empty", code: 999, reason: "x", wantCode: 0, wantReason: ""},
		{name: "long reason truncated at rune", code: StatusGoingAway, reason: longReason, wantCode: StatusGoingAway, wantReason: longReason[:122]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mc := memClient(t, nil)
			require.NoError(t, c.Close(tc.code, tc.reason))
			h, p, err := readClientFrame(bytes.NewReader(mc.written()))
			require.NoError(t, err)
			assert.Equal(t, ws.OpClose, h.OpCode)
			assert.Equal(t, tc.wantCode, closeFrameCode(p))
			if len(p) >= 2 {
				assert.Equal(t, tc.wantReason, string(p[2:]))
			}
			assert.LessOrEqual(t, len(p), 125)
		})
	}
}

func TestConcurrentWritersNeverInterleave(t *testing.T) {
	const writers, perWriter = 16, 150
	type report struct {
		count int
		err   error
	}
	done := make(chan report, 1)
	srv := newWSServer(t, func(c *Conn, _ *http.Request) {
		seen := map[string]bool{}
		for len(seen) < writers*perWriter {
			data, bin, err := c.ReadFrame()
			if err != nil {
				done <- report{len(seen), err}
				return
			}
			var g, i, n int
			if _, err := fmt.Sscanf(string(data), "g%d i%d n%d|", &g, &i, &n); err != nil {
				done <- report{len(seen), fmt.Errorf("corrupt frame header %.40q: %w", data, err)}
				return
			}
			if want := frameFor(g, i); !bytes.Equal(data, want) || bin != (i%2 == 1) {
				done <- report{len(seen), fmt.Errorf("frame g%d i%d corrupted or interleaved", g, i)}
				return
			}
			key := fmt.Sprintf("%d/%d", g, i)
			if seen[key] {
				done <- report{len(seen), fmt.Errorf("frame %s twice", key)}
				return
			}
			seen[key] = true
		}
		done <- report{count: len(seen)}
	})
	c := dialT(t, srv.wsURL(), WithWriteBufferSize(512))
	defer c.Close(StatusNormalClosure, "")

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if err := c.WriteFrame(context.Background(), frameFor(g, i), i%2 == 1); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, writers*perWriter, r.count)
}

// frameFor builds a self-describing payload whose size varies from a few
// bytes to several write buffers, so writes are split across flushes.
func frameFor(g, i int) []byte {
	n := (g*131 + i*977) % 3000
	head := fmt.Sprintf("g%d i%d n%d|", g, i, n)
	body := bytes.Repeat([]byte{byte('A' + (g+i)%26)}, n)
	return append([]byte(head), body...)
}

func TestWriteWithDoneContextLeavesConnUsable(t *testing.T) {
	srv := newWSServer(t, echo)
	c := dialT(t, srv.wsURL())
	defer c.Close(StatusNormalClosure, "")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, c.WriteFrame(ctx, []byte("never"), false), context.Canceled)
	assert.NoError(t, c.Err())

	require.NoError(t, c.WriteFrame(testCtx(t), []byte("still fine"), false))
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, "still fine", string(data))
}

func TestWaitForWriteLockHonoursContext(t *testing.T) {
	c, _ := memClient(t, nil)
	c.wlock <- struct{}{} // a writer holds the lock
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.WriteFrame(ctx, []byte("x"), false) }()
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	<-c.wlock
	assert.NoError(t, c.Err(), "giving up on the lock does not poison the connection")
	assert.NoError(t, c.WriteFrame(context.Background(), []byte("x"), false))
}

func TestFailedWritePoisonsConn(t *testing.T) {
	// A pipe whose other end never reads: the write blocks until its deadline.
	a, b := net.Pipe()
	defer b.Close()
	o := buildOptions([]Option{WithWriteTimeout(20 * time.Millisecond)})
	c := newConn(a, bufio.NewReader(a), true, o)

	err := c.WriteFrame(context.Background(), []byte("stuck"), false)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.NotErrorIs(t, err, ErrClosed)

	// The reader and later writers see the connection as lost.
	_, _, rerr := c.ReadFrame()
	ce := errAsClose(t, rerr)
	assert.True(t, ce.Abnormal())
	assert.ErrorIs(t, rerr, os.ErrDeadlineExceeded)
	assert.True(t, errors.Is(c.WriteFrame(context.Background(), []byte("x"), false), os.ErrDeadlineExceeded))
}

func TestWriteBoundedByContextDeadline(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := newConn(a, bufio.NewReader(a), true, buildOptions(nil)) // 10s write timeout
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := c.WriteFrame(ctx, []byte("stuck"), false)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
}

func TestPeerCloseCodeSurvivesFailedWrite(t *testing.T) {
	// The server sends 1001 and drops the socket at once. The client's next
	// writes fail (reset / broken pipe), yet the reader must still report the
	// server's close code, not a generic abnormal closure.
	serverDone := make(chan struct{})
	url := rawServer(t, func(nc net.Conn) {
		defer close(serverDone)
		_ = writeServerFrame(nc, ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusCode(StatusGoingAway), "bye"))
	})
	c := dialT(t, url)
	defer c.CloseNow()
	<-serverDone

	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		werr = c.WriteFrame(testCtx(t), []byte("into the void"), false)
		if werr == nil {
			time.Sleep(time.Millisecond) // let the peer's RST arrive
		}
	}
	require.Error(t, werr, "writing to a closed peer eventually fails")
	assert.NotErrorIs(t, werr, ErrClosed)
	assert.ErrorIs(t, c.WriteFrame(testCtx(t), []byte("x"), false), werr, "writes stay blocked")

	_, _, err := c.ReadFrame()
	ce := errAsClose(t, err)
	assert.Equal(t, StatusGoingAway, ce.Code)
	assert.Equal(t, "bye", ce.Reason)
}

func TestServerSeesCloseCodeWhileFlooding(t *testing.T) {
	// The server floods the client while the client closes with 1000 and
	// unread data in its socket (which makes its kernel send a reset). The
	// server's writer fails, but its reader must still see 1000.
	for range 5 {
		got := make(chan error, 1)
		flooding := make(chan struct{})
		var wg sync.WaitGroup
		srv := newWSServer(t, func(c *Conn, _ *http.Request) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := bytes.Repeat([]byte("x"), 900)
				close(flooding)
				for c.WriteFrame(context.Background(), p, false) == nil {
				}
			}()
			_, _, err := c.ReadFrame()
			got <- err
			wg.Wait()
		})
		c := dialT(t, srv.wsURL())
		<-flooding
		_, _, err := c.ReadFrame()
		require.NoError(t, err)
		require.NoError(t, c.Close(StatusNormalClosure, "bye"))
		ce := errAsClose(t, <-got)
		assert.Equal(t, StatusNormalClosure, ce.Code, "server saw %v", ce)
		assert.Equal(t, "bye", ce.Reason)
	}
}

func TestCloseRacingWritersAndReader(t *testing.T) {
	srv := newWSServer(t, echo)
	c := dialT(t, srv.wsURL())
	var wg sync.WaitGroup
	errs := make(chan error, 9)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if err := c.WriteFrame(context.Background(), []byte("spam"), false); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if _, _, err := c.ReadFrame(); err != nil {
				errs <- err
				return
			}
		}
	}()
	_, _, _ = c.NetConn(), c.LastRead(), c.LastPong()
	require.NoError(t, c.Close(StatusNormalClosure, ""))
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, ErrClosed)
	}
}
