package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "SUPER-SECRET-KEY-123"

func TestTLSVerifiedByDefault(t *testing.T) {
	srv := startWSServer(t, true, echo)
	_, err := Dial(testCtx(t), srv.wsURL()+"/socket?apikey="+secret)
	require.Error(t, err)
	var de *DialError
	require.ErrorAs(t, err, &de)
	var verr *tls.CertificateVerificationError
	assert.ErrorAs(t, err, &verr)
	assert.NotContains(t, err.Error(), secret)
}

func TestTLSWithRootCAs(t *testing.T) {
	srv := startWSServer(t, true, echo)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := dialT(t, srv.wsURL(), WithTLSConfig(&tls.Config{RootCAs: pool}))
	defer c.Close(StatusNormalClosure, "")
	_, isTLS := c.NetConn().(*tls.Conn)
	assert.True(t, isTLS)
	require.NoError(t, c.WriteFrame(testCtx(t), []byte("over tls"), false))
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, "over tls", string(data))
}

func TestTLSInsecureSkipVerify(t *testing.T) {
	srv := startWSServer(t, true, echo)
	c := dialT(t, srv.wsURL(), WithTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	defer c.Close(StatusNormalClosure, "")
	require.NoError(t, c.WriteFrame(testCtx(t), []byte("x"), true))
	data, bin, err := c.ReadFrame()
	require.NoError(t, err)
	assert.True(t, bin)
	assert.Equal(t, "x", string(data))
}

func TestHeadersAndQueryReachServer(t *testing.T) {
	srv := newWSServer(t, echo, WithHeader("X-Server", "yes"))
	c, err := Dial(testCtx(t), srv.wsURL()+"/realtime/v1/websocket?log_level=info#frag",
		WithHeader("x-api-key", "k1"),
		WithHeader("X-Multi", "a"),
		WithHeader("x-multi", "b"),
		WithQuery("apikey", "anon key&="),
		WithQuery("vsn", "2.0.0"),
	)
	require.NoError(t, err)
	defer c.Close(StatusNormalClosure, "")
	r := <-srv.reqs
	assert.Equal(t, "/realtime/v1/websocket", r.URL.Path)
	assert.Equal(t, "log_level=info&apikey=anon+key%26%3D&vsn=2.0.0", r.URL.RawQuery, "appended in order, escaped")
	assert.Equal(t, "anon key&=", r.URL.Query().Get("apikey"))
	assert.Equal(t, "k1", r.Header.Get("X-Api-Key"))
	assert.Equal(t, []string{"a", "b"}, r.Header.Values("X-Multi"))
}

func TestHostHeaderOverride(t *testing.T) {
	srv := newWSServer(t, echo)
	c := dialT(t, srv.wsURL(), WithHeader("Host", "project.supabase.co"))
	defer c.CloseNow()
	r := <-srv.reqs
	assert.Equal(t, "project.supabase.co", r.Host)
}

func TestInvalidOptions(t *testing.T) {
	cases := []struct {
		name string
		opt  Option
	}{
		{name: "header name with space", opt: WithHeader("bad key", "v")},
		{name: "header value with newline", opt: WithHeader("X-Key", "v\r\nInjected: "+secret)},
		{name: "handshake header", opt: WithHeader("Sec-WebSocket-Key", "x")},
		{name: "upgrade header", opt: WithHeader("upgrade", "x")},
		{name: "empty query key", opt: WithQuery("", "v")},
		{name: "zero max frame", opt: WithMaxFrameSize(0)},
		{name: "negative write timeout", opt: WithWriteTimeout(-time.Second)},
		{name: "tiny read buffer", opt: WithReadBufferSize(10)},
		{name: "tiny write buffer", opt: WithWriteBufferSize(10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Dial(testCtx(t), "ws://127.0.0.1:1/socket?apikey="+secret, tc.opt)
			require.ErrorIs(t, err, ErrInvalidOption)
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestBadURLsAreRedacted(t *testing.T) {
	cases := []struct {
		name string
		url  string
	}{
		{name: "http scheme", url: "http://127.0.0.1:1/socket?apikey=" + secret},
		{name: "no host", url: "ws:///socket?apikey=" + secret},
		{name: "unparsable", url: "ws://127.0.0.1:bad port/?apikey=" + secret},
		{name: "control character", url: "ws://127.0.0.1/\x7f?apikey=" + secret},
		{name: "user info", url: "wss://user:" + secret + "@/?apikey=" + secret},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Dial(testCtx(t), tc.url)
			require.Error(t, err)
			var de *DialError
			require.ErrorAs(t, err, &de)
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestConnectionRefusedIsRedacted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, err = Dial(testCtx(t), "ws://"+addr+"/realtime/v1/websocket?apikey="+secret+"&vsn=2.0.0",
		WithHeader("x-api-key", secret), WithQuery("access_token", secret))
	require.Error(t, err)
	var de *DialError
	require.ErrorAs(t, err, &de)
	var oe *net.OpError
	assert.ErrorAs(t, err, &oe)
	assert.NotContains(t, err.Error(), secret)
	assert.Contains(t, err.Error(), "ws://"+addr+"/realtime/v1/websocket")
	assert.NotContains(t, err.Error(), "vsn")
}

// silentServer accepts TCP connections and never answers, so a handshake
// against it can only end by the dialer's context.
func silentServer(t *testing.T) string {
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
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		for _, nc := range conns {
			_ = nc.Close()
		}
		mu.Unlock()
	})
	return "ws://" + ln.Addr().String() + "/socket?apikey=" + secret
}

func TestDialHonoursContextDeadline(t *testing.T) {
	url := silentServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, url)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var de *DialError
	require.ErrorAs(t, err, &de)
	assert.NotContains(t, err.Error(), secret)
}

func TestDialHonoursContextCancel(t *testing.T) {
	url := silentServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := Dial(ctx, url)
		errc <- err
	}()
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
}

func TestDialWithExpiredContext(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := Dial(ctx, "ws://127.0.0.1:1/?apikey="+secret)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestHandshakeErrorCarriesStatusAndBody(t *testing.T) {
	bigBody := strings.Repeat("z", MaxHandshakeBody+100)
	cases := []struct {
		name      string
		status    int
		body      string
		wantBody  string
		wantMsg   string
		temporary bool
	}{
		{name: "401", status: http.StatusUnauthorized, body: `{"error":"Unauthorized: JWT expired"}`, wantBody: `{"error":"Unauthorized: JWT expired"}`, wantMsg: "Unauthorized: JWT expired"},
		{name: "403", status: http.StatusForbidden, body: `{"error":"Tenant suspended"}`, wantBody: `{"error":"Tenant suspended"}`, wantMsg: "Tenant suspended"},
		{name: "429", status: http.StatusTooManyRequests, body: `{"error":"Too many connections"}`, wantBody: `{"error":"Too many connections"}`, wantMsg: "Too many connections", temporary: true},
		{name: "message field", status: http.StatusBadRequest, body: `{"message":"bad\nthing"}`, wantBody: `{"message":"bad\nthing"}`, wantMsg: "badthing"},
		{name: "capped body", status: http.StatusInternalServerError, body: bigBody, wantBody: bigBody[:MaxHandshakeBody], temporary: true},
		{name: "empty body", status: http.StatusNotFound, body: "", wantBody: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Reason", "test")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			_, err := Dial(testCtx(t), "ws"+strings.TrimPrefix(srv, "http")+"/realtime/v1/websocket?apikey="+secret,
				WithHeader("x-api-key", secret))
			var he *HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.status, he.StatusCode)
			assert.Equal(t, tc.wantBody, string(he.Body))
			assert.Equal(t, tc.wantMsg, he.Message)
			assert.Equal(t, tc.temporary, he.Temporary())
			if tc.wantMsg != "" {
				assert.Contains(t, err.Error(), tc.wantMsg, "the server's explanation is in the text")
			}
			assert.Equal(t, "application/json", he.Header.Get("Content-Type"))
			assert.Equal(t, "test", he.Header.Get("X-Reason"))
			msg := err.Error()
			assert.NotContains(t, msg, secret)
			assert.NotContains(t, msg, "apikey")
			assert.Contains(t, msg, "/realtime/v1/websocket")
			assert.Contains(t, msg, http.StatusText(tc.status))
		})
	}
}

func newHTTPServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestUpgradeRejectsPlainRequests(t *testing.T) {
	upgradeErr := make(chan error, 1)
	srv := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, err := Upgrade(w, r)
		upgradeErr <- err
	})
	resp, err := http.Get(srv + "/socket")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Error(t, <-upgradeErr)
}

func TestUpgradeWithInvalidOption(t *testing.T) {
	upgradeErr := make(chan error, 1)
	srv := newHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, err := Upgrade(w, r, WithMaxFrameSize(-1))
		upgradeErr <- err
	})
	_, err := Dial(testCtx(t), "ws"+strings.TrimPrefix(srv, "http"))
	var he *HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusInternalServerError, he.StatusCode)
	assert.ErrorIs(t, <-upgradeErr, ErrInvalidOption)
}

func TestUpgradeResponseHeaderAndServerLimit(t *testing.T) {
	got := make(chan error, 1)
	srv := newWSServer(t, func(c *Conn, _ *http.Request) {
		_, _, err := c.ReadFrame()
		got <- err
	}, WithMaxFrameSize(4), WithHeader("X-Server", "yes"))
	c := dialT(t, srv.wsURL())
	defer c.CloseNow()
	require.NoError(t, c.WriteFrame(testCtx(t), []byte("too long"), false))
	assert.ErrorIs(t, <-got, ErrFrameTooLarge)
	_, _, err := c.ReadFrame()
	assert.Equal(t, StatusMessageTooBig, errAsClose(t, err).Code)
}

func TestErrorsAreDistinguishable(t *testing.T) {
	ce := &CloseError{Code: StatusGoingAway, Reason: "bye"}
	ab := &CloseError{Code: StatusAbnormal, Err: errors.New("EOF")}
	assert.False(t, ce.Abnormal())
	assert.True(t, ab.Abnormal())
	assert.Equal(t, `transport: closed by peer: 1001 (going away) "bye"`, ce.Error())
	assert.Contains(t, ab.Error(), "1006")
	assert.ErrorIs(t, &FrameTooLargeError{Size: 2, Limit: 1}, ErrFrameTooLarge)
	assert.NotErrorIs(t, ce, ErrClosed)
	assert.ErrorIs(t, ErrClosed, net.ErrClosed)
	assert.Equal(t, "4001 (private)", StatusCode(4001).String())
	assert.Equal(t, "1012 (service restart)", StatusServiceRestart.String())
	assert.Equal(t, "42", StatusCode(42).String())
}

// acceptKey computes Sec-WebSocket-Accept for a client key (RFC 6455 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

func TestFramesSentWithHandshakeResponseAreRead(t *testing.T) {
	// The server's 101 response and its first frames arrive in one write, so
	// the dialer has them buffered already when the handshake completes.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(testIOTimeout))
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			return
		}
		var b bytes.Buffer
		b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
		b.WriteString("Sec-WebSocket-Accept: " + acceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
		b.Write(serverFrame(ws.OpText, true, []byte("early 1")))
		b.Write(serverFrame(ws.OpText, true, []byte("early 2")))
		_, _ = nc.Write(b.Bytes())
		_, _ = io.Copy(io.Discard, nc)
	}()
	c := dialT(t, "ws://"+ln.Addr().String()+"/")
	for _, want := range []string{"early 1", "early 2"} {
		data, _, err := c.ReadFrame()
		require.NoError(t, err)
		assert.Equal(t, want, string(data))
	}
	require.NoError(t, c.CloseNow())
	<-done
}

func TestUpgradeReadsFramesSentWithRequest(t *testing.T) {
	// A client that pipelines its first frame behind the upgrade request:
	// net/http has it buffered when Upgrade hijacks the connection.
	srv := newWSServer(t, echo)
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.SetDeadline(time.Now().Add(testIOTimeout)))
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	var b bytes.Buffer
	b.WriteString("GET /socket HTTP/1.1\r\nHost: " + srv.Listener.Addr().String() + "\r\n")
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
	b.WriteString("Sec-WebSocket-Key: " + key + "\r\n\r\n")
	require.NoError(t, ws.WriteFrame(&b, ws.MaskFrame(ws.NewTextFrame([]byte("pipelined")))))
	_, err = nc.Write(b.Bytes())
	require.NoError(t, err)

	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	assert.Equal(t, acceptKey(key), resp.Header.Get("Sec-WebSocket-Accept"))
	h, err := ws.ReadHeader(br)
	require.NoError(t, err)
	assert.False(t, h.Masked)
	p := make([]byte, h.Length)
	_, err = io.ReadFull(br, p)
	require.NoError(t, err)
	assert.Equal(t, "pipelined", string(p))
}
