package source

import (
	"context"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/stream"
)

// Status is a channel's subscription status, as realtime-js reports it.
type Status uint8

const (
	// StatusJoining: a join is in flight.
	StatusJoining Status = iota
	// StatusSubscribed: the join succeeded (and, with WithWaitForPostgres, the
	// server reported PostgreSQL ready). Fires again after every rejoin.
	StatusSubscribed
	// StatusTimedOut: no join reply in time; a phx_leave for that join
	// and a rejoin follow.
	StatusTimedOut
	// StatusChannelError: the join was refused, the server errored the
	// channel, or the socket dropped; a rejoin follows unless Err wraps
	// ErrBindingMismatch.
	StatusChannelError
	// StatusClosed: the channel was left or the server closed it. Err says
	// why (nil after Unsubscribe). Only a close for an expired token is
	// followed by a rejoin (see WithoutRejoinOnTokenExpiry); otherwise it is
	// the last status and the stream completes.
	StatusClosed
)

// String returns the realtime-js name of the status.
func (s Status) String() string {
	switch s {
	case StatusJoining:
		return "JOINING"
	case StatusSubscribed:
		return "SUBSCRIBED"
	case StatusTimedOut:
		return "TIMED_OUT"
	case StatusChannelError:
		return "CHANNEL_ERROR"
	case StatusClosed:
		return "CLOSED"
	}
	return "UNKNOWN"
}

// StatusEvent is one status change of a channel.
type StatusEvent struct {
	Status Status
	// Err says why, for TimedOut, ChannelError and Closed.
	Err error
	At  time.Time
}

// statusQueueMax bounds the statuses queued for one slow consumer; past
// it the oldest are dropped (a consumer that does not read its statuses
// must not grow memory while a channel rejoins forever).
const statusQueueMax = 256

// statusFeed is a channel's status stream. Unlike a stream.Hub it never
// blocks the emitter, so statuses are emitted under the channel's lock
// and reach every consumer in exactly the order the state machine decided
// them; and a new consumer first receives the current status, so one that
// starts observing after Subscribe returned still sees SUBSCRIBED.
type statusFeed struct {
	mu      sync.Mutex
	last    StatusEvent
	hasLast bool
	done    bool
	subs    []*statusSub
}

type statusSub struct {
	mu     sync.Mutex
	queue  []StatusEvent
	closed bool
	wake   chan struct{} // capacity 1
}

func (s *statusSub) push(ev StatusEvent) {
	s.mu.Lock()
	if len(s.queue) >= statusQueueMax {
		s.queue = append(s.queue[:0], s.queue[1:]...)
	}
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	s.signal()
}

func (s *statusSub) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.signal()
}

func (s *statusSub) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// emit publishes ev to every consumer without blocking.
func (f *statusFeed) emit(ev StatusEvent) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	f.last, f.hasLast = ev, true
	for _, s := range f.subs {
		s.push(ev)
	}
}

// complete ends every consumer's stream once it has read what is queued.
func (f *statusFeed) complete() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	f.done = true
	for _, s := range f.subs {
		s.close()
	}
	f.subs = nil
}

// current returns the last status emitted.
func (f *statusFeed) current() (StatusEvent, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last, f.hasLast
}

func (f *statusFeed) remove(s *statusSub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.subs {
		if x == s {
			f.subs = append(f.subs[:i], f.subs[i+1:]...)
			return
		}
	}
}

// settled is a completed hub. Running its stream reports "registered" to
// the readiness of the consumer's Observe or Subscribe, which the status
// stream declares (through Derive) and reports once its own registration
// is done: Observe(ch.Statuses()) returns only when no status can be
// missed any more.
var settled = func() *stream.Hub[struct{}] {
	h := stream.NewHub[struct{}]()
	h.Complete(nil)
	return h
}()

func (f *statusFeed) stream() stream.Stream[StatusEvent] {
	return stream.Derive(settled.Stream(), func(ctx context.Context, emit func(StatusEvent) bool) error {
		s := &statusSub{wake: make(chan struct{}, 1)}
		f.mu.Lock()
		if f.hasLast {
			s.queue = append(s.queue, f.last)
		}
		if f.done {
			s.closed = true
		} else {
			f.subs = append(f.subs, s)
		}
		f.mu.Unlock()
		defer f.remove(s)
		_ = settled.Stream().Run(ctx, nil) // registered: report readiness
		for {
			s.mu.Lock()
			q, closed := s.queue, s.closed
			s.queue = nil
			s.mu.Unlock()
			for _, ev := range q {
				if !emit(ev) {
					return nil
				}
			}
			if len(q) > 0 {
				continue
			}
			if closed {
				return nil
			}
			select {
			case <-s.wake:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
}
