package transport

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// selfSigned generates a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "rxrealtime test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

// tlsPipe returns a client Conn speaking TLS 1.2 over an in-memory pipe, and
// the raw server end of the pipe, positioned after the TLS handshake. TLS 1.2
// is used because its alerts travel in records of a visible type (21).
func tlsPipe(t *testing.T, opts ...Option) (*Conn, net.Conn) {
	t.Helper()
	cert, _ := selfSigned(t)
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	require.NoError(t, b.SetDeadline(time.Now().Add(testIOTimeout)))
	srv := tls.Server(b, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	cli := tls.Client(a, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	require.NoError(t, cli.Handshake())
	require.NoError(t, <-errc)
	o := buildOptions(opts)
	require.NoError(t, o.err)
	return newConn(cli, bufio.NewReader(cli), true, o), b
}

// recordTypes reads raw TLS records from r until EOF and returns their
// content types (23 application data, 21 alert).
func recordTypes(r io.Reader) ([]byte, error) {
	var types []byte
	hdr := make([]byte, 5)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			if err == io.EOF {
				return types, nil
			}
			return types, err
		}
		types = append(types, hdr[0])
		if _, err := io.CopyN(io.Discard, r, int64(binary.BigEndian.Uint16(hdr[3:]))); err != nil {
			return types, err
		}
	}
}

func TestCloseNowOverTLSSendsNoAlert(t *testing.T) {
	c, raw := tlsPipe(t)
	got := make(chan []byte, 1)
	go func() {
		types, _ := recordTypes(raw)
		got <- types
	}()
	require.NoError(t, c.CloseNow())
	assert.Empty(t, <-got, "a dropped connection sends nothing, not even close_notify")
}

func TestCloseOverTLSIsPolite(t *testing.T) {
	c, raw := tlsPipe(t)
	got := make(chan []byte, 1)
	go func() {
		types, _ := recordTypes(raw)
		got <- types
	}()
	require.NoError(t, c.Close(StatusNormalClosure, "bye"))
	assert.Equal(t, []byte{23, 21}, <-got, "the close frame, then close_notify")
}

func TestPeerFailureOverTLSDropsWithoutAlert(t *testing.T) {
	// The client's write times out (the peer reads nothing): the connection
	// is dropped at once, without a close_notify that could block.
	c, raw := tlsPipe(t, WithWriteTimeout(20*time.Millisecond))
	err := c.WriteFrame(testCtx(t), make([]byte, 1<<16), true)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	// Everything written so far is a truncated application-data record; after
	// it the pipe must be at EOF, not carry an alert.
	rest, rerr := io.ReadAll(raw)
	require.NoError(t, rerr)
	assert.NotContains(t, rest, []byte{21, 3, 3}, "no TLS 1.2 alert record header")
	_, _, rerr = c.ReadFrame()
	assert.True(t, errAsClose(t, rerr).Abnormal())
}

func TestTLSReadAfterHandshakeOverPipe(t *testing.T) {
	// Sanity check of the pipe helper: a server frame sent through TLS
	// reaches ReadFrame.
	cert, _ := selfSigned(t)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	srv := tls.Server(b, &tls.Config{Certificates: []tls.Certificate{cert}})
	go func() {
		if srv.Handshake() == nil {
			_ = writeServerFrame(srv, ws.OpText, true, []byte("over pipe"))
		}
	}()
	cli := tls.Client(a, &tls.Config{InsecureSkipVerify: true})
	c := newConn(cli, bufio.NewReader(cli), true, buildOptions(nil))
	data, _, err := c.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, "over pipe", string(data))
	require.NoError(t, c.CloseNow())
}
