package source_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Socket-level helpers.

// fast are client options that keep fault tests short: quick heartbeats
// and a fixed, tiny reconnect backoff.
func fast(extra ...source.Option) []source.Option {
	return append([]source.Option{
		source.WithAPIKey("anon-key"),
		source.WithHeartbeat(100*time.Millisecond, 100*time.Millisecond),
		source.WithReconnectBackoff(operators.StepBackoff{20 * time.Millisecond}),
		source.WithPushTimeout(2 * time.Second),
	}, extra...)
}

// newServer starts an embedded server that is closed with the test.
func newServer(t *testing.T, opts ...realtimetest.Option) *realtimetest.Server {
	t.Helper()
	s := realtimetest.NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// connect connects a client to s and closes it with the test.
func connect(t *testing.T, s *realtimetest.Server, opts ...source.Option) *source.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := source.Connect(ctx, s.URL(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, c.Close(ctx))
	})
	return c
}

// collector gathers a stream's values in the background; next waits for
// one.
type collector[T any] struct {
	ch   <-chan T
	stop context.CancelFunc
}

func collect[T any](t *testing.T, s stream.Stream[T], opts ...stream.ObserveOption) *collector[T] {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts = append([]stream.ObserveOption{stream.WithBuffer(1024), stream.DropNewest()}, opts...)
	return &collector[T]{ch: s.Observe(ctx, opts...), stop: cancel}
}

// next waits for the next value matching ok, failing the test after d.
func (c *collector[T]) next(t *testing.T, d time.Duration, ok func(T) bool) T {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case v, open := <-c.ch:
			if !open {
				t.Fatalf("stream ended before the expected value")
			}
			if ok(v) {
				return v
			}
		case <-timer.C:
			t.Fatalf("no expected value within %v", d)
		}
	}
}

// waitCtx is a context that ends after 5 s or with the test.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Channel-layer helpers. Their names carry a "ch"/"rt" prefix; rtServer,
// chConnect and chCtx are the socket helpers above with the channel tests'
// faster options. chLog records a whole stream (values and end) where
// collector only waits for the next value.

const chWait = 5 * time.Second

// rtServer is newServer, under the name the channel tests use.
func rtServer(t *testing.T, opts ...realtimetest.Option) *realtimetest.Server {
	t.Helper()
	return newServer(t, opts...)
}

// chClientOpts are fast client options: heartbeats every 200 ms (1 s to
// answer), reconnects after 10 ms, pushes time out after 1 s.
func chClientOpts(extra ...source.Option) []source.Option {
	return append([]source.Option{
		source.WithAPIKey("anon-key"),
		source.WithHeartbeat(200*time.Millisecond, time.Second),
		source.WithReconnectBackoff(operators.StepBackoff{10 * time.Millisecond}),
		source.WithPushTimeout(time.Second),
	}, extra...)
}

// chConnect connects a client with chClientOpts (then opts) to s, closed
// with the test.
func chConnect(t *testing.T, s *realtimetest.Server, opts ...source.Option) *source.Client {
	t.Helper()
	return connect(t, s, chClientOpts(opts...)...)
}

// chFast are fast channel options: 500 ms join timeout, rejoins after
// 10 ms.
func chFast(extra ...source.ChannelOption) []source.ChannelOption {
	return append([]source.ChannelOption{
		source.WithJoinTimeout(500 * time.Millisecond),
		source.WithRejoinBackoff(operators.StepBackoff{10 * time.Millisecond}),
	}, extra...)
}

// chNew creates a channel with chFast options (then opts).
func chNew(t *testing.T, c *source.Client, name string, opts ...source.ChannelOption) *source.Channel {
	t.Helper()
	ch, err := c.Channel(name, chFast(opts...)...)
	require.NoError(t, err)
	return ch
}

// chSubscribe subscribes ch, failing the test if it is not SUBSCRIBED
// within chWait.
func chSubscribe(t *testing.T, ch *source.Channel) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chWait)
	defer cancel()
	require.NoError(t, ch.Subscribe(ctx))
}

// chCtx is waitCtx, under the name the channel tests use.
func chCtx(t *testing.T) context.Context { return waitCtx(t) }

// chEventually waits for cond, polling; the message explains a failure.
func chEventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(chWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: "+msg, args...)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// chLog records every value of a stream, for tests to wait on and inspect.
type chLog[T any] struct {
	mu     sync.Mutex
	vals   []T
	ended  bool
	notify chan struct{}
}

func (l *chLog[T]) add(v T) {
	l.mu.Lock()
	l.vals = append(l.vals, v)
	close(l.notify)
	l.notify = make(chan struct{})
	l.mu.Unlock()
}

func (l *chLog[T]) end() {
	l.mu.Lock()
	l.ended = true
	close(l.notify)
	l.notify = make(chan struct{})
	l.mu.Unlock()
}

// chRecord subscribes to s until the test ends. Subscribe returns once the
// consumer is registered (the stream's readiness), so nothing emitted after
// chRecord returns is missed.
func chRecord[T any](t *testing.T, s stream.Stream[T]) *chLog[T] {
	t.Helper()
	l := &chLog[T]{notify: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	sub := s.Subscribe(ctx, l.add, stream.WithBuffer(4096))
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		<-sub.Done()
		l.end()
	}()
	t.Cleanup(func() { cancel(); <-ended })
	return l
}

// snapshot returns the values so far and whether the stream ended.
func (l *chLog[T]) snapshot() ([]T, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.vals...), l.ended
}

// waitUntil waits until cond holds for the values recorded so far.
func (l *chLog[T]) waitUntil(t *testing.T, what string, cond func(vals []T, ended bool) bool) []T {
	t.Helper()
	timer := time.NewTimer(chWait)
	defer timer.Stop()
	for {
		l.mu.Lock()
		vals, ended, notify := append([]T(nil), l.vals...), l.ended, l.notify
		l.mu.Unlock()
		if cond(vals, ended) {
			return vals
		}
		select {
		case <-notify:
		case <-timer.C:
			t.Fatalf("timed out waiting for %s; have %v (ended %v)", what, vals, ended)
		}
	}
}

// waitN waits for the n-th value matching ok and returns it.
func (l *chLog[T]) waitN(t *testing.T, n int, what string, ok func(T) bool) T {
	t.Helper()
	var found T
	l.waitUntil(t, what, func(vals []T, _ bool) bool {
		k := 0
		for _, v := range vals {
			if ok(v) {
				k++
				if k == n {
					found = v
					return true
				}
			}
		}
		return false
	})
	return found
}

func (l *chLog[T]) count(ok func(T) bool) int {
	vals, _ := l.snapshot()
	n := 0
	for _, v := range vals {
		if ok(v) {
			n++
		}
	}
	return n
}

// statusLog records a channel's statuses from now on (starting with the
// current one, which the status stream replays).
func statusLog(t *testing.T, ch *source.Channel) *chLog[source.StatusEvent] {
	t.Helper()
	return chRecord(t, ch.Statuses())
}

// messageLog records a stream derived from ch's messages.
func messageLog[T any](t *testing.T, _ *source.Channel, s stream.Stream[T]) *chLog[T] {
	t.Helper()
	return chRecord(t, s)
}

func isStatus(st source.Status) func(source.StatusEvent) bool {
	return func(ev source.StatusEvent) bool { return ev.Status == st }
}

// waitStatus waits for the n-th occurrence of st.
func waitStatus(t *testing.T, l *chLog[source.StatusEvent], st source.Status, n int) source.StatusEvent {
	t.Helper()
	return l.waitN(t, n, fmt.Sprintf("%v #%d", st, n), isStatus(st))
}

func statusNames(evs []source.StatusEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Status.String()
	}
	return out
}

// inFrames returns the frames the server received with event on topic.
func inFrames(s *realtimetest.Server, topic, event string) []realtimetest.Frame {
	var out []realtimetest.Frame
	for _, f := range s.Frames() {
		if f.Dir == realtimetest.In && f.Msg.Topic == topic && f.Msg.Event == event {
			out = append(out, f)
		}
	}
	return out
}

// waitIn waits until the server has received n frames with event on topic,
// and returns them.
func waitIn(t *testing.T, s *realtimetest.Server, topic, event string, n int) []realtimetest.Frame {
	t.Helper()
	var got []realtimetest.Frame
	chEventually(t, func() bool {
		got = inFrames(s, topic, event)
		return len(got) >= n
	}, "%d %s frames on %s", n, event, topic)
	return got
}

// waitOut waits for a frame the server sent matching ok.
func waitOut(t *testing.T, s *realtimetest.Server, ok func(phoenix.Message) bool) realtimetest.Frame {
	t.Helper()
	f, err := s.WaitFor(chCtx(t), func(f realtimetest.Frame) bool { return f.Dir == realtimetest.Out && ok(f.Msg) })
	require.NoError(t, err)
	return f
}

// joinPayload decodes the payload of a recorded phx_join.
type wireJoin struct {
	Config struct {
		Broadcast struct {
			Ack    bool `json:"ack"`
			Self   bool `json:"self"`
			Replay *struct {
				Since int64 `json:"since"`
				Limit int   `json:"limit"`
			} `json:"replay"`
		} `json:"broadcast"`
		Presence struct {
			Key     string `json:"key"`
			Enabled bool   `json:"enabled"`
		} `json:"presence"`
		PostgresChanges []map[string]any `json:"postgres_changes"`
		Private         bool             `json:"private"`
	} `json:"config"`
	AccessToken *string `json:"access_token"`
}

func decodeJoin(t *testing.T, f realtimetest.Frame) wireJoin {
	t.Helper()
	var j wireJoin
	require.NoError(t, json.Unmarshal(f.Msg.Payload, &j), "join payload %s", f.Msg.Payload)
	return j
}

// rawV2 renders a vsn 2.0.0 text frame; empty refs become null.
func rawV2(joinRef, ref, topic, event, payload string) []byte {
	q := func(s string) string {
		if s == "" {
			return "null"
		}
		return `"` + s + `"`
	}
	return []byte("[" + strings.Join([]string{q(joinRef), q(ref), `"` + topic + `"`, `"` + event + `"`, payload}, ",") + "]")
}

// inject writes a raw vsn 2.0.0 text frame to every client of s.
func inject(s *realtimetest.Server, joinRef, ref, topic, event, payload string) {
	s.Faults().SendRaw(rawV2(joinRef, ref, topic, event, payload), false)
}

// every runs f every d on a goroutine of its own (a fault injected again and again) until the returned
// stop is called; stop waits for the goroutine to end.
func every(d time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for {
			select {
			case <-done:
				return
			case <-time.After(d):
			}
			f()
		}
	}()
	return func() {
		close(done)
		<-ended
	}
}
