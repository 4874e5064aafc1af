package transport

import (
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFrameSizeLimit(t *testing.T) {
	const limit = 1000
	type outcome struct {
		closeCode StatusCode
		err       error
	}
	res := make(chan outcome, 1)
	url := rawServer(t, func(nc net.Conn) {
		if err := writeServerFrame(nc, ws.OpText, true, bytes.Repeat([]byte("a"), limit)); err != nil {
			res <- outcome{err: err}
			return
		}
		if err := writeServerFrame(nc, ws.OpText, true, bytes.Repeat([]byte("b"), limit+1)); err != nil {
			res <- outcome{err: err}
			return
		}
		h, p, err := readClientFrame(nc)
		if err == nil && h.OpCode != ws.OpClose {
			err = assert.AnError
		}
		res <- outcome{closeCode: closeFrameCode(p), err: err}
	})
	c := dialT(t, url, WithMaxFrameSize(limit))
	defer c.CloseNow()

	data, _, err := c.ReadFrame()
	require.NoError(t, err, "a frame exactly at the limit is accepted")
	assert.Len(t, data, limit)

	_, _, err = c.ReadFrame()
	require.ErrorIs(t, err, ErrFrameTooLarge)
	var fe *FrameTooLargeError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, int64(limit+1), fe.Size)
	assert.Equal(t, int64(limit), fe.Limit)

	o := <-res
	require.NoError(t, o.err)
	assert.Equal(t, StatusMessageTooBig, o.closeCode, "connection failed with 1009")
	_, _, err = c.ReadFrame()
	assert.ErrorIs(t, err, ErrFrameTooLarge, "terminal")
}

func TestDefaultFrameSizeLimit(t *testing.T) {
	hdr := func(n int64) []byte {
		var b bytes.Buffer
		require.NoError(t, ws.WriteHeader(&b, ws.Header{Fin: true, OpCode: ws.OpBinary, Length: n}))
		return b.Bytes()
	}
	// Just under: header + payload read fine.
	in := append(hdr(DefaultMaxFrameSize), make([]byte, DefaultMaxFrameSize)...)
	c, _ := memClient(t, in)
	data, bin, err := c.ReadFrame()
	require.NoError(t, err)
	assert.True(t, bin)
	assert.Len(t, data, DefaultMaxFrameSize)

	// Just over: rejected from the header alone.
	c, _ = memClient(t, hdr(DefaultMaxFrameSize+1))
	_, _, err = c.ReadFrame()
	var fe *FrameTooLargeError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, int64(DefaultMaxFrameSize+1), fe.Size)
	assert.Equal(t, int64(DefaultMaxFrameSize), fe.Limit)
}

// allocatedDuring returns how many bytes f allocated (approximately: other
// goroutines are idle in these tests).
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestOversizeFrameIsNotAllocated(t *testing.T) {
	var in bytes.Buffer
	require.NoError(t, ws.WriteHeader(&in, ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 40}))
	c, _ := memClient(t, in.Bytes())
	var err error
	alloc := allocatedDuring(func() { _, _, err = c.ReadFrame() })
	require.ErrorIs(t, err, ErrFrameTooLarge)
	assert.Less(t, alloc, uint64(64<<10), "rejecting a 1 TiB frame header allocates almost nothing")

	// A declared length near 2^63 must not overflow the size check.
	in.Reset()
	require.NoError(t, ws.WriteHeader(&in, ws.Header{Fin: true, OpCode: ws.OpText, Length: 1<<63 - 1}))
	c, _ = memClient(t, in.Bytes())
	_, _, err = c.ReadFrame()
	var fe *FrameTooLargeError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, int64(1<<63-1), fe.Size)
}

func TestLyingLengthDoesNotAllocateIt(t *testing.T) {
	// A peer announces 4 MB (under the limit) and sends 10 bytes: memory
	// grows with what arrives, not with what was announced.
	var in bytes.Buffer
	require.NoError(t, ws.WriteHeader(&in, ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 4 << 20}))
	in.WriteString("0123456789")
	c, _ := memClient(t, in.Bytes())
	var err error
	alloc := allocatedDuring(func() { _, _, err = c.ReadFrame() })
	ce := errAsClose(t, err)
	assert.True(t, ce.Abnormal())
	assert.Less(t, alloc, uint64(512<<10))
}

func TestLargeFrameGrowsToExactPayload(t *testing.T) {
	payload := make([]byte, 3*preallocLimit+17)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	c, _ := memClient(t, serverFrame(ws.OpBinary, true, payload))
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, payload, data)
	assert.Equal(t, len(payload), cap(data), "no slack kept for a single frame")
}

func TestContinuationFramesAreAssembled(t *testing.T) {
	pong := make(chan string, 1)
	url := rawServer(t, func(nc net.Conn) {
		frames := [][]byte{
			serverFrame(ws.OpText, false, []byte("hel")),
			serverFrame(ws.OpPing, true, []byte("mid")), // control frames may interleave
			serverFrame(ws.OpContinuation, false, []byte("lo ")),
			serverFrame(ws.OpContinuation, true, []byte("world")),
			serverFrame(ws.OpBinary, false, []byte{1, 2}),
			serverFrame(ws.OpContinuation, false, nil),
			serverFrame(ws.OpContinuation, true, []byte{3}),
		}
		for _, f := range frames {
			if _, err := nc.Write(f); err != nil {
				return
			}
		}
		h, p, err := readClientFrame(nc)
		if err == nil && h.OpCode == ws.OpPong {
			pong <- string(p)
		}
	})
	c := dialT(t, url)
	defer c.CloseNow()

	data, bin, err := c.ReadFrame()
	require.NoError(t, err)
	assert.False(t, bin)
	assert.Equal(t, "hello world", string(data))
	data, bin, err = c.ReadFrame()
	require.NoError(t, err)
	assert.True(t, bin)
	assert.Equal(t, []byte{1, 2, 3}, data)
	assert.Equal(t, "mid", <-pong)
}

func TestManySmallFragments(t *testing.T) {
	var in bytes.Buffer
	const n = 5000
	in.Write(serverFrame(ws.OpText, false, []byte("x")))
	for range n - 2 {
		in.Write(serverFrame(ws.OpContinuation, false, []byte("x")))
	}
	in.Write(serverFrame(ws.OpContinuation, true, []byte("x")))
	c, _ := memClient(t, in.Bytes())
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, bytes.Repeat([]byte("x"), n), data)
}

func TestFragmentedMessageSizeLimit(t *testing.T) {
	in := append(serverFrame(ws.OpText, false, []byte("123456")), serverFrame(ws.OpContinuation, true, []byte("789012"))...)
	c, mc := memClient(t, in, WithMaxFrameSize(10))
	_, _, err := c.ReadFrame()
	var fe *FrameTooLargeError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, int64(12), fe.Size, "running total of the message")
	h, p, err := readClientFrame(bytes.NewReader(mc.written()))
	require.NoError(t, err)
	assert.Equal(t, ws.OpClose, h.OpCode)
	assert.Equal(t, StatusMessageTooBig, closeFrameCode(p))
}

func TestProtocolViolations(t *testing.T) {
	masked := func() []byte {
		var b bytes.Buffer
		f := ws.MaskFrameWith(ws.NewTextFrame([]byte("hi")), [4]byte{1, 2, 3, 4})
		require.NoError(t, ws.WriteFrame(&b, f))
		return b.Bytes()
	}
	rsv := func() []byte {
		var b bytes.Buffer
		f := ws.NewTextFrame([]byte("hi"))
		f.Header.Rsv = ws.Rsv(true, false, false)
		require.NoError(t, ws.WriteFrame(&b, f))
		return b.Bytes()
	}
	cases := []struct {
		name string
		in   []byte
	}{
		{name: "masked server frame", in: masked()},
		{name: "continuation without start", in: serverFrame(ws.OpContinuation, true, []byte("x"))},
		{name: "new message inside fragmented one", in: append(serverFrame(ws.OpText, false, []byte("a")), serverFrame(ws.OpText, true, []byte("b"))...)},
		{name: "reserved op code", in: serverFrame(ws.OpCode(0x3), true, nil)},
		{name: "fragmented control frame", in: serverFrame(ws.OpPing, false, nil)},
		{name: "control frame over 125 bytes", in: serverFrame(ws.OpPing, true, make([]byte, 126))},
		{name: "rsv bits without extension", in: rsv()},
		{name: "one byte close payload", in: serverFrame(ws.OpClose, true, []byte{3})},
		{name: "close code 1006 on the wire", in: serverFrame(ws.OpClose, true, ws.NewCloseFrameBody(1006, ""))},
		{name: "close code below 1000", in: serverFrame(ws.OpClose, true, ws.NewCloseFrameBody(999, ""))},
		{name: "64-bit length with MSB set", in: []byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mc := memClient(t, tc.in)
			_, _, err := c.ReadFrame()
			require.ErrorIs(t, err, ErrProtocol)
			h, p, rerr := readClientFrame(bytes.NewReader(mc.written()))
			require.NoError(t, rerr)
			assert.Equal(t, ws.OpClose, h.OpCode)
			assert.Equal(t, StatusProtocolError, closeFrameCode(p))
		})
	}
}

func TestServerSideUnmasksAndRequiresMask(t *testing.T) {
	// Upgrade-side Conn: masked client frames are unmasked, unmasked ones are
	// a protocol violation.
	var in bytes.Buffer
	f := ws.MaskFrameWith(ws.NewTextFrame([]byte("masked hello")), [4]byte{9, 8, 7, 6})
	require.NoError(t, ws.WriteFrame(&in, f))
	in.Write(serverFrame(ws.OpText, true, []byte("unmasked")))
	mc := newMemConn(bytes.NewReader(in.Bytes()))
	c := newConn(mc, newReaderSize(mc), false, buildOptions(nil))
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, "masked hello", string(data))
	_, _, err = c.ReadFrame()
	assert.ErrorIs(t, err, ErrProtocol)
}

func TestServerSideWritesUnmasked(t *testing.T) {
	mc := newMemConn(bytes.NewReader(nil))
	c := newConn(mc, newReaderSize(mc), false, buildOptions(nil))
	require.NoError(t, c.WriteFrame(testCtx(t), []byte("plain"), true))
	h, err := ws.ReadHeader(bytes.NewReader(mc.written()))
	require.NoError(t, err)
	assert.False(t, h.Masked)
	assert.Equal(t, ws.OpBinary, h.OpCode)
	assert.True(t, bytes.HasSuffix(mc.written(), []byte("plain")))
}

func TestLengthEncodings(t *testing.T) {
	// 7-bit, 16-bit and 64-bit payload lengths all decode.
	for _, n := range []int{125, 126, 65535, 65536} {
		var b bytes.Buffer
		b.WriteByte(0x82)
		switch {
		case n < 126:
			b.WriteByte(byte(n))
		case n <= 65535:
			b.WriteByte(126)
			_ = binary.Write(&b, binary.BigEndian, uint16(n))
		default:
			b.WriteByte(127)
			_ = binary.Write(&b, binary.BigEndian, uint64(n))
		}
		b.Write(bytes.Repeat([]byte{7}, n))
		c, _ := memClient(t, b.Bytes())
		data, bin, err := c.ReadFrame()
		require.NoError(t, err, n)
		assert.True(t, bin)
		assert.Len(t, data, n)
	}
}

func TestPongWriteTimeoutEndsConn(t *testing.T) {
	in := append(serverFrame(ws.OpPing, true, []byte("p")), serverFrame(ws.OpText, true, []byte("never delivered"))...)
	c, mc := memClient(t, in)
	mc.writeErr = &net.OpError{Op: "write", Net: "tcp", Err: os.ErrDeadlineExceeded}
	_, _, err := c.ReadFrame()
	ce := errAsClose(t, err)
	assert.True(t, ce.Abnormal())
	assert.ErrorIs(t, err, errPongWrite)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
}

func TestPongWriteResetKeepsReading(t *testing.T) {
	in := append(serverFrame(ws.OpPing, true, []byte("p")), serverFrame(ws.OpText, true, []byte("sent before leaving"))...)
	in = append(in, serverFrame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusCode(StatusGoingAway), "gone"))...)
	c, mc := memClient(t, in)
	mc.writeErr = &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, "sent before leaving", string(data))
	assert.ErrorIs(t, c.WriteFrame(testCtx(t), []byte("x"), false), syscall.ECONNRESET, "writes blocked after the failed pong")
	_, _, err = c.ReadFrame()
	ce := errAsClose(t, err)
	assert.Equal(t, StatusGoingAway, ce.Code)
	assert.Equal(t, "gone", ce.Reason)
}

func TestErrorMessages(t *testing.T) {
	assert.Equal(t, "transport: incoming frame too large: 1001 bytes, limit 1000",
		(&FrameTooLargeError{Size: 1001, Limit: 1000}).Error())
	c, _ := memClient(t, serverFrame(ws.OpContinuation, true, nil))
	_, _, err := c.ReadFrame()
	assert.Contains(t, err.Error(), "protocol violation")
	assert.Contains(t, err.Error(), "continuation")
}
