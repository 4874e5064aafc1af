package socket

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Config is everything a Socket is made with. Its owner fills every field; Hooks may be left nil.
type Config struct {
	// URL is the endpoint with its query string (it may hold the API key: it is never logged); LogURL is
	// its redacted form, for logs.
	URL, LogURL string
	// Dial are the transport options of each dial (TLS, dialer, headers); the socket adds its frame
	// limit and write buffer.
	Dial []transport.Option
	// Serializer encodes and decodes frames.
	Serializer phoenix.Serializer
	// HeartbeatInterval and HeartbeatTimeout: a heartbeat one interval after open and after each reply; no
	// reply within the timeout ends the session (ErrHeartbeatTimeout).
	HeartbeatInterval, HeartbeatTimeout time.Duration
	// DialTimeout bounds each dial and handshake.
	DialTimeout time.Duration
	// MaxFrameSize is the server's frame limit, in both directions: a larger incoming frame fails the
	// session (transport), a larger outgoing one is refused before it is queued (*FrameSizeError).
	MaxFrameSize int64
	// SendBuffer bounds the offline buffer (pushes not bound to a join, while no session is open).
	SendBuffer int
	// Backoff, MaxReconnects and ShouldRetry drive the retry operator that is the reconnect logic.
	Backoff       operators.Backoff
	MaxReconnects int
	// Traffic turns on the count of messages and bytes by topic and event, within its limits (the zero
	// value: off).
	Traffic TrafficLimits
	// NewHub makes the hot stream of a topic ("" for the stream of every message): the owner chooses its
	// consumers' defaults and how a slow consumer is reported.
	NewHub func(topic string) *stream.Hub[phoenix.Message]
	// Hooks is how the socket reports to its owner.
	Hooks Hooks
}

// Hooks is how a Socket reports to its owner: it never calls into its owner any other way. Each hook may
// be nil. Hooks run on the socket's goroutines (the reader, the writer, timers): they must not block.
type Hooks struct {
	// State is told every connection state change.
	State func(StateChange)
	// Error is told every non-fatal error: malformed frames, sessions that ended without being asked.
	Error func(error)
	// Log is told what is worth a log line. Attributes never carry a secret.
	Log func(level slog.Level, msg string, attrs ...slog.Attr)
	// Heartbeat is told every heartbeat step.
	Heartbeat func(HeartbeatEvent)
	// Retry is told before each reconnect attempt (from 1) with its delay and the previous session's end.
	Retry func(attempt int, delay time.Duration, cause error)
	// Unsent is told of a push that waited for no reply and will never go out (or was refused by the
	// server's close), with why: its caller was told it was queued.
	Unsent func(m *phoenix.Message, err error)
	// Dial is called before each dial (a token provider is asked then); it may block up to ctx. An error
	// fails the attempt without dialling: it is the attempt's cause.
	Dial func(ctx context.Context) error
	// Session runs on a goroutine of its own for the length of each session (a token refresher), and is
	// signalled after every heartbeat sent; the session waits for it to return once ctx ends.
	Session func(ctx context.Context, heartbeat <-chan struct{})
	// Stopped is told once, when the socket has stopped for good: err is nil after Close, else why it
	// gave up (reconnects ran out, a permanent rejection).
	Stopped func(err error)
	// Retryable decides whether a failed first dial is retried (a session opened once: always).
	Retryable func(err error) bool
}

// Counters are the socket's per-frame figures, totals since New.
type Counters struct {
	FramesIn, BytesIn, FramesOut, BytesOut uint64
	DecodeErrors, PushTimeouts, Reconnects uint64
	OfflineBuffer                          int
}

// Socket is one Phoenix socket: its sessions, reader, writer, offline buffer, refs and pending replies,
// topic routes and heartbeats. It knows nothing of channels: a channel attaches a Handler to its topic
// (Attach) and pushes through it.
type Socket struct {
	cfg   Config
	hooks Hooks

	ref      atomic.Uint64
	sessions atomic.Uint64 // id of the last session made
	pending  pendingTable
	retried  retries // unacknowledged pushes whose write failed once (write.go)
	routes   router
	messages *stream.Hub[phoenix.Message] // every incoming message

	framesIn, bytesIn, framesOut, bytesOut atomic.Uint64
	decodeErrors, pushTimeouts, reconnects atomic.Uint64
	traffic                                *trafficTable // by topic and event; nil unless Config.Traffic

	attempts atomic.Int64 // dials since the last session opened
	// acceptedSize is the largest frame the server has shown it processed, on any session: a lower bound
	// of its frame limit, for telling which frame a 1009 close was for (write.go, poisonOf).
	acceptedSize atomic.Int64
	dialFrom     atomic.Int64 // when the dial under way began (unix nanoseconds); 0 when none is
	opened       atomic.Bool  // a session opened once: from then on every failure is retried

	mu       sync.Mutex
	sess     *session // the open session taking direct writes; nil while offline or flushing
	outbox   []*phoenix.Message
	state    State
	started  bool
	closing  bool // Close was called or the supervisor ended: no more pushes
	stopping bool // BeginClose was called: only leaves may still go out
	firstUp  chan struct{}
	upClosed bool
	stopCh   chan struct{} // closed by BeginClose
	cancel   context.CancelFunc
	done     chan struct{}
	err      error
	last     error // why the last dial or session failed
	idle     bool
	wake     chan struct{} // closed when Wake ends an idle spell
}

// New returns a socket; nothing is dialled until Start.
func New(cfg Config) *Socket {
	s := &Socket{
		cfg:     cfg,
		hooks:   cfg.Hooks,
		state:   StateConnecting,
		firstUp: make(chan struct{}),
		stopCh:  make(chan struct{}),
		done:    make(chan struct{}),
		traffic: newTrafficTable(cfg.Traffic),
	}
	s.routes.newHub = cfg.NewHub
	s.messages = cfg.NewHub("")
	return s
}

// Start starts the connection supervisor, once; it returns at once. It returns ErrClosed after Close.
func (s *Socket) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return ErrClosed
	}
	if s.started {
		return nil
	}
	s.started = true
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	// The connection is a cold stream of messages, one run per WebSocket session, made endless by the
	// retry operator: that operator is the reconnect logic.
	conn := operators.RetryWithBackoff(stream.New(s.runSessions), s.cfg.Backoff,
		operators.RetryOnComplete(true),
		operators.MaxAttempts(s.cfg.MaxReconnects),
		operators.ShouldRetry(s.shouldRetry),
		operators.OnRetry(s.onRetry),
	)
	s.emitState(StateChange{State: StateConnecting})
	go func() {
		// One message the reader's goroutine reuses: dispatch keeps no pointer to it, and taking the
		// address of each one would move it to the heap.
		var cur phoenix.Message
		err := conn.Run(ctx, func(m phoenix.Message) bool {
			cur = m
			s.dispatch(&cur)
			return true
		})
		if ctx.Err() != nil {
			err = nil // Close
		}
		s.shutdown(err)
	}()
	return nil
}

// shouldRetry: always once a session has opened; before that, as the owner decides.
func (s *Socket) shouldRetry(err error) bool {
	if s.opened.Load() || s.hooks.Retryable == nil {
		return true
	}
	return s.hooks.Retryable(err)
}

func (s *Socket) onRetry(attempt int, cause error, delay time.Duration) {
	s.mu.Lock()
	s.state = StateReconnecting
	s.mu.Unlock()
	s.reconnects.Add(1)
	s.emitState(StateChange{State: StateReconnecting, Attempt: attempt, Delay: delay, Cause: cause})
	if h := s.hooks.Retry; h != nil {
		h(attempt, delay, cause)
	}
}

// Up is closed when the first session opens.
func (s *Socket) Up() <-chan struct{} { return s.firstUp }

// Done is closed when the socket has stopped (after Close, or when it gave up).
func (s *Socket) Done() <-chan struct{} { return s.done }

// Stopping is closed when BeginClose was called.
func (s *Socket) Stopping() <-chan struct{} { return s.stopCh }

// Err is why the socket gave up; nil while it runs and after Close.
func (s *Socket) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Attempts is the number of dials since the last session opened.
func (s *Socket) Attempts() int { return int(s.attempts.Load()) }

// Dialing reports whether a dial is under way, and for how long.
func (s *Socket) Dialing() (time.Duration, bool) {
	from := s.dialFrom.Load()
	if from == 0 {
		return 0, false
	}
	return time.Since(time.Unix(0, from)), true
}

// Opened reports whether a session has opened once.
func (s *Socket) Opened() bool { return s.opened.Load() }

// LastFailure is why the last dial or session failed.
func (s *Socket) LastFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// State returns the connection state.
func (s *Socket) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Session returns the id of the open session, 0 while none is open or once the socket is closed. A join
// made while it is 0 would be queued for a session that will rejoin the channel anyway.
func (s *Socket) Session() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateOpen || s.closing {
		return 0
	}
	return s.sessions.Load()
}

// Version is the serializer's vsn.
func (s *Socket) Version() string { return s.cfg.Serializer.Version() }

// Messages is the hot stream of every incoming message.
func (s *Socket) Messages() stream.Stream[phoenix.Message] { return s.messages.Stream() }

// Counters returns the socket's figures.
func (s *Socket) Counters() Counters {
	s.mu.Lock()
	buffered := len(s.outbox)
	s.mu.Unlock()
	return Counters{
		FramesIn: s.framesIn.Load(), BytesIn: s.bytesIn.Load(),
		FramesOut: s.framesOut.Load(), BytesOut: s.bytesOut.Load(),
		DecodeErrors: s.decodeErrors.Load(), PushTimeouts: s.pushTimeouts.Load(),
		Reconnects: s.reconnects.Load(), OfflineBuffer: buffered,
	}
}

// Traffic returns the messages and bytes read and written by topic and event, sorted by topic, then
// event; nil unless Config.Traffic turned the count on.
func (s *Socket) Traffic() []Traffic {
	if s.traffic == nil {
		return nil
	}
	return s.traffic.snapshot()
}

// BeginClose starts closing: what callers wait on ends now with ErrClosed (pushes and joins in flight),
// and from now on only leaves may go out (the owner leaves its channels, then calls Close).
func (s *Socket) BeginClose() {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return
	}
	s.stopping = true
	s.mu.Unlock()
	close(s.stopCh)
	s.pending.failWhere(func(p *pending) bool { return p.event != phoenix.EventLeave }, ErrClosed)
}

// Close flushes what is queued for the open session's writer (until ctx ends), closes the WebSocket with
// 1000 and stops the supervisor; it returns when the socket has stopped or ctx ended. Pending and
// buffered pushes fail with ErrClosed; pushes that waited for no reply and never went out are given to
// the Unsent hook; every topic stream completes.
func (s *Socket) Close(ctx context.Context) error {
	s.BeginClose()
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess != nil {
		sess.drain(ctx)
	}
	s.mu.Lock()
	already := s.closing
	s.closing = true
	cancel := s.cancel
	s.mu.Unlock()
	if !already {
		if cancel != nil {
			cancel()
		} else {
			s.shutdown(nil) // never started
		}
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shutdown runs once, when the supervisor ends (or Close of a socket never started): it fails what is
// pending and buffered, tells every route's handler, completes every stream and the Stopped hook.
func (s *Socket) shutdown(err error) {
	s.mu.Lock()
	s.closing = true
	s.state = StateClosed
	s.err = err
	s.sess = nil
	outbox := s.outbox
	s.outbox = nil
	if !s.stopping {
		s.stopping = true
		close(s.stopCh)
	}
	s.mu.Unlock()
	closedErr := ErrClosed
	if err != nil {
		closedErr = err
	}
	for _, m := range outbox {
		s.unsendable(m, closedErr)
	}
	s.pending.failSession(0, closedErr)
	s.routes.each(func(rt *Route) {
		if rt.handler != nil {
			rt.handler.Stopped(err)
		}
	})
	s.emitState(StateChange{State: StateClosed, Cause: err})
	s.routes.closeAll(err)
	s.messages.Complete(err)
	if h := s.hooks.Stopped; h != nil {
		h(err)
	}
	close(s.done)
}

// unsendable tells the sender of m that it was not sent, and why.
func (s *Socket) unsendable(m *phoenix.Message, err error) {
	if p := s.pending.take(m.Ref); p != nil {
		p.deliver(Reply{}, err)
	} else if !isControl(m) && s.hooks.Unsent != nil {
		s.hooks.Unsent(m, err)
	}
}

func (s *Socket) emitState(sc StateChange) {
	sc.At = time.Now()
	if h := s.hooks.State; h != nil {
		h(sc)
	}
	s.log(slog.LevelDebug, "rxrealtime: state", slog.String("state", sc.State.String()), slog.Int("attempt", sc.Attempt))
}

func (s *Socket) report(err error) {
	if h := s.hooks.Error; h != nil {
		h(err)
	}
}

func (s *Socket) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if h := s.hooks.Log; h != nil {
		h(level, msg, attrs...)
	}
}

// failed records why the last dial or session failed.
func (s *Socket) failed(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	s.last = err
	s.mu.Unlock()
}

func (s *Socket) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// lostError is the error of a push whose session ended with cause after it was written: ErrConnectionLost
// wrapping the cause, once (ErrClosed when the owner closed the socket).
func (s *Socket) lostError(cause error) error {
	if s.isClosing() {
		return ErrClosed
	}
	if errors.Is(cause, ErrConnectionLost) {
		return cause
	}
	return &lostErr{cause: cause}
}

// lostErr is ErrConnectionLost with its cause: "rxrealtime: connection lost before the reply: <cause>".
type lostErr struct{ cause error }

func (e *lostErr) Error() string   { return ErrConnectionLost.Error() + ": " + e.cause.Error() }
func (e *lostErr) Unwrap() []error { return []error{ErrConnectionLost, e.cause} }
