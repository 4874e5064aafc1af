package realtimetest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Server is an in-process Supabase Realtime compatible server listening on a
// loopback port. Create one with [NewServer] or [Start] and stop it with
// [Server.Close]. All methods are safe for concurrent use.
type Server struct {
	cfg  config
	addr string // host:port, fixed at the first listen
	v1   phoenix.Serializer
	v2   phoenix.Serializer

	rec     recorder
	restLog restLog
	faults  Faults

	// run guards the listener life cycle (Start/Stop/Close); taken before mu.
	run     sync.Mutex
	hs      *http.Server
	serveWG sync.WaitGroup

	// handshakes is read-held by each WebSocket handshake from the upgrade
	// until the connection is registered; settle waits for those in flight,
	// so a client that has seen its handshake complete is always reached by
	// faults and listed by Clients.
	handshakes sync.RWMutex

	mu       sync.Mutex
	closed   bool
	stopped  bool          // listener down (Faults.Stop or Close)
	stopCh   chan struct{} // closed when the current listener stops
	pipe     *pipeListener // the listener of a server started WithPipe, nil when stopped
	connWG   sync.WaitGroup
	nextID   ConnID
	conns    map[ConnID]*conn
	topics   map[string]map[*channel]struct{} // pubsub topic → channels
	presence map[string]*presenceTopic        // pubsub topic → presence
	stored   map[string][]*storedMessage      // private channel name → broadcasts kept for replay
	storeSeq uint64                           // insertion sequence of stored
	tables   map[tableKey]*table              // the emulated database's tables
	users    int                              // sockets counted as users
	events   *rateWindow
	joins    *rateWindow
}

// NewServer starts a server on 127.0.0.1 with a free port, like
// httptest.NewServer. It panics if an option is invalid or no port can be
// had; use [Start] to get an error instead.
func NewServer(opts ...Option) *Server {
	s, err := Start(opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is [NewServer] returning an error instead of panicking. The error
// wraps [ErrInvalidOption] for a bad option, or is the listen error.
func Start(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	s := &Server{
		cfg:      cfg,
		v1:       phoenix.V1,
		v2:       phoenix.NewV2(phoenix.WithSide(phoenix.ServerSide)),
		conns:    map[ConnID]*conn{},
		topics:   map[string]map[*channel]struct{}{},
		presence: map[string]*presenceTopic{},
		stored:   map[string][]*storedMessage{},
		tables:   map[tableKey]*table{},
		events:   newRateWindow(),
		joins:    newRateWindow(),
		stopped:  true,
	}
	s.faults.s = s
	s.rec.limit = cfg.maxRecorded
	if err := s.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return s, nil
}

// listen starts serving on addr. The caller holds s.run (or owns s).
func (s *Server) listen(addr string) error {
	var ln net.Listener
	var pipe *pipeListener
	if s.cfg.pipe {
		pipe = newPipeListener()
		ln = pipe
	} else {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("realtimetest: listen on %s: %w", addr, err)
		}
	}
	mux := http.NewServeMux()
	for _, prefix := range []string{"", "/realtime/v1"} {
		mux.HandleFunc(prefix+"/socket/websocket", s.serveWebSocket)
		mux.HandleFunc("POST "+prefix+"/api/broadcast", s.recordREST(s.serveBatchBroadcast))
		mux.HandleFunc("POST "+prefix+"/api/broadcast/{topic}/events/{event}", s.recordREST(s.serveSingleBroadcast))
	}
	mux.HandleFunc("/realtime/v1/websocket", s.serveWebSocket)
	mux.HandleFunc("GET /rest/v1/{table}", s.recordREST(s.servePostgREST))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.pipe = pipe
	s.stopped = false
	s.stopCh = make(chan struct{})
	s.mu.Unlock()

	s.hs = hs
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		_ = hs.Serve(ln)
	}()
	return nil
}

// stop closes the listener and every connection (with closeCode, or
// abruptly when closeCode is 0) and waits for their goroutines. The caller
// holds s.run.
func (s *Server) stop(closeCode transport.StatusCode) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	s.pipe = nil
	close(s.stopCh)
	conns := s.connList()
	s.mu.Unlock()

	for _, c := range conns {
		if closeCode == 0 {
			_ = c.tc.CloseNow()
		} else {
			_ = c.tc.Close(closeCode, "")
		}
	}
	if s.hs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.hs.Shutdown(ctx); err != nil {
			_ = s.hs.Close()
		}
		cancel()
		s.hs = nil
	}
	s.serveWG.Wait()
	s.connWG.Wait()
}

// Close shuts the server down: the listener, then every connection (with
// close code 1001, going away), and waits for all its goroutines. Timers of
// the server are stopped too, so nothing of it is left running. Close is
// idempotent.
func (s *Server) Close() {
	s.run.Lock()
	defer s.run.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.stop(transport.StatusGoingAway)
}

// Addr returns the server's host:port, e.g. "127.0.0.1:54321". It stays the
// same across [Faults.Restart].
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL returns the Realtime endpoint as clients are configured with it,
// ws://127.0.0.1:port/socket. Clients append "/websocket" and the query
// (apikey, vsn), as realtime-js does; the server also accepts
// /realtime/v1/websocket, the hosted path.
func (s *Server) URL() string { return "ws://" + s.Addr() + "/socket" }

// HTTPURL returns http://127.0.0.1:port, the base of the REST API
// (POST /api/broadcast and POST /api/broadcast/:topic/events/:event, also
// under /realtime/v1) and of the table reads, GET /rest/v1/<table> (see
// [Server.SetTable]).
func (s *Server) HTTPURL() string { return "http://" + s.Addr() }

// Faults returns the server's fault injection controls.
func (s *Server) Faults() *Faults { return &s.faults }

// Frames returns a snapshot of the recorded frames, oldest first (see
// [Frame]; all of them unless [WithMaxRecordedFrames] bounds the recorder).
func (s *Server) Frames() []Frame { return s.rec.snapshot() }

// ClearFrames forgets the recorded frames; sequence numbers keep counting.
func (s *Server) ClearFrames() { s.rec.clear() }

// WaitFor blocks until a frame for which match returns true has been
// recorded, and returns it. Frames recorded before the call count, so
// WaitFor cannot miss a frame that raced ahead; use Frame.Seq or
// [Server.ClearFrames] to look only at later ones. It fails when ctx is
// done.
func (s *Server) WaitFor(ctx context.Context, match func(Frame) bool) (Frame, error) {
	return s.rec.waitFor(ctx, match)
}

// Token returns an HS256 JWT signed with the server's secret (see
// [WithJWTSecret]) with the given role and an exp of now+ttl, for clients
// under test to use as apikey or access_token. A server without a secret
// accepts any token; Token then signs with a fixed placeholder secret.
func (s *Server) Token(role string, ttl time.Duration) string {
	secret := s.cfg.jwtSecret
	if len(secret) == 0 {
		secret = []byte("realtimetest-unverified")
	}
	tok, err := SignJWT(secret, map[string]any{
		"role": role,
		"exp":  time.Now().Add(ttl).Unix(),
		"iat":  time.Now().Unix(),
	})
	if err != nil { // unreachable: the claims always encode
		panic(err)
	}
	return tok
}

// connList returns the live connections. The caller holds s.mu.
func (s *Server) connList() []*conn {
	out := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c)
	}
	return out
}

// sleep waits d or until the current listener stops; it reports whether
// the full delay elapsed.
func (s *Server) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	s.mu.Lock()
	stop := s.stopCh
	s.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// settle waits until every handshake whose 101 response may already have
// reached its client has registered its connection.
func (s *Server) settle() {
	s.handshakes.Lock()
	s.handshakes.Unlock() // an empty critical section: a barrier
}
