package socket

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Reply and acknowledgement: a push gets the socket's next ref, waits in the pending table, and its
// phx_reply (found by ref on the reader, route.go) resolves it; a timeout, the end of its session or the
// socket's close fail it instead. Exactly one outcome reaches each push.

// Reply is the server's answer to a push: its status ("ok", "error") and raw response. A reply whose
// status is not "ok" is a reply all the same: the owner decides what error it is.
type Reply struct {
	Status   string
	Response []byte
}

// PushOptions tune one push.
type PushOptions struct {
	// Timeout bounds the wait for the reply.
	Timeout time.Duration
	// NoReply sends without waiting: Push returns once the message is queued (or buffered offline).
	NoReply bool
}

// pending is a push waiting for its reply.
type pending struct {
	topic, event string
	// session is the id of the session the push was written on, 0 while it waits to be written.
	session uint64
	done    func(Reply, error) // called once, on the goroutine that resolves the push
}

func (p *pending) deliver(r Reply, err error) { p.done(r, err) }

// pendingTable correlates replies to pushes by ref.
type pendingTable struct {
	mu    sync.Mutex
	m     map[string]*pending
	grown bool // m has held more than pendingSmall pushes
}

// pendingSmall is how many pending pushes a table keeps its map's room for.
const pendingSmall = 64

func (t *pendingTable) add(ref string, p *pending) {
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[string]*pending)
	}
	t.m[ref] = p
	if len(t.m) > pendingSmall {
		t.grown = true
	}
	t.mu.Unlock()
}

func (t *pendingTable) take(ref string) *pending {
	t.mu.Lock()
	p := t.m[ref]
	if p != nil {
		delete(t.m, ref)
		if len(t.m) == 0 && t.grown {
			// A map never shrinks: after a burst (10,000 joins) its buckets would stay for the socket's
			// lifetime.
			t.m, t.grown = nil, false
		}
	}
	t.mu.Unlock()
	return p
}

func (t *pendingTable) has(ref string) bool {
	t.mu.Lock()
	_, ok := t.m[ref]
	t.mu.Unlock()
	return ok
}

// failWhere fails every push for which match returns true.
func (t *pendingTable) failWhere(match func(*pending) bool, err error) {
	var failed []*pending
	t.mu.Lock()
	for ref, p := range t.m {
		if match(p) {
			delete(t.m, ref)
			failed = append(failed, p)
		}
	}
	t.mu.Unlock()
	for _, p := range failed {
		p.deliver(Reply{}, err)
	}
}

// failSession fails every push written on session (its reply can no longer come), or every push at all
// when session is 0.
func (t *pendingTable) failSession(session uint64, err error) {
	t.failWhere(func(p *pending) bool { return session == 0 || p.session == session }, err)
}

// markWritten records that the batch's pushes waiting for a reply went out on session.
func (t *pendingTable) markWritten(items []qitem, session uint64) {
	t.mu.Lock()
	for _, it := range items {
		if it.kind != qNoReply {
			if p := t.m[it.m.Ref]; p != nil {
				p.session = session
			}
		}
	}
	t.mu.Unlock()
}

// resolve hands a phx_reply to its push.
func (t *pendingTable) resolve(m *phoenix.Message) {
	p := t.take(m.Ref)
	if p == nil {
		return
	}
	status, resp, err := phoenix.ParseReply(m.Payload)
	if err != nil {
		p.deliver(Reply{}, err)
		return
	}
	p.deliver(Reply{Status: status, Response: resp}, nil)
}

// NextRef returns the socket's next ref: one counter per socket shared by pushes, joins and heartbeats.
func (s *Socket) NextRef() string {
	return strconv.FormatUint(s.ref.Add(1), 10)
}

// Push sends m and waits for its reply, the timeout (ErrPushTimeout) or ctx; with NoReply it returns once
// m is queued. m gets the next ref. While no session is open m waits in the offline buffer (its timeout
// running), unless it is bound to a join: then Push fails at once with ErrNoSession. A push whose wait
// ended is withdrawn from the offline buffer; one the writer already holds may still go out.
func (s *Socket) Push(ctx context.Context, m *phoenix.Message, o PushOptions) (Reply, error) {
	if err := ctx.Err(); err != nil {
		return Reply{}, err
	}
	m.Ref = s.NextRef()
	if o.NoReply {
		return Reply{}, s.send(ctx, m, false)
	}
	done := make(chan result, 1)
	s.pending.add(m.Ref, &pending{topic: m.Topic, event: m.Event, done: func(r Reply, err error) {
		select { // once: a push handed back to its channel may be sent again and resolved twice
		case done <- result{r, err}:
		default:
		}
	}})
	if err := s.send(ctx, m, true); err != nil {
		s.pending.take(m.Ref)
		return Reply{}, err
	}
	timer := time.NewTimer(o.Timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.reply, r.err
	case <-timer.C:
		s.pending.take(m.Ref)
		s.unbuffer(m)
		s.pushTimeouts.Add(1)
		s.log(slog.LevelInfo, "rxrealtime: push timed out", slog.String("topic", m.Topic),
			slog.String("event", m.Event), slog.String("ref", m.Ref), slog.Duration("timeout", o.Timeout))
		return Reply{}, ErrPushTimeout
	case <-ctx.Done():
		s.pending.take(m.Ref)
		s.unbuffer(m)
		return Reply{}, ctx.Err()
	}
}

type result struct {
	reply Reply
	err   error
}

// PushAsync sends m and calls done once with its reply, its timeout (ErrPushTimeout), the loss of its
// session or the refusal to queue it. It never blocks on the network. m gets the next ref unless it has
// one (a join, whose ref is its join_ref; a message handed back to its channel). Control messages are
// buffered offline past the buffer's bound: a channel's joins and leaves are never refused by user
// traffic.
func (s *Socket) PushAsync(m *phoenix.Message, timeout time.Duration, done func(Reply, error)) {
	if m.Ref == "" {
		m.Ref = s.NextRef()
	}
	ref := m.Ref
	a := &asyncPush{done: done}
	s.pending.add(ref, &pending{topic: m.Topic, event: m.Event, done: a.finish})
	a.mu.Lock()
	a.timer = time.AfterFunc(timeout, func() {
		if s.pending.take(ref) != nil {
			s.pushTimeouts.Add(1)
			s.unbuffer(m)
			a.finish(Reply{}, ErrPushTimeout)
		}
	})
	a.mu.Unlock()
	if err := s.send(context.Background(), m, true); err != nil {
		if s.pending.take(ref) != nil {
			a.finish(Reply{}, err)
		}
	}
}

// asyncPush finishes an asynchronous push exactly once.
type asyncPush struct {
	mu       sync.Mutex
	timer    *time.Timer
	finished bool
	done     func(Reply, error)
}

func (a *asyncPush) finish(r Reply, err error) {
	a.mu.Lock()
	if a.finished {
		a.mu.Unlock()
		return
	}
	a.finished = true
	t := a.timer
	a.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	a.done(r, err)
}

// OwnPayload returns the payload of a push made with the caller's bytes p: a copy when the push waits for
// no reply. Such a push returns once queued, the caller may then reuse p, and a message sent again after a
// failed write (or flushed from a buffer) is encoded anew from its payload.
func OwnPayload(p []byte, noReply bool) []byte {
	if noReply && len(p) > 0 && &p[0] != &EmptyObject[0] {
		return bytes.Clone(p)
	}
	return p
}

// EmptyObject is the payload "{}", shared.
var EmptyObject = []byte("{}")
