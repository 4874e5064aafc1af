package source

import (
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

// statusFeed is a channel's status stream: a hub that never waits (statuses
// are emitted under the channel's lock, in exactly the order the state
// machine decided them) and replays the current status to a new consumer,
// so one that starts observing after Subscribe returned still sees
// SUBSCRIBED.
type statusFeed struct{ hub *stream.Hub[StatusEvent] }

func newStatusFeed() statusFeed {
	return statusFeed{hub: stream.NewHub[StatusEvent](stream.ReplayLatest(),
		stream.WithDefaults(stream.DropOldest(), stream.WithBuffer(statusQueueMax)))}
}

// emit publishes ev to every consumer without blocking.
func (f statusFeed) emit(ev StatusEvent) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	f.hub.Emit(ev)
}

// complete ends every consumer's stream once it has read what is queued.
func (f statusFeed) complete() { f.hub.Complete(nil) }

// current returns the last status emitted.
func (f statusFeed) current() (StatusEvent, bool) { return f.hub.Latest() }

func (f statusFeed) stream() stream.Stream[StatusEvent] { return f.hub.Stream() }
