package source

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Writes are behind a per-session writer ("group commit"): callers encode their message on their own
// goroutine into the session's write queue and wake the writer, which takes everything queued and writes it
// with one flush (transport.Conn.WriteFrames). A push waiting for no reply returns once queued.
//
// When the session ends, what the writer never took goes back to the front of the offline buffer, in order,
// as if it had been buffered offline (ended then drops the control messages, as outbox.go says). Of the batch
// whose write failed, which may or may not have reached the server, the pushes waiting for no reply go back
// too (at least once, as the offline flush always did); pushes waiting for a reply were marked as sent on
// the session and fail with it (pendingTable.failSession); the rest is dropped.

// Bounds of a session's write queue. A push that finds it full waits for the writer to take it (bounded by
// its ctx and the session's end); control messages and heartbeats never wait: they are queued past the
// bound, so the reader, which may send them, never waits on the network.
const (
	writeQueueBytes = 256 << 10
	writeQueueMsgs  = 4096
)

// writeBufferSize is the socket's write buffer (transport.WithWriteBufferSize): a batch that fits is one
// socket write.
const writeBufferSize = 32 << 10

// errSessionEnded is what enqueue returns once the session's queue was handed back: the caller tries the
// client's current session or the offline buffer instead.
var errSessionEnded = errors.New("rxrealtime: session ended")

// queued kinds: how a queued message is handled when its session ends.
const (
	qNoReply = iota // a push waiting for no reply
	qReply          // a push waiting for its reply (in the pending table)
	qSession        // bound to its session (a heartbeat): dropped when the session ends
)

// qitem is one queued frame: buf[start:end] of its batch.
type qitem struct {
	m      *phoenix.Message
	end    int
	binary bool
	kind   uint8
}

// qbatch is a set of encoded frames: the queue fills one while the writer writes the other.
type qbatch struct {
	buf   []byte
	items []qitem
}

func (b *qbatch) reset() {
	clear(b.items) // no message outlives its write
	b.items = b.items[:0]
	if cap(b.buf) > writeQueueBytes {
		b.buf = nil // do not keep the buffer of one huge message
	} else {
		b.buf = b.buf[:0]
	}
}

// writeQueue is a session's pending writes.
type writeQueue struct {
	mu      sync.Mutex
	q       qbatch
	writing bool          // the writer holds a batch
	closed  bool          // the session ended: the queue was handed back
	failed  []qitem       // the batch whose write failed
	space   chan struct{} // closed when the writer takes the queue; nil when nobody waits
	idle    chan struct{} // closed when the queue is empty and nothing is being written; nil when nobody waits
	wake    chan struct{} // cap 1: something was queued
	stop    chan struct{} // closed when the session ends
}

func (q *writeQueue) init() {
	q.wake = make(chan struct{}, 1)
	q.stop = make(chan struct{})
}

// enqueue encodes m into the session's write queue. wait is false for messages that must never wait for
// space (control messages, heartbeats). It returns errSessionEnded once the session's queue was handed back,
// ctx's error if ctx ended while waiting for space, or m's encoding error.
func (s *session) enqueue(ctx context.Context, m *phoenix.Message, kind uint8, wait bool) error {
	q := &s.wq
	q.mu.Lock()
	for wait && !q.closed && len(q.q.items) > 0 && (len(q.q.buf) >= writeQueueBytes || len(q.q.items) >= writeQueueMsgs) {
		if q.space == nil {
			q.space = make(chan struct{})
		}
		space := q.space
		q.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return ctx.Err()
		}
		q.mu.Lock()
	}
	if q.closed {
		q.mu.Unlock()
		return errSessionEnded
	}
	buf, binary, err := s.c.ser.Encode(q.q.buf, m)
	if err != nil {
		q.mu.Unlock()
		return err
	}
	q.q.buf = buf
	q.q.items = append(q.q.items, qitem{m: m, end: len(buf), binary: binary, kind: kind})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// writer writes what is queued, one batch per flush, until the session ends or a write fails.
func (s *session) writer() {
	q := &s.wq
	var spare qbatch
	var frames []transport.Frame
	for {
		select {
		case <-q.wake:
		case <-q.stop:
			return
		}
		for {
			q.mu.Lock()
			if len(q.q.items) == 0 {
				q.writing = false
				if q.idle != nil {
					close(q.idle)
					q.idle = nil
				}
				q.mu.Unlock()
				break
			}
			b := q.q
			q.q = spare
			q.writing = true
			if q.space != nil {
				close(q.space)
				q.space = nil
			}
			q.mu.Unlock()

			s.c.pending.markSentBatch(b.items, s.id)
			frames = frames[:0]
			start := 0
			for _, it := range b.items {
				frames = append(frames, transport.Frame{Data: b.buf[start:it.end], Binary: it.binary})
				start = it.end
			}
			// The transport bounds the write by its write timeout.
			err := s.conn.WriteFrames(context.Background(), frames...)
			clear(frames) // keep no frame data alive
			if err != nil {
				q.mu.Lock()
				q.failed = b.items
				q.mu.Unlock()
				s.fail(fmt.Errorf("%w: %w", ErrConnectionLost, err), transport.StatusNormalClosure, "")
				return
			}
			s.c.ctr.framesOut.Add(uint64(len(b.items)))
			s.c.ctr.bytesOut.Add(uint64(len(b.buf)))
			b.reset()
			spare = b
		}
	}
}

// drain waits until everything queued so far was written, the session ended, or ctx ended.
func (s *session) drain(ctx context.Context) {
	q := &s.wq
	q.mu.Lock()
	if q.closed || len(q.q.items) == 0 && !q.writing {
		q.mu.Unlock()
		return
	}
	if q.idle == nil {
		q.idle = make(chan struct{})
	}
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// handBack closes the queue of an ended session (its writer has returned) and returns, in order, what
// may go back to the offline buffer: the failed batch's pushes waiting for no reply (not its control
// messages), then every message the writer never took but heartbeats.
func (s *session) handBack() []qitem {
	q := &s.wq
	q.mu.Lock()
	q.closed = true
	failed, rest := q.failed, q.q.items
	q.failed, q.q = nil, qbatch{}
	if q.space != nil {
		close(q.space)
		q.space = nil
	}
	if q.idle != nil {
		close(q.idle)
		q.idle = nil
	}
	q.mu.Unlock()
	back := failed[:0]
	for _, it := range failed {
		if it.kind == qNoReply && !isControl(it.m) {
			back = append(back, it)
		}
	}
	for _, it := range rest {
		if it.kind != qSession {
			back = append(back, it)
		}
	}
	return back
}

// markSentBatch records that the batch's pushes waiting for a reply went out on session.
func (t *pendingTable) markSentBatch(items []qitem, session uint64) {
	if !hasReply(items) {
		return
	}
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

func hasReply(items []qitem) bool {
	for _, it := range items {
		if it.kind != qNoReply {
			return true
		}
	}
	return false
}
