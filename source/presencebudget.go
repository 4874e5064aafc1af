package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A channel's presence calls (Track, Untrack) within the server's limit: Supabase allows a channel a few
// presence pushes per window (max_client_presence_events_per_window per client_presence_window_ms, 5 per
// 30 s by default) and shuts the channel down at the next one ("Client presence rate limit exceeded").
// The sender below keeps the calls within the limit: one call in flight at a time, the calls of a join
// spaced so that no window of the server can hold more than the limit, the latest value waiting for the
// window to allow it and replacing any value still waiting (channel_presence.go sends what it decides).

const (
	// DefaultPresenceCalls and DefaultPresenceWindow are a channel's presence limit: Supabase's
	// default of 5 presence calls per 30 s per channel (CLIENT_PRESENCE_MAX_CALLS,
	// CLIENT_PRESENCE_WINDOW_MS). See WithPresenceLimit.
	DefaultPresenceCalls  = 5
	DefaultPresenceWindow = 30 * time.Second
	// presenceMargin is how much later than the window the limit's next call goes out: the server
	// counts in milliseconds from when it received the calls.
	presenceMargin = 100 * time.Millisecond
	// maxPresenceLosses is how many times in a row a presence call may be lost with its session (sent,
	// never answered) before it is given up: a server that closes the socket for the call itself
	// would otherwise be sent it after every reconnect.
	maxPresenceLosses = 3
)

// ErrPresenceSuperseded is returned by [Channel.Track] and [Channel.Untrack] when a later Track or
// Untrack replaced the value before it was sent: it never went out. The later call's value is the one
// the server gets.
var ErrPresenceSuperseded = errors.New("rxrealtime: presence value superseded by a later Track or Untrack before it was sent")

// errPresenceReturned is the outcome of a presence push the socket handed back unwritten when its
// session ended.
var errPresenceReturned = errors.New("rxrealtime: presence push not written before its session ended")

// presenceValue is what a presence call asks the server to hold: a meta, or nothing (an untrack).
type presenceValue struct {
	untrack bool
	payload []byte // the presence push's payload
	canon   []byte // the meta, canonical JSON: two tracks with equal canon are one value to the server
}

// nothingTracked is the value of a join that has tracked nothing.
var nothingTracked = presenceValue{untrack: true}

func (v *presenceValue) equal(o *presenceValue) bool {
	return v.untrack == o.untrack && bytes.Equal(v.canon, o.canon)
}

// trackValue is the value of a Track of meta, a JSON object.
func trackValue(meta []byte) (presenceValue, error) {
	payload, err := json.Marshal(struct {
		Type    string          `json:"type"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
	}{"presence", "track", meta})
	if err != nil {
		return presenceValue{}, err
	}
	return presenceValue{payload: payload, canon: canonicalJSON(meta)}, nil
}

// untrackValue is the value of an Untrack.
var untrackValue = presenceValue{untrack: true, payload: []byte(`{"type":"presence","event":"untrack"}`)}

// presenceCall is a value on its way to the server and the calls that wait for it.
type presenceCall struct {
	value   presenceValue
	waiters []chan error // each buffered 1, told once
	// keep marks a re-track the channel made after a rejoin: it stays when its waiters give up.
	keep bool
}

func (c *presenceCall) resolve(err error) {
	for _, w := range c.waiters {
		w <- err
	}
	c.waiters = nil
}

// presenceOutcome is what became of a presence push.
type presenceOutcome uint8

const (
	presenceOK      presenceOutcome = iota // the server holds the value
	presenceRefused                        // the server refused it and holds what it held
	presenceLost                           // sent, and its session ended before the answer: the server forgot it, send it again
	presenceUnsent                         // never reached a channel process that counts it: send it again
	presenceUnknown                        // it may or may not have been applied (no reply in time)
	presenceFailed                         // the channel or client is closing
)

// presenceSender is a channel's presence calls and their budget. It has its own lock, taken after the
// channel's (sendMu, then mu, then this).
type presenceSender struct {
	mu     sync.Mutex
	calls  int
	window time.Duration

	// joinRef is the join the budget and server state are for: the server counts a channel's calls per
	// join (the channel process), and a new join holds no presence.
	joinRef string
	// stamps are when the calls of the join were answered, the last calls of them: a call goes out only
	// once calls of them are older than the window (and the margin), so that the server, which received
	// each before its answer, never sees more than calls in one window.
	stamps      []time.Time
	pending     *presenceCall // the latest value, not sent yet
	inflight    *presenceCall // sent, not answered
	inflightMsg *phoenix.Message
	seq         uint64 // numbers the pushes: an outcome for another one is stale
	server      presenceValue
	serverKnown bool
	// last is the value to hold again after a rejoin (the server forgets a channel's presence with its
	// join): the last value that went out and was not refused.
	last   *presenceValue
	losses int // presence pushes lost in a row
	timer  *time.Timer
	err    error // set when the channel is closed for good: every call fails with it
}

// setLimit sets the budget: calls per window.
func (s *presenceSender) setLimit(calls int, window time.Duration) {
	s.calls, s.window = calls, window
}

// want records a call for v. w is told the outcome; ref is the channel's current join ref ("" when
// not joined). It returns the call w waits for, nil when w was told at once.
func (s *presenceSender) want(v presenceValue, w chan error, ref string) *presenceCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		w <- s.err
		return nil
	}
	if p := s.pending; p != nil {
		if p.value.equal(&v) {
			p.waiters = append(p.waiters, w)
			return p
		}
		p.resolve(ErrPresenceSuperseded)
		s.pending = nil
	}
	if f := s.inflight; f != nil {
		if f.value.equal(&v) {
			f.waiters = append(f.waiters, w)
			return f
		}
	} else if ref != "" && ref == s.joinRef && s.serverKnown && s.server.equal(&v) {
		// The server holds v already: a call would only spend the budget.
		s.last = &v
		w <- nil
		return nil
	}
	s.pending = &presenceCall{value: v, waiters: []chan error{w}}
	return s.pending
}

// withdraw stops w waiting on call (its ctx ended): a value still waiting to be sent is dropped with
// its last waiter.
func (s *presenceSender) withdraw(call *presenceCall, w chan error) {
	if call == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	call.waiters = slices.DeleteFunc(call.waiters, func(x chan error) bool { return x == w })
	if call == s.pending && len(call.waiters) == 0 && !call.keep {
		s.pending = nil
	}
}

// next decides what to send now for the join ref ("" when the channel cannot send): the push and its
// number, or how long until the window allows the pending value (0: nothing to wait for).
func (s *presenceSender) next(ref, topic string, now time.Time) (m *phoenix.Message, seq uint64, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending
	if s.err != nil || ref == "" || ref != s.joinRef || s.inflight != nil || p == nil {
		return nil, 0, 0
	}
	if s.serverKnown && p.value.equal(&s.server) {
		s.last = &p.value
		p.resolve(nil)
		s.pending = nil
		return nil, 0, 0
	}
	if n := len(s.stamps); n >= s.calls {
		at := s.stamps[n-s.calls].Add(s.window + presenceMargin)
		if now.Before(at) {
			return nil, 0, at.Sub(now)
		}
	}
	s.inflight, s.pending = p, nil
	s.seq++
	s.inflightMsg = &phoenix.Message{JoinRef: ref, Topic: topic, Event: phoenix.EventPresence, Payload: p.value.payload}
	return s.inflightMsg, s.seq, 0
}

// outcome records what became of push seq; it reports whether a value waits to be sent.
func (s *presenceSender) outcome(seq uint64, o presenceOutcome, err error, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	call := s.inflight
	if call == nil || seq != s.seq {
		return false // stale: a rejoin took the call back
	}
	s.inflight, s.inflightMsg = nil, nil
	switch o {
	case presenceOK, presenceRefused, presenceUnknown:
		s.losses = 0
		s.stamps = append(s.stamps, now)
		if len(s.stamps) > s.calls {
			s.stamps = slices.Delete(s.stamps, 0, len(s.stamps)-s.calls)
		}
	}
	switch o {
	case presenceOK:
		s.server, s.serverKnown, s.last = call.value, true, &call.value
		call.resolve(nil)
	case presenceRefused:
		call.resolve(err)
	case presenceUnknown:
		s.serverKnown, s.last = false, &call.value
		call.resolve(err)
	case presenceLost, presenceUnsent:
		if o == presenceLost {
			s.losses++
		}
		switch {
		case o == presenceLost && s.losses >= maxPresenceLosses:
			s.last = nil // given up: not re-tracked either
			call.resolve(err)
		case s.pending == nil:
			s.pending = call // its waiters wait on: it goes out under the next join
		default:
			call.resolve(ErrPresenceSuperseded)
		}
	default:
		call.resolve(err)
	}
	return s.pending != nil
}

// joined starts the budget of an accepted join ref: the server counts anew and holds no presence of
// this channel. A value sent under an earlier join and not answered goes out again, and the last
// value is tracked again if nothing newer waits. It reports whether a value waits to be sent.
func (s *presenceSender) joined(ref string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false
	}
	s.joinRef = ref
	s.stamps = s.stamps[:0]
	s.server, s.serverKnown = nothingTracked, true
	if f := s.inflight; f != nil {
		s.inflight, s.inflightMsg = nil, nil
		s.seq++ // its outcome, if it comes, is stale
		if s.pending == nil {
			s.pending = f
		} else {
			f.resolve(ErrPresenceSuperseded)
		}
	}
	if s.pending == nil && s.last != nil && !s.last.untrack {
		s.pending = &presenceCall{value: *s.last, keep: true}
	}
	return s.pending != nil
}

// arm calls wake after d, in place of any earlier wake.
func (s *presenceSender) arm(d time.Duration, wake func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(d, wake)
}

// abandon fails the calls waiting to be sent with err (a subscribe attempt was abandoned); the last
// value is kept for a later join.
func (s *presenceSender) abandon(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pending; p != nil {
		p.resolve(err)
		s.pending = nil
	}
}

// close fails every call, now and later, with err (the channel is closed for good).
func (s *presenceSender) close(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err = err
	for _, c := range []*presenceCall{s.pending, s.inflight} {
		if c != nil {
			c.resolve(err)
		}
	}
	s.pending, s.inflight, s.inflightMsg = nil, nil, nil
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// takeBack answers the presence push among msgs, which the socket handed back unwritten, as unsent (it
// goes out again under the next join), and returns the others.
func (s *presenceSender) takeBack(msgs []socket.Returned) []socket.Returned {
	s.mu.Lock()
	m := s.inflightMsg
	s.mu.Unlock()
	if m == nil {
		return msgs
	}
	for i, r := range msgs {
		if r.M == m {
			if r.Done != nil {
				r.Done(socket.Reply{}, errPresenceReturned)
			}
			return slices.Delete(slices.Clone(msgs), i, i+1)
		}
	}
	return msgs
}
