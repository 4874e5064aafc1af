package socket

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Queue and write: the outgoing step of the frame path. Writes are behind a per-session writer ("group
// commit"): callers encode their message on their own goroutine into the session's write queue and wake
// the writer, which takes everything queued and writes it with one flush (transport.Conn.WriteFrames). A
// push waiting for no reply returns once queued. A message whose frame is larger than the server's limit
// is refused here, before it is queued.
//
// When the session ends, what the writer never took is handed back in order (end, in session.go): to the
// offline buffer, or to the channel whose join it names; control messages are dropped (outbox.go). Of the
// batch whose write failed, which may or may not have reached the server, the pushes waiting for no reply
// go back too (at least once); pushes waiting for a reply were marked as written on the session and fail
// with it. A frame the server closed the socket for (1009, 1007, 1003) is never handed back (poisoned).

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

// queued kinds: how a queued message is handled when its session ends.
const (
	qNoReply = iota // a push waiting for no reply
	qReply          // a push waiting for its reply (in the pending table)
	qSession        // bound to its session (a heartbeat): dropped when the session ends
)

// qitem is one queued frame: buf[end-size:end] of its batch.
type qitem struct {
	m       *phoenix.Message
	end     int
	size    int
	binary  bool
	kind    uint8
	traffic *Traffic // its series in the traffic table; nil when the table is off
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
	recent  []qitem       // written since the last heartbeat reply: what a close the server made for a frame may be for
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
// space (control messages, heartbeats). It returns errSessionEnded once the session's queue was handed
// back, ctx's error if ctx ended while waiting for space, a *FrameSizeError for a frame larger than the
// limit, or m's encoding error.
func (ss *session) enqueue(ctx context.Context, m *phoenix.Message, kind uint8, wait bool) error {
	q := &ss.wq
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
	start := len(q.q.buf)
	buf, binary, err := ss.s.cfg.Serializer.Encode(q.q.buf, m)
	if err != nil {
		q.mu.Unlock()
		return err
	}
	if size, limit := len(buf)-start, ss.s.cfg.MaxFrameSize; int64(size) > limit {
		q.q.buf = buf[:start]
		q.mu.Unlock()
		return &FrameSizeError{Size: size, Limit: int(limit)}
	}
	q.q.buf = buf
	var tr *Traffic
	if t := ss.s.traffic; t != nil {
		// The series is found now, on the sender's goroutine: once written, a push waiting for its reply
		// may be answered and its payload given back to its caller before the writer counts it.
		tr = t.seriesOf(m)
	}
	q.q.items = append(q.q.items, qitem{m: m, end: len(buf), size: len(buf) - start, binary: binary, kind: kind, traffic: tr})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// writer writes what is queued, one batch per flush, until the session ends or a write fails.
func (ss *session) writer() {
	q := &ss.wq
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

			ss.s.pending.markWritten(b.items, ss.id)
			q.mu.Lock()
			forgot := q.wrote(b.items)
			q.mu.Unlock()
			ss.s.accepted(forgot)
			frames = frames[:0]
			for _, it := range b.items {
				frames = append(frames, transport.Frame{Data: b.buf[it.end-it.size : it.end], Binary: it.binary})
			}
			// The transport bounds the write by its write timeout.
			err := ss.conn.WriteFrames(context.Background(), frames...)
			clear(frames) // keep no frame data alive
			if err != nil {
				q.mu.Lock()
				q.failed = b.items
				q.mu.Unlock()
				ss.writeFailed(err)
				return
			}
			ss.s.retried.written(b.items)
			ss.s.framesOut.Add(uint64(len(b.items)))
			ss.s.bytesOut.Add(uint64(len(b.buf)))
			if t := ss.s.traffic; t != nil {
				t.mu.Lock()
				for _, it := range b.items {
					if c := it.traffic; c != nil {
						c.MessagesOut++
						c.BytesOut += uint64(it.size)
					}
				}
				t.mu.Unlock()
			}
			b.reset()
			spare = b
		}
	}
}

// maxRecent bounds the frames remembered as written since the last heartbeat reply.
const maxRecent = 256

// wrote remembers items as written: the server has not yet shown it processed them. It returns the size
// of the largest frame it forgot to stay within its bound (0 if none). q.mu held.
func (q *writeQueue) wrote(items []qitem) (forgot int) {
	q.recent = append(q.recent, items...)
	if n := len(q.recent) - maxRecent; n > 0 {
		// Past the bound the oldest go: the server has most likely processed them.
		forgot = largestSize(q.recent[:n])
		k := copy(q.recent, q.recent[n:])
		clear(q.recent[k:])
		q.recent = q.recent[:k]
	}
	return forgot
}

// accepted records that the server processed a frame of n bytes.
func (s *Socket) accepted(n int) {
	for {
		cur := s.acceptedSize.Load()
		if int64(n) <= cur || s.acceptedSize.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

func largestSize(items []qitem) int {
	n := 0
	for _, it := range items {
		n = max(n, it.size)
	}
	return n
}

// processed forgets the frames written up to and including m: a reply to m shows the server processed
// them (it handles a socket's frames in order). The heartbeat calls it with each heartbeat answered. It
// returns the size of the largest frame it forgot (0 if none).
func (q *writeQueue) processed(m *phoenix.Message) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, it := range q.recent {
		if it.m == m {
			done := largestSize(q.recent[:i+1])
			n := copy(q.recent, q.recent[i+1:])
			clear(q.recent[n:])
			q.recent = q.recent[:n]
			return done
		}
	}
	return 0
}

// writeFailGrace is how long a failed write leaves the session to its reader before ending it.
const writeFailGrace = 250 * time.Millisecond

// writeFailed ends the session after a failed write. A peer that closed the socket (for a frame it would
// not take, say) sent its close frame first: the reader reports it, with its code, once it has read what
// the peer sent, so the session is left to the reader for a moment; ending it at once would lose the code
// (and with it which frame is poisoned) to a race. The transport has already ended a connection whose
// write timed out.
func (ss *session) writeFailed(err error) {
	t := time.NewTimer(writeFailGrace)
	defer t.Stop()
	select {
	case <-ss.readDone:
	case <-t.C:
	}
	ss.fail(err, transport.StatusNormalClosure, "")
}

// drain waits until everything queued so far was written, the session ended, or ctx ended.
func (ss *session) drain(ctx context.Context) {
	q := &ss.wq
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

// handBack closes the queue of an ended session (its writer has returned) and returns, in order, what may
// be sent again — the failed batch's pushes waiting for no reply (not its control messages), then every
// message the writer never took but heartbeats — and, apart, the frames the server closed the session
// for (cause), among those written since its last heartbeat reply: those are never sent again.
func (ss *session) handBack(cause error) (back, poisoned []qitem) {
	q := &ss.wq
	q.mu.Lock()
	q.closed = true
	failed, rest, recent := q.failed, q.q.items, q.recent
	q.failed, q.q, q.recent = nil, qbatch{}, nil
	if q.space != nil {
		close(q.space)
		q.space = nil
	}
	if q.idle != nil {
		close(q.idle)
		q.idle = nil
	}
	q.mu.Unlock()
	// The suspects: what was written since the server last showed it had processed what it was sent, and
	// the whole failed batch (a batch may hold more frames than are remembered).
	suspects := recent
	for _, it := range failed {
		if !slices.ContainsFunc(recent, func(r qitem) bool { return r.m == it.m }) {
			suspects = append(suspects, it)
		}
	}
	poison := poisonOf(cause, suspects, int(ss.s.acceptedSize.Load()))
	for _, it := range suspects {
		if poison(it) {
			poisoned = append(poisoned, it)
		}
	}
	for _, it := range failed {
		if it.kind != qNoReply || isControl(it.m) || poison(it) {
			continue
		}
		if ss.s.retried.again(it.m) {
			// Its write failed once before already: a peer that resets the connection for a frame (its
			// close frame lost to the reset) is not given it a third time.
			poisoned = append(poisoned, it)
			continue
		}
		back = append(back, it)
	}
	for _, it := range rest {
		if it.kind != qSession {
			back = append(back, it)
		}
	}
	return back, poisoned
}

// poisonOf returns which of suspects (written since the last heartbeat reply, in the order written) the
// server closed the session for, by the code of its close: 1003 (unsupported data) the binary frames, 1007
// (invalid payload data) the text frames — or, when no frame fits, all of them — and 1009 (message too
// big) each frame that may have been the first over the server's limit. That limit is unknown, but at
// least accepted (the largest frame the server has shown it processed), and the server reads in order:
// the frame it closed for is larger than accepted and than every frame written before it. Each suspect
// that is so is taken for it (more than one when frames of growing size were in flight: the ones the
// server read are not sent twice, and the larger ones would be refused too); if none is, the largest. Any
// other end poisons nothing.
func poisonOf(cause error, suspects []qitem, accepted int) func(qitem) bool {
	var ce *transport.CloseError
	if !errors.As(cause, &ce) || len(suspects) == 0 {
		return func(qitem) bool { return false }
	}
	var match func(qitem) bool
	switch ce.Code {
	case transport.StatusMessageTooBig:
		set := map[*phoenix.Message]bool{}
		top := accepted
		for _, it := range suspects {
			if it.size > top {
				set[it.m], top = true, it.size
			}
		}
		if len(set) == 0 {
			largest := suspects[0]
			for _, it := range suspects[1:] {
				if it.size > largest.size {
					largest = it
				}
			}
			set[largest.m] = true
		}
		return func(it qitem) bool { return set[it.m] }
	case transport.StatusUnsupportedData:
		match = func(it qitem) bool { return it.binary }
	case transport.StatusInvalidPayload:
		match = func(it qitem) bool { return !it.binary }
	default:
		return func(qitem) bool { return false }
	}
	set := map[*phoenix.Message]bool{}
	for _, it := range suspects {
		if match(it) {
			set[it.m] = true
		}
	}
	if len(set) == 0 {
		for _, it := range suspects {
			set[it.m] = true
		}
	}
	return func(it qitem) bool { return set[it.m] }
}

// retries remembers the pushes waiting for no reply whose write failed once, until they are written: a
// second failure ends their retries.
type retries struct {
	mu sync.Mutex
	m  map[*phoenix.Message]bool
}

// again records that m's write failed; it reports whether it had failed before.
func (r *retries) again(m *phoenix.Message) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[m] {
		delete(r.m, m)
		return true
	}
	if r.m == nil {
		r.m = make(map[*phoenix.Message]bool)
	}
	r.m[m] = true
	return false
}

// written forgets the items that were written.
func (r *retries) written(items []qitem) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m) == 0 {
		return
	}
	for _, it := range items {
		delete(r.m, it.m)
	}
}
