package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testIOTimeout bounds every blocking read in the tests, so a broken test
// fails instead of hanging.
const testIOTimeout = 10 * time.Second

// dialT dials url and bounds the connection's reads by testIOTimeout.
func dialT(t *testing.T, url string, opts ...Option) *Conn {
	t.Helper()
	c, err := Dial(testCtx(t), url, opts...)
	require.NoError(t, err)
	require.NoError(t, c.NetConn().SetReadDeadline(time.Now().Add(testIOTimeout)))
	return c
}

// testCtx returns a context that bounds a test step, so a bug hangs for
// seconds instead of the whole test binary's timeout.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testIOTimeout)
	t.Cleanup(cancel)
	return ctx
}

// wsServer is an httptest server upgrading every request with Upgrade and
// running handle on the server-side Conn. Cleanup closes the server, every
// server Conn still open, and waits for the handlers.
type wsServer struct {
	*httptest.Server
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []*Conn
	done  bool
	reqs  chan *http.Request
}

func newWSServer(t *testing.T, handle func(c *Conn, r *http.Request), opts ...Option) *wsServer {
	t.Helper()
	return startWSServer(t, false, handle, opts...)
}

func startWSServer(t *testing.T, useTLS bool, handle func(c *Conn, r *http.Request), opts ...Option) *wsServer {
	t.Helper()
	s := &wsServer{reqs: make(chan *http.Request, 16)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.wg.Add(1)
		defer s.wg.Done()
		c, err := Upgrade(w, r, opts...)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		done := s.done
		s.mu.Unlock()
		if done {
			_ = c.CloseNow()
			return
		}
		// A broken test fails on this deadline instead of hanging.
		_ = c.NetConn().SetReadDeadline(time.Now().Add(testIOTimeout))
		select {
		case s.reqs <- r:
		default:
		}
		handle(c, r)
	})
	if useTLS {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		s.Server.Close()
		s.mu.Lock()
		s.done = true
		for _, c := range s.conns {
			_ = c.CloseNow()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *wsServer) wsURL() string {
	u := s.Server.URL
	if strings.HasPrefix(u, "https://") {
		return "wss://" + strings.TrimPrefix(u, "https://")
	}
	return "ws://" + strings.TrimPrefix(u, "http://")
}

// echo is a handler that writes back every message until the connection
// ends.
func echo(c *Conn, _ *http.Request) {
	for {
		data, bin, err := c.ReadFrame()
		if err != nil {
			return
		}
		if err := c.WriteFrame(context.Background(), data, bin); err != nil {
			return
		}
	}
}

// rawServer accepts TCP connections on loopback, performs a zero-copy
// gobwas/ws upgrade and runs handle with the raw socket, so tests can write
// arbitrary (also malformed) frames.
func rawServer(t *testing.T, handle func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(testIOTimeout))
				if _, err := ws.Upgrade(nc); err != nil {
					return
				}
				handle(nc)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, nc := range conns {
			_ = nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/socket"
}

// readClientFrame reads one frame sent by a client from a raw socket,
// checks it is masked as RFC 6455 requires and unmasks it.
func readClientFrame(r io.Reader) (ws.Header, []byte, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return h, nil, err
	}
	if !h.Masked {
		return h, nil, errors.New("client frame not masked")
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(r, p); err != nil {
		return h, nil, err
	}
	ws.Cipher(p, h.Mask, 0)
	return h, p, nil
}

// writeServerFrame writes one unmasked frame to a raw socket.
func writeServerFrame(w io.Writer, op ws.OpCode, fin bool, p []byte) error {
	return ws.WriteFrame(w, ws.NewFrame(op, fin, p))
}

// serverFrame encodes one unmasked frame.
func serverFrame(op ws.OpCode, fin bool, p []byte) []byte {
	var b bytes.Buffer
	if err := writeServerFrame(&b, op, fin, p); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// memConn is a net.Conn reading from an io.Reader and recording writes, for
// tests and benchmarks that need no network.
type memConn struct {
	r        io.Reader
	writeErr error // if set, every Write fails with it
	mu       sync.Mutex
	out      bytes.Buffer
	writes   int // calls to Write that reached out
	closed   chan struct{}
	once     sync.Once
}

func newMemConn(r io.Reader) *memConn { return &memConn{r: r, closed: make(chan struct{})} }

func (m *memConn) Read(p []byte) (int, error) {
	select {
	case <-m.closed:
		return 0, net.ErrClosed
	default:
	}
	return m.r.Read(p)
}

func (m *memConn) Write(p []byte) (int, error) {
	select {
	case <-m.closed:
		return 0, net.ErrClosed
	default:
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.writeErr != nil {
		return 0, m.writeErr
	}
	m.writes++
	return m.out.Write(p)
}

func (m *memConn) written() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.out.Bytes())
}

func (m *memConn) Close() error {
	err := net.ErrClosed
	m.once.Do(func() { close(m.closed); err = nil })
	return err
}

func (m *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (m *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }
func (m *memConn) SetDeadline(t time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(t time.Time) error { return nil }

// memClient returns a client-side Conn reading the given server bytes.
func memClient(t testing.TB, in []byte, opts ...Option) (*Conn, *memConn) {
	t.Helper()
	mc := newMemConn(bytes.NewReader(in))
	o := buildOptions(opts)
	require.NoError(t, o.err)
	return newConn(mc, bufio.NewReaderSize(mc, o.readBufferSize), true, o), mc
}

// closeFrameCode decodes the code of a close frame payload (0 if empty).
func closeFrameCode(p []byte) StatusCode {
	if len(p) < 2 {
		return 0
	}
	return StatusCode(uint16(p[0])<<8 | uint16(p[1]))
}

func newReaderSize(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, DefaultReadBufferSize) }
