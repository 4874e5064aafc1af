package transport

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// benchPayload is a ~900-byte Realtime postgres_changes message, the typical
// frame this transport carries.
var benchPayload = func() []byte {
	p := []byte(`{"event":"postgres_changes","payload":{"data":{"columns":[{"name":"id","type":"int8"},` +
		`{"name":"title","type":"text"},{"name":"body","type":"text"},{"name":"inserted_at","type":"timestamptz"}],` +
		`"commit_timestamp":"2026-01-01T00:00:00.000Z","errors":null,"record":{"id":42,"title":"hello",` +
		`"body":"` + strings.Repeat("lorem ipsum ", 40) + `","inserted_at":"2026-01-01T00:00:00.000Z"},` +
		`"schema":"public","table":"messages","type":"INSERT"},"ids":[12345678]},"ref":null,"topic":"realtime:public:messages"}`)
	return p[:900]
}()

// loopReader serves the same block of bytes forever.
type loopReader struct {
	block []byte
	off   int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.block[l.off:])
	l.off = (l.off + n) % len(l.block)
	return n, nil
}

// framesBlock encodes count unmasked text frames of payload back to back.
func framesBlock(payload []byte, count int) []byte {
	var b bytes.Buffer
	for range count {
		_ = writeServerFrame(&b, ws.OpText, true, payload)
	}
	return b.Bytes()
}

// BenchmarkReadFrame measures Conn.ReadFrame on 900-byte text frames from
// memory, i.e. the transport's own cost without system calls.
func BenchmarkReadFrame(b *testing.B) {
	mc := newMemConn(&loopReader{block: framesBlock(benchPayload, 64)})
	c := newConn(mc, bufio.NewReaderSize(mc, DefaultReadBufferSize), true, buildOptions(nil))
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		data, _, err := c.ReadFrame()
		if err != nil || len(data) != len(benchPayload) {
			b.Fatal(err, len(data))
		}
	}
}

// BenchmarkWsutilReadServerData is the baseline: gobwas's high-level reader
// on the same bytes and the same buffered reader.
func BenchmarkWsutilReadServerData(b *testing.B) {
	br := bufio.NewReaderSize(&loopReader{block: framesBlock(benchPayload, 64)}, DefaultReadBufferSize)
	rw := struct {
		io.Reader
		io.Writer
	}{br, io.Discard}
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		data, _, err := wsutil.ReadServerData(rw)
		if err != nil || len(data) != len(benchPayload) {
			b.Fatal(err, len(data))
		}
	}
}

// BenchmarkBareHeaderReadFull is the floor: ws.ReadHeader, one exactly sized
// allocation and io.ReadFull, with no checks at all.
func BenchmarkBareHeaderReadFull(b *testing.B) {
	br := bufio.NewReaderSize(&loopReader{block: framesBlock(benchPayload, 64)}, DefaultReadBufferSize)
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		h, err := ws.ReadHeader(br)
		if err != nil {
			b.Fatal(err)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			b.Fatal(err)
		}
	}
}

// tcpFrameSource starts a loopback server that, once the client connects,
// writes pre-encoded 900-byte text frames until the connection closes. It
// returns the URL and a stop function.
func tcpFrameSource(b *testing.B) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	block := framesBlock(benchPayload, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		if _, err := ws.Upgrade(nc); err != nil {
			return
		}
		for {
			if _, err := nc.Write(block); err != nil {
				return
			}
		}
	}()
	return "ws://" + ln.Addr().String() + "/", func() { _ = ln.Close(); wg.Wait() }
}

// BenchmarkReadFrameTCP reads 900-byte frames over loopback TCP with Conn.
func BenchmarkReadFrameTCP(b *testing.B) {
	url, stop := tcpFrameSource(b)
	defer stop()
	c, err := Dial(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWsutilReadServerDataTCP is the loopback TCP baseline with gobwas's
// wsutil reader on a buffered reader of the same size.
func BenchmarkWsutilReadServerDataTCP(b *testing.B) {
	url, stop := tcpFrameSource(b)
	defer stop()
	nc, br, _, err := ws.Dial(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	if br == nil {
		br = bufio.NewReaderSize(nc, DefaultReadBufferSize)
	}
	rw := struct {
		io.Reader
		io.Writer
	}{br, nc}
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := wsutil.ReadServerData(rw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteFrame measures a client (masked) 900-byte write to memory.
func BenchmarkWriteFrame(b *testing.B) {
	c := newConn(discardConn{}, nil, true, buildOptions(nil))
	ctx := context.Background()
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteFrame(ctx, benchPayload, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWsutilWriteClientText is the write baseline.
func BenchmarkWsutilWriteClientText(b *testing.B) {
	bw := bufio.NewWriterSize(io.Discard, DefaultWriteBufferSize)
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		if err := wsutil.WriteClientText(bw, benchPayload); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}

type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
