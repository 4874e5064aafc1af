package source

import (
	"sync"
	"sync/atomic"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A join's broadcast replay kept whole (channel_replay.go): while the messages a join replays may still be
// on their way, the live broadcasts that arrive are held, and delivered after the replay.

// maxHeld bounds the live broadcasts held behind a replay: past it they are delivered at once, and the
// replay's end no longer waited for.
const maxHeld = 4096

// fencePayload is a presence push without an event: the server answers it and does nothing else (it
// spends no presence call and counts against no limit).
var fencePayload = []byte(`{"type":"presence"}`)

// replayHold is a channel's replay in progress. The reader holds and releases under mu; the fence's
// outcome may release from another goroutine, emitting under mu, so that a broadcast the reader lets
// through afterwards is delivered after the held ones.
type replayHold struct {
	active atomic.Bool // a replay is in progress: live broadcasts are held
	mu     sync.Mutex
	asked  string           // the join ref of the last join that asked for a replay
	ref    string           // the join whose replay is in progress
	fence  *phoenix.Message // the push whose reply marks the replay's end
	held   []phoenix.Message
}

// ask records that the join ref asks for a replay.
func (h *replayHold) ask(ref string) {
	h.mu.Lock()
	h.asked = ref
	h.mu.Unlock()
}

// open starts holding for the accepted join ref, after releasing what an earlier join held, and returns
// the fence to send; nil when the join asked for no replay.
func (h *replayHold) open(ref, topic string, emit func(phoenix.Message)) *phoenix.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.releaseLocked(emit)
	if ref == "" || h.asked != ref {
		return nil
	}
	h.ref = ref
	h.fence = &phoenix.Message{JoinRef: ref, Topic: topic, Event: phoenix.EventPresence, Payload: fencePayload}
	h.active.Store(true)
	return h.fence
}

// hold keeps a live broadcast m while a replay is in progress; it reports whether it did.
func (h *replayHold) hold(m *phoenix.Message, emit func(phoenix.Message)) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.active.Load() {
		return false
	}
	if len(h.held) >= maxHeld {
		h.releaseLocked(emit)
		return false
	}
	h.held = append(h.held, *m)
	return true
}

// release ends the replay of the join ref ("": whichever) and delivers what was held, in order.
func (h *replayHold) release(ref string, emit func(phoenix.Message)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ref != "" && ref != h.ref {
		return
	}
	h.releaseLocked(emit)
}

func (h *replayHold) releaseLocked(emit func(phoenix.Message)) {
	h.active.Store(false)
	held := h.held
	h.held, h.ref, h.fence = nil, "", nil
	for _, m := range held {
		emit(m)
	}
}

// takeBack delivers what was held if the fence is among msgs, which the socket handed back unwritten
// (the replay's end will not be learnt), drops the fence and returns the others.
func (h *replayHold) takeBack(msgs []socket.Returned, emit func(phoenix.Message)) []socket.Returned {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fence == nil {
		return msgs
	}
	for i, r := range msgs {
		if r.M == h.fence {
			h.releaseLocked(emit)
			out := append([]socket.Returned(nil), msgs[:i]...)
			return append(out, msgs[i+1:]...)
		}
	}
	return msgs
}
