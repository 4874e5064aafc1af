package source_test

// Helpers of the hostile-server suite (hostile_test.go): a client connected
// to a hostile.Server, with its errors and logs recorded and checked for
// secrets, a probe channel that tells whether the client still works, a
// heap watch, and the re-exec of the test binary for cases that may kill
// the process.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/internal/hostile"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// The secrets every hostile client holds. Neither is shaped like a JWT, so
// only redaction by value removes them.
const (
	hostileKey   = "sb_publishable_hostileKEY_0123456789"
	hostileToken = "hostile-access-token-9876543210"
)

// hostileWait bounds every wait of the suite; generous, for -race on a busy
// machine.
const hostileWait = 15 * time.Second

// hostileEnv is a client connected to a hostile server, with a joined probe
// channel.
type hostileEnv struct {
	srv     *hostile.Server
	c       *source.Client
	errs    *errSink
	logs    *logSink
	probe   *source.Channel
	probeIn *collector[source.Broadcast[json.RawMessage]]
	pings   int
}

// hostileClientOpts are the options of every hostile client: the secrets,
// recorded logs and errors, heartbeats every 500 ms with a 5 s timeout (a
// big frame under -race must not look like a dead socket), reconnects after
// 20 ms.
func hostileClientOpts(errs *errSink, logs *logSink, extra ...source.Option) []source.Option {
	return append([]source.Option{
		source.WithAPIKey(hostileKey),
		source.WithAccessToken(func(context.Context) (string, error) { return hostileToken, nil }),
		source.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		source.WithErrorHandler(errs.add),
		source.WithHeartbeat(500*time.Millisecond, 5*time.Second),
		source.WithReconnectBackoff(operators.StepBackoff{20 * time.Millisecond}),
		source.WithPushTimeout(5 * time.Second),
	}, extra...)
}

// newHostileServer starts a hostile server closed with the test.
func newHostileServer(t *testing.T, opts ...hostile.Option) *hostile.Server {
	t.Helper()
	srv, err := hostile.New(opts...)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

// newHostile connects a client to a new hostile server and joins its probe
// channel. When the test ends the client is closed and every error it
// reported and every log line it wrote is checked for the key and the
// token, and every error for the "rxrealtime: " its text starts with
// (whatever package beneath made it, it is wrapped).
func newHostile(t *testing.T, srvOpts []hostile.Option, opts ...source.Option) *hostileEnv {
	t.Helper()
	e := &hostileEnv{srv: newHostileServer(t, srvOpts...), errs: newErrSink(), logs: newLogSink()}
	ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
	defer cancel()
	c, err := source.Connect(ctx, e.srv.URL(), hostileClientOpts(e.errs, e.logs, opts...)...)
	require.NoError(t, err)
	e.c = c
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
		defer cancel()
		assert.NoError(t, c.Close(ctx))
		e.errs.assertNoSecrets(t)
		e.logs.assertNoSecrets(t)
	})
	e.probe = e.channel(t, "probe")
	e.probeIn = collect(t, source.Broadcasts[json.RawMessage](e.probe, "ping"))
	e.subscribe(t, e.probe)
	return e
}

// channel creates a channel with a 5 s join timeout and rejoins after
// 20 ms.
func (e *hostileEnv) channel(t *testing.T, name string, opts ...source.ChannelOption) *source.Channel {
	t.Helper()
	ch, err := e.c.Channel(name, append([]source.ChannelOption{
		source.WithJoinTimeout(5 * time.Second),
		source.WithRejoinBackoff(operators.StepBackoff{20 * time.Millisecond}),
	}, opts...)...)
	require.NoError(t, err)
	return ch
}

func (e *hostileEnv) subscribe(t *testing.T, ch *source.Channel) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
	defer cancel()
	require.NoError(t, ch.Subscribe(ctx))
}

// conn waits for the server's n-th connection (from 1) and for the probe
// channel to be joined on it.
func (e *hostileEnv) conn(t *testing.T, n int) *hostile.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
	defer cancel()
	sc, err := e.srv.Conn(ctx, n)
	require.NoError(t, err, "the client did not open connection %d", n)
	_, err = sc.Joined(ctx, "realtime:probe")
	require.NoError(t, err, "the probe channel was not joined on connection %d", n)
	return sc
}

// joined waits until topic is joined on sc.
func joined(t *testing.T, sc *hostile.Conn, topic string) hostile.Join {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
	defer cancel()
	j, err := sc.Joined(ctx, topic)
	require.NoError(t, err, "%s was not joined", topic)
	return j
}

// alive sends a broadcast on the probe channel over sc and waits for the
// client to deliver it: the client still reads, routes and delivers.
func (e *hostileEnv) alive(t *testing.T, sc *hostile.Conn) {
	t.Helper()
	e.pings++
	want := fmt.Sprintf(`{"n":%d}`, e.pings)
	require.NoError(t, sc.Send(broadcastMsg("realtime:probe", "ping", want)), "writing the probe broadcast")
	e.probeIn.next(t, hostileWait, func(b source.Broadcast[json.RawMessage]) bool { return string(b.Payload) == want })
}

// sameConn asserts the client never reconnected: one TCP connection, still
// up.
func (e *hostileEnv) sameConn(t *testing.T) {
	t.Helper()
	assert.Equal(t, 1, e.srv.Accepted(), "the client reconnected")
	if cs := e.srv.Conns(); assert.Len(t, cs, 1) {
		assert.NoError(t, cs[0].Err(), "the first connection ended")
	}
}

// reconnected waits for connection n, with the probe rejoined, and checks
// the probe works on it.
func (e *hostileEnv) reconnected(t *testing.T, n int) *hostile.Conn {
	t.Helper()
	sc := e.conn(t, n)
	e.alive(t, sc)
	return sc
}

// broadcastMsg is a JSON-framed broadcast of event with payload (raw JSON).
func broadcastMsg(topic, event, payload string) phoenix.Message {
	return phoenix.Message{Topic: topic, Event: phoenix.EventBroadcast,
		Payload: []byte(`{"type":"broadcast","event":"` + event + `","payload":` + payload + `}`)}
}

// errSink records the errors given to the client's error handler: all of
// them for the secrets check, the first 2,000 for waits.
type errSink struct {
	mu       sync.Mutex
	errs     []error
	n        int
	leaks    []string
	unprefix []string // texts that do not start with "rxrealtime:"
	changed  chan struct{}
}

const errSinkKeep = 2000

func newErrSink() *errSink { return &errSink{changed: make(chan struct{})} }

func (s *errSink) add(err error) {
	text := err.Error()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if leaked(text) && len(s.leaks) < 5 {
		s.leaks = append(s.leaks, transport.Excerpt(text, 300))
	}
	if !strings.HasPrefix(text, "rxrealtime: ") && len(s.unprefix) < 5 {
		s.unprefix = append(s.unprefix, transport.Excerpt(text, 300))
	}
	if len(s.errs) < errSinkKeep {
		s.errs = append(s.errs, err)
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// mark is where the errors reported from now on start, for waitFrom.
func (s *errSink) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.errs)
}

// wait waits for an error matching ok and returns it.
func (s *errSink) wait(t *testing.T, what string, ok func(error) bool) error {
	t.Helper()
	return s.waitFrom(t, 0, what, ok)
}

// waitFrom waits for an error matching ok among those reported since mark
// returned from.
func (s *errSink) waitFrom(t *testing.T, from int, what string, ok func(error) bool) error {
	t.Helper()
	timer := time.NewTimer(hostileWait)
	defer timer.Stop()
	seen := from
	for {
		s.mu.Lock()
		fresh, changed := s.errs[seen:], s.changed
		seen = len(s.errs)
		s.mu.Unlock()
		for _, err := range fresh {
			if ok(err) {
				return err
			}
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("no error reported that is %s; reported: %s", what, s.summary())
			return nil
		}
	}
}

// all returns the errors recorded so far.
func (s *errSink) all() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

func (s *errSink) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%d errors", s.n)
	for i, err := range s.errs {
		if i == 8 {
			b.WriteString("; …")
			break
		}
		fmt.Fprintf(&b, "; %T: %s", err, transport.Excerpt(err.Error(), 200))
	}
	return b.String()
}

func (s *errSink) assertNoSecrets(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Empty(t, s.leaks, "errors given to the error handler carry the API key or the access token")
	assert.Empty(t, s.unprefix, "errors given to the error handler that do not start with \"rxrealtime: \"")
}

// leaked reports whether text carries one of the client's secrets.
func leaked(text string) bool {
	return strings.Contains(text, hostileKey) || strings.Contains(text, hostileToken)
}

// logSink is the client's log output: every line is checked for secrets,
// the first MiB is kept.
type logSink struct {
	mu    sync.Mutex
	head  bytes.Buffer
	lines int
	leaks []string
}

func newLogSink() *logSink { return &logSink{} }

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines++
	if leaked(string(p)) && len(s.leaks) < 5 {
		s.leaks = append(s.leaks, transport.Excerpt(string(p), 300))
	}
	if s.head.Len() < 1<<20 {
		s.head.Write(p)
	}
	return len(p), nil
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head.String()
}

func (s *logSink) assertNoSecrets(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Empty(t, s.leaks, "log lines carry the API key or the access token")
}

// heapWatch measures how much the heap grows during a case: the peak of
// the heap's objects (sampled every millisecond, so garbage not yet
// collected counts) and what is still live after a collection at the end.
type heapWatch struct {
	base uint64
	stop chan struct{}
	done chan uint64
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// watchHeap collects garbage, then starts sampling. The caller must call
// end.
func watchHeap() *heapWatch {
	runtime.GC()
	w := &heapWatch{base: heapObjects(), stop: make(chan struct{}), done: make(chan uint64, 1)}
	go func() {
		peak := w.base
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v := heapObjects(); v > peak {
				peak = v
			}
			select {
			case <-w.stop:
				w.done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// end stops the sampling and returns the peak growth and the growth still
// live after a collection (0 when the heap shrank).
func (w *heapWatch) end() (peak, live uint64) {
	close(w.stop)
	p := <-w.done
	runtime.GC()
	l := heapObjects()
	return sub0(p, w.base), sub0(l, w.base)
}

func sub0(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// assertHeap ends w and checks the case's heap growth against a multiple
// of its frame, plus slack for whatever else the process does meanwhile.
// It returns the peak growth, for stricter checks.
func assertHeap(t *testing.T, w *heapWatch, frame int, peakX, liveX float64) (peak uint64) {
	t.Helper()
	const slack = 16 << 20
	peak, live := w.end()
	t.Logf("heap growth: peak %.1f MB (%.1f× the %.1f MB frame), live after GC %.1f MB (%.1f×)",
		mb(peak), float64(peak)/float64(frame), mb(uint64(frame)), mb(live), float64(live)/float64(frame))
	assert.LessOrEqual(t, float64(peak), peakX*float64(frame)+slack,
		"peak heap growth %.1f MB exceeds %.0f× the %.1f MB frame (+16 MB)", mb(peak), peakX, mb(uint64(frame)))
	assert.LessOrEqual(t, float64(live), liveX*float64(frame)+slack,
		"live heap growth %.1f MB exceeds %.0f× the %.1f MB frame (+16 MB)", mb(live), liveX, mb(uint64(frame)))
	return peak
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// hostileChildEnv names, in a re-executed test binary, the case it runs.
const hostileChildEnv = "RXREALTIME_HOSTILE_CASE"

// hostileCaseOK starts the line a case run in a child process prints when
// it passed, followed by the case's name and the typed error it saw.
const hostileCaseOK = "hostile-case-ok"

// inChild reports whether this process is the child running case name of
// the current test.
func inChild(t *testing.T, name string) bool {
	t.Helper()
	v := os.Getenv(hostileChildEnv)
	if v != "" && v != name {
		t.Fatalf("child for case %q asked to run %q", v, name)
	}
	return v == name
}

// runChild re-executes the test binary to run only the current subtest
// (whose case is name) with hostileChildEnv set, and checks that it exited
// 0 and printed the hostileCaseOK line with each of want in it. A process that a
// stack overflow killed exits 2 with "stack overflow" in its output.
func runChild(t *testing.T, name string, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	parent, _, _ := strings.Cut(t.Name(), "/")
	run := "^" + regexp.QuoteMeta(parent) + "$/^" + regexp.QuoteMeta(name) + "$"
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+run, "-test.v", "-test.count=1", "-test.timeout=3m")
	cmd.Env = append(os.Environ(), hostileChildEnv+"="+name)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	text := string(out)
	t.Logf("child process ran %v", time.Since(start).Round(time.Millisecond))
	if i := strings.Index(text, "stack overflow"); i >= 0 {
		from := max(0, strings.LastIndex(text[:i], "\n"))
		t.Errorf("the client's process died of a stack overflow (exit: %v):\n%s", err, transport.Excerpt(text[from:], 1500))
		return
	}
	if !assert.NoError(t, err, "the child process failed; its output ends with:\n%s", tail(text, 4000)) {
		return
	}
	line := ""
	for l := range strings.Lines(text) {
		if strings.HasPrefix(l, hostileCaseOK+" "+name+":") {
			line = l
		}
		if strings.Contains(l, "heap growth:") {
			t.Logf("child: %s", strings.TrimSpace(l))
		}
	}
	if assert.NotEmpty(t, line, "the child did not report its case; output:\n%s", tail(text, 4000)) {
		for _, w := range want {
			assert.Contains(t, line, w, "the child's typed error")
		}
	}
}

// childOK prints the line runChild looks for: the case's typed error, its
// type and the types it wraps, and whether it wraps phoenix.ErrTooDeep.
func childOK(name string, err error) {
	types := fmt.Sprintf("%T", err)
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		types += fmt.Sprintf(" > %T", e)
	}
	fmt.Printf("%s %s: %s too-deep=%v: %s\n", hostileCaseOK, name, types, errors.Is(err, phoenix.ErrTooDeep), transport.Excerpt(err.Error(), 300))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
