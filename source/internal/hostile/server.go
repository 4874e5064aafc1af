// Package hostile is a scriptable WebSocket server for tests that drive the
// client with a misbehaving Supabase Realtime server. Only tests import it.
//
// Unlike source/realtimetest, which behaves like Realtime, a hostile [Server]
// speaks just enough Phoenix to get a client going — it upgrades, answers
// phx_join (echoing the postgres_changes bindings with ids, see [BindingID]),
// phx_leave and heartbeats — and otherwise sends only what the test scripts on
// a [Conn]: raw text or binary frames ([Conn.Text], [Conn.Binary]), frames
// built with the phoenix serializer ([Conn.Send], [Conn.Reply]), any frame
// header, lying or not ([Conn.WriteHeader]), close frames with any code or
// body ([Conn.Close], [Conn.CloseBody]), floods ([Conn.Flood]) and abrupt
// drops ([Conn.Drop]). [WithHandshake] makes the handshake fail: rejected with
// any status and body (built from the request, so it can echo the key), or
// never completed.
//
// It is built on gobwas/ws's low-level frame API, not on package transport,
// so that nothing the client relies on is on the server's side too. It
// speaks vsn 2.0.0 only. Everything listens on 127.0.0.1.
package hostile

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"
)

// Request is a client's WebSocket upgrade request, as the server saw it.
type Request struct {
	// N numbers the TCP connections the server accepted, from 1.
	N int
	// URI is the request target (path and query).
	URI string
	// Query is the parsed query of URI (the client's apikey, vsn...).
	Query url.Values
	// Header holds the request headers.
	Header http.Header
}

// Answer is how the server answers an upgrade request. The zero Answer
// upgrades.
type Answer struct {
	// Status, when not 0, refuses the upgrade with this HTTP status and
	// Body (sent as application/json).
	Status int
	Body   string
	// Stall never answers: the server has read the request and then
	// writes Partial (if any) and nothing more, until the client gives up
	// or the server closes.
	Stall   bool
	Partial string
}

// JoinFunc decides the reply to a phx_join: its status ("ok", "error"...)
// and response (raw JSON).
type JoinFunc func(j Join) (status string, response []byte)

// Option configures a Server.
type Option func(*Server)

// WithHandshake answers each upgrade request with f's answer. f runs on
// the connection's goroutine: concurrently for concurrent connections.
func WithHandshake(f func(Request) Answer) Option { return func(s *Server) { s.handshake = f } }

// WithJoin replies to joins with f instead of [OK]. f runs on the
// connection's reading goroutine.
func WithJoin(f JoinFunc) Option { return func(s *Server) { s.join = f } }

// Server is a hostile WebSocket server on 127.0.0.1. Its methods are safe
// for concurrent use.
type Server struct {
	ln        net.Listener
	handshake func(Request) Answer
	join      JoinFunc
	accepted  atomic.Int64
	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	mu      sync.Mutex
	conns   []*Conn
	raw     map[net.Conn]struct{} // every TCP connection still open
	changed chan struct{}         // closed (and replaced) when conns grows
}

// New starts a server; Close stops it.
func New(opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		ln:      ln,
		join:    OK,
		closing: make(chan struct{}),
		raw:     make(map[net.Conn]struct{}),
		changed: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// URL is the socket URL to give the client.
func (s *Server) URL() string { return "ws://" + s.ln.Addr().String() + "/socket" }

// Accepted is the number of TCP connections accepted so far, handshakes
// refused or stalled included.
func (s *Server) Accepted() int { return int(s.accepted.Load()) }

// Conns returns the upgraded connections so far, in order.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Conn(nil), s.conns...)
}

// Conn waits for the n-th upgraded connection (from 1) and returns it.
func (s *Server) Conn(ctx context.Context, n int) (*Conn, error) {
	for {
		s.mu.Lock()
		if len(s.conns) >= n {
			c := s.conns[n-1]
			s.mu.Unlock()
			return c, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.closing:
			return nil, errClosed
		}
	}
}

var errClosed = errors.New("hostile: server closed")

// Close closes the listener and every connection, and waits for the
// server's goroutines.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		_ = s.ln.Close()
		s.mu.Lock()
		for nc := range s.raw {
			_ = nc.Close()
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		select {
		case <-s.closing:
			s.mu.Unlock()
			_ = nc.Close()
			return
		default:
		}
		s.raw[nc] = struct{}{}
		s.mu.Unlock()
		n := int(s.accepted.Add(1))
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.forget(nc)
			s.serve(nc, n)
		}()
	}
}

func (s *Server) forget(nc net.Conn) {
	_ = nc.Close()
	s.mu.Lock()
	delete(s.raw, nc)
	s.mu.Unlock()
}

// serve runs the handshake of one TCP connection and then its Conn.
func (s *Server) serve(nc net.Conn, n int) {
	req := Request{N: n, Header: make(http.Header)}
	u := ws.Upgrader{
		OnRequest: func(uri []byte) error {
			req.URI = string(uri)
			if pu, err := url.ParseRequestURI(req.URI); err == nil {
				req.Query = pu.Query()
			}
			return nil
		},
		OnHeader: func(key, value []byte) error {
			req.Header.Add(string(key), string(value))
			return nil
		},
		OnBeforeUpgrade: func() (ws.HandshakeHeader, error) {
			if s.handshake == nil {
				return nil, nil
			}
			a := s.handshake(req)
			switch {
			case a.Stall:
				if a.Partial != "" {
					_, _ = nc.Write([]byte(a.Partial))
				}
				<-s.closing // Close closes nc; the client may have gone long before
				return nil, errClosed
			case a.Status != 0:
				return nil, ws.RejectConnectionError(
					ws.RejectionStatus(a.Status),
					ws.RejectionHeader(ws.HandshakeHeaderHTTP(http.Header{"Content-Type": {"application/json"}})),
					ws.RejectionReason(a.Body))
			}
			return nil, nil
		},
	}
	if _, err := u.Upgrade(nc); err != nil {
		return
	}
	c := newConn(s, nc, req)
	s.mu.Lock()
	s.conns = append(s.conns, c)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	c.run()
}
