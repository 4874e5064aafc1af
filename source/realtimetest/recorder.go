package realtimetest

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// ConnID identifies one WebSocket connection of a [Server], in accept order
// starting at 1.
type ConnID uint64

// Direction tells whether a [Frame] was received or sent by the server.
type Direction uint8

const (
	// In is a frame the server received from a client.
	In Direction = iota + 1
	// Out is a frame the server wrote to a client.
	Out
)

// String returns "in" or "out".
func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	}
	return "direction(" + strconv.Itoa(int(d)) + ")"
}

// Frame is one recorded WebSocket data frame.
//
// Out frames are recorded as they are handed to the socket (just before the
// write, so a client never sees a frame the recorder lacks); a frame dropped
// by a fault (half-open, dropped replies) is not recorded. In frames are
// recorded as they arrive, before the server acts on them, malformed ones
// included (with Err set).
type Frame struct {
	// Seq numbers frames in recording order, from 1.
	Seq int
	// Dir is In or Out.
	Dir Direction
	// Conn is the connection the frame travelled on.
	Conn ConnID
	// Time is when the frame was recorded.
	Time time.Time
	// Data is the frame's payload exactly as on the wire. It must not be
	// modified.
	Data []byte
	// Binary reports a binary (rather than text) frame.
	Binary bool
	// Msg is the decoded message: for In frames as the connection's
	// serializer decoded it, for Out frames the message that was encoded. It
	// is the zero Message when Err is set. Its byte slices alias Data.
	Msg phoenix.Message
	// Err is the decode error of a malformed In frame (it wraps
	// phoenix.ErrMalformed); such frames are otherwise ignored, as the real
	// server ignores them.
	Err error
}

// String renders the frame for test logs, e.g.
// `#3 out conn 1 text ["1","1","realtime:room","phx_reply",{...}]`.
func (f Frame) String() string {
	kind := "text"
	body := string(f.Data)
	if f.Binary {
		kind = "binary"
		body = fmt.Sprintf("% x", f.Data)
	} else if !utf8.ValidString(body) {
		body = strconv.Quote(body)
	}
	s := fmt.Sprintf("#%d %s conn %d %s %s", f.Seq, f.Dir, f.Conn, kind, body)
	if f.Err != nil {
		s += " (malformed: " + f.Err.Error() + ")"
	}
	return s
}

// recorder keeps the frames and wakes waiters.
type recorder struct {
	limit  int // max frames kept; 0 keeps none, -1 keeps all
	mu     sync.Mutex
	frames []Frame
	seq    int
	notify chan struct{} // closed and replaced on every add
}

func (r *recorder) add(f Frame) {
	if r.limit == 0 {
		return
	}
	r.mu.Lock()
	r.seq++
	f.Seq = r.seq
	if r.limit > 0 && len(r.frames) >= 2*r.limit {
		// Keep the newest limit-1; a fresh slice, so snapshots and waiters
		// holding the old one are unaffected.
		r.frames = append(make([]Frame, 0, 2*r.limit), r.frames[len(r.frames)-r.limit+1:]...)
	}
	r.frames = append(r.frames, f)
	if r.notify != nil {
		close(r.notify)
		r.notify = nil
	}
	r.mu.Unlock()
}

func (r *recorder) snapshot() []Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	frames := r.frames
	if r.limit > 0 && len(frames) > r.limit {
		frames = frames[len(frames)-r.limit:]
	}
	return append([]Frame(nil), frames...)
}

func (r *recorder) clear() {
	r.mu.Lock()
	r.frames = nil
	r.mu.Unlock()
}

// waitFor returns the first recorded frame (past or future) for which match
// is true. match runs without the recorder's lock held.
func (r *recorder) waitFor(ctx context.Context, match func(Frame) bool) (Frame, error) {
	lastSeq := 0
	for {
		r.mu.Lock()
		pending := r.frames // append-only until cleared; elements never change
		if r.notify == nil {
			r.notify = make(chan struct{})
		}
		ch := r.notify
		r.mu.Unlock()
		from := sort.Search(len(pending), func(i int) bool { return pending[i].Seq > lastSeq })
		for _, f := range pending[from:] {
			lastSeq = f.Seq
			if match(f) {
				return f, nil
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Frame{}, fmt.Errorf("realtimetest: no matching frame: %w", ctx.Err())
		}
	}
}
