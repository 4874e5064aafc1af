package framesrv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

// ErrClosed is returned by [Server.Burst] after [Server.Close].
var ErrClosed = errors.New("framesrv: server closed")

// MaxChannels bounds the channels parameter (a burst pre-encodes at least
// one frame per channel).
const MaxChannels = 100_000

// Option configures a [Server].
type Option func(*config)

type config struct {
	frames     int
	ring       int
	batchBytes int
}

// WithFrames sets the burst size for clients that pass no n parameter
// (default 0: no burst, the connection only answers joins, heartbeats and
// broadcasts).
func WithFrames(n int) Option { return func(c *config) { c.frames = max(n, 0) } }

// WithRing sets how many distinct frames each pre-encoded burst cycles
// through (default [frames.DefaultRing]).
func WithRing(k int) Option { return func(c *config) { c.ring = k } }

// WithBatchBytes sets how many bytes of whole frames one write carries
// (default 128 KiB). Replies to the client wait at most one batch.
func WithBatchBytes(n int) Option { return func(c *config) { c.batchBytes = max(n, 1) } }

// Server is a running frame source on 127.0.0.1. It is safe for concurrent
// use.
type Server struct {
	cfg config
	ln  net.Listener
	wg  sync.WaitGroup

	mu     sync.Mutex
	conns  map[*conn]struct{}
	bursts map[burstKey]*frames.Burst
	closed bool
	last   BurstStats

	accepted   counter
	joins      counter
	broadcasts counter
	done       counter // completed bursts
	sent       counter // change frames written
	bad        counter // client messages that could not be decoded
}

type burstKey struct {
	vsn      frames.Vsn
	channels int
}

// BurstStats describes one completed burst.
type BurstStats struct {
	Frames   int           // change frames written
	Bytes    int           // WebSocket bytes written
	Duration time.Duration // from the first write to the last returning
}

// Rate returns the burst's emit rate in frames per second.
func (b BurstStats) Rate() float64 {
	if b.Duration <= 0 {
		return 0
	}
	return float64(b.Frames) / b.Duration.Seconds()
}

// Stats is a snapshot of the server's counters.
type Stats struct {
	Conns       int64 // connections upgraded
	Joins       int64 // phx_join messages answered
	Broadcasts  int64 // broadcast messages received
	Bursts      int64 // bursts completed
	Frames      int64 // change frames written
	BadMessages int64 // client messages that could not be decoded
	LastBurst   BurstStats
}

// Start listens on a free loopback port and serves until [Server.Close].
func Start(opts ...Option) (*Server, error) {
	cfg := config{ring: frames.DefaultRing, batchBytes: 128 << 10}
	for _, o := range opts {
		o(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("framesrv: listen: %w", err)
	}
	s := &Server{
		cfg:    cfg,
		ln:     ln,
		conns:  make(map[*conn]struct{}),
		bursts: make(map[burstKey]*frames.Burst),
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Endpoint returns the socket endpoint, "ws://127.0.0.1:<port>/socket".
// Phoenix clients append "/websocket" (phx and realtime-js do so
// themselves).
func (s *Server) Endpoint() string { return "ws://" + s.ln.Addr().String() + "/socket" }

// URL returns the full WebSocket URL for a client that wants n frames over
// channels channels in vsn v.
func (s *Server) URL(v frames.Vsn, n, channels int) string {
	q := url.Values{}
	q.Set("vsn", v.String())
	q.Set("n", strconv.Itoa(n))
	q.Set("channels", strconv.Itoa(channels))
	return s.Endpoint() + "/websocket?" + q.Encode()
}

// Burst returns the pre-encoded burst for vsn v over channels channels,
// encoding it on first use. Clients use it to know the expected checksum
// ([frames.Burst.IDSum]).
func (s *Server) Burst(v frames.Vsn, channels int) (*frames.Burst, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	k := burstKey{v, channels}
	if b := s.bursts[k]; b != nil {
		return b, nil
	}
	b, err := frames.NewBurst(v, channels, s.cfg.ring)
	if err != nil {
		return nil, err
	}
	s.bursts[k] = b
	return b, nil
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	return Stats{
		Conns:       s.accepted.load(),
		Joins:       s.joins.load(),
		Broadcasts:  s.broadcasts.load(),
		Bursts:      s.done.load(),
		Frames:      s.sent.load(),
		BadMessages: s.bad.load(),
		LastBurst:   last,
	}
}

// WaitJoins returns once n joins have been answered since Start.
func (s *Server) WaitJoins(ctx context.Context, n int64) error { return s.joins.wait(ctx, n) }

// WaitBroadcasts returns once n broadcasts have been received since Start.
func (s *Server) WaitBroadcasts(ctx context.Context, n int64) error {
	return s.broadcasts.wait(ctx, n)
}

// WaitBursts returns once n bursts have completed since Start.
func (s *Server) WaitBursts(ctx context.Context, n int64) error { return s.done.wait(ctx, n) }

// DropAll closes every connection abruptly (TCP reset, no close frame) and
// returns how many it closed; one an earlier DropAll closed, whose goroutine
// has not ended yet, is not closed or counted again.
func (s *Server) DropAll() int {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	n := 0
	for _, c := range cs {
		if c.drop() {
			n++
		}
	}
	return n
}

// Close stops accepting, drops every connection and waits for the server's
// goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.ln.Close()
	s.DropAll()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go s.serve(nc)
	}
}

// params are a connection's query parameters.
type params struct {
	vsn      frames.Vsn
	n        int
	channels int
	rate     int // frames per second; 0: as fast as the socket takes them
}

func (s *Server) parseQuery(uri []byte, p *params) error {
	u, err := url.ParseRequestURI(string(uri))
	if err != nil {
		return ws.RejectConnectionError(ws.RejectionStatus(400), ws.RejectionReason("bad request URI"))
	}
	q := u.Query()
	if p.vsn, err = frames.ParseVsn(q.Get("vsn")); err != nil {
		return ws.RejectConnectionError(ws.RejectionStatus(403), ws.RejectionReason("unsupported vsn"))
	}
	p.n, p.channels = s.cfg.frames, 1
	for name, dst := range map[string]*int{"n": &p.n, "channels": &p.channels, "rate": &p.rate} {
		if v := q.Get(name); v != "" {
			if *dst, err = strconv.Atoi(v); err != nil || *dst < 0 {
				return ws.RejectConnectionError(ws.RejectionStatus(400), ws.RejectionReason("bad "+name))
			}
		}
	}
	if p.channels > MaxChannels {
		return ws.RejectConnectionError(ws.RejectionStatus(400), ws.RejectionReason("too many channels"))
	}
	p.channels = max(p.channels, 1)
	return nil
}

func (s *Server) serve(nc net.Conn) {
	defer s.wg.Done()
	var p params
	u := ws.Upgrader{OnRequest: func(uri []byte) error { return s.parseQuery(uri, &p) }}
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := u.Upgrade(nc); err != nil {
		_ = nc.Close()
		return
	}
	_ = nc.SetDeadline(time.Time{})
	burst, err := s.Burst(p.vsn, p.channels)
	if err != nil {
		_ = nc.Close()
		return
	}
	c := newConn(s, nc, bufio.NewReaderSize(nc, 64<<10), p, burst)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.accepted.add(1)
	c.run()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) burstDone(b BurstStats) {
	s.mu.Lock()
	s.last = b
	s.mu.Unlock()
	s.done.add(1)
}
