package source

import (
	"fmt"
	"sync"
	"time"
)

// JoinLimiter paces the phx_join frames of one or more clients (joins and
// every rejoin: after a reconnect, a join error, a token expiry...), so that
// a reconnect storm does not trip the server's max_joins_per_second. It is a
// token bucket: up to burst joins go out at once, then perSecond joins a
// second. The server's limit is per tenant and averaged over a minute (a
// join is refused with "ClientJoinRateLimitReached: Too many joins per
// second", and the socket closed, once more than 60 × max_joins_per_second
// joins were made in the last minute); a limiter lets through at most
// burst + 60 × perSecond joins in any minute, so keep that under the
// server's budget, less what other clients of the tenant use.
//
// A join that has to wait does not block anyone: the channel keeps its
// status (it reports JOINING when its join goes out) and the join is sent
// from a timer when its turn comes; its join timeout starts then. Joins
// wait in the order they asked. Give the same limiter to several clients
// (with [WithJoinLimiter]) to share one budget; a [Pool] does so for its
// sockets. A JoinLimiter is safe for concurrent use.
type JoinLimiter struct {
	rate  float64 // joins per second
	burst float64

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	waiting map[*Channel]*time.Timer // a paced join is scheduled
	granted map[*Channel]bool        // its turn came: the next join goes out
}

// NewJoinLimiter returns a limiter letting burst joins through at once and
// perSecond joins a second after that. perSecond must be positive and burst
// at least 1, or the error wraps [ErrInvalidOption].
func NewJoinLimiter(perSecond float64, burst int) (*JoinLimiter, error) {
	if !(perSecond > 0) || burst < 1 {
		return nil, fmt.Errorf("%w NewJoinLimiter: rate %v per second with burst %d: need a positive rate and a burst of at least 1",
			ErrInvalidOption, perSecond, burst)
	}
	return &JoinLimiter{
		rate: perSecond, burst: float64(burst), tokens: float64(burst),
		waiting: make(map[*Channel]*time.Timer), granted: make(map[*Channel]bool),
	}, nil
}

// reserveLocked takes a token at now and returns how long its join must
// wait. l.mu held.
func (l *JoinLimiter) reserveLocked(now time.Time) time.Duration {
	if !l.last.IsZero() && now.After(l.last) {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	if now.After(l.last) {
		l.last = now
	}
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rate * float64(time.Second))
}

// pace is called by Channel.join (through its host) before anything else: it reports true
// when the join must not go out now, because its turn has not come (it is
// then sent from a timer) or a paced join of the channel is already on its
// way. Nil-safe: a nil limiter paces nothing.
func (l *JoinLimiter) pace(ch *Channel) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	if l.granted[ch] {
		delete(l.granted, ch)
		l.mu.Unlock()
		return false
	}
	_, waiting := l.waiting[ch]
	l.mu.Unlock()
	if waiting {
		return true
	}
	if !ch.wouldJoin() {
		return false // join does nothing, or only marks the channel errored: no token
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, waiting := l.waiting[ch]; waiting {
		return true
	}
	d := l.reserveLocked(time.Now())
	if d <= 0 {
		return false
	}
	l.waiting[ch] = time.AfterFunc(d, func() { l.turn(ch) })
	return true
}

// turn runs when a paced join's turn comes: it sends it.
func (l *JoinLimiter) turn(ch *Channel) {
	l.mu.Lock()
	if _, ok := l.waiting[ch]; !ok {
		l.mu.Unlock()
		return // forgotten: its client closed
	}
	delete(l.waiting, ch)
	l.granted[ch] = true
	l.mu.Unlock()
	ch.join()
}

// forget drops the paced joins of the channels of h, a client that is closing. Nil-safe.
func (l *JoinLimiter) forget(h host) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch, t := range l.waiting {
		if ch.host == h {
			t.Stop()
			delete(l.waiting, ch)
		}
	}
	for ch := range l.granted {
		if ch.host == h {
			delete(l.granted, ch)
		}
	}
}

// Waiting returns how many joins are waiting for their turn.
func (l *JoinLimiter) Waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.waiting)
}

// wouldJoin reports whether join would send a phx_join now (same checks).
func (ch *Channel) wouldJoin() bool {
	if ch.wire.Session() == 0 {
		return false
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return !ch.isGone() && ch.subscribed && (ch.state == stClosed || ch.state == stErrored)
}
