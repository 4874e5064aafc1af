package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/source/rest"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// wire is what a Channel needs of the socket (*socket.Socket): its route, refs, pushes, the open session
// and the serializer's version. Nothing else of the socket is reachable from a channel.
type wire interface {
	// Attach makes the channel the handler of its topic's route.
	Attach(topic string, h socket.Handler) *socket.Route
	// NextRef is the socket's next ref (a join's ref is its join_ref).
	NextRef() string
	// Push sends a message and waits for its reply (or only until it is queued).
	Push(ctx context.Context, m *phoenix.Message, o socket.PushOptions) (socket.Reply, error)
	// PushAsync sends a message and calls done once with its outcome, without blocking.
	PushAsync(m *phoenix.Message, timeout time.Duration, done func(socket.Reply, error))
	// Session is the id of the open session, 0 while none is open.
	Session() uint64
	// Version is the serializer's vsn.
	Version() string
}

// host is what a Channel needs of its client besides the wire: the access token, join pacing, the REST
// client, its registry and the meaning of a push's outcome. *Client implements it.
type host interface {
	accessToken() string
	refreshToken(ctx context.Context) error
	hasTokenProvider() bool
	paceJoin(ch *Channel) bool
	restClient() (*rest.Client, error)
	forget(ch *Channel, err error)
	wantSocket()
	outcome(m *phoenix.Message, r socket.Reply, err error, replied bool, start time.Time) (Reply, error)
}

// chanState is the phoenix.js channel state machine.
type chanState uint8

const (
	stClosed chanState = iota
	stJoining
	stJoined
	stLeaving
	stErrored
)

// Channel is one Realtime channel (topic "realtime:<name>") on a
// [Client]. Create it with [Client.Channel], then [Channel.Subscribe].
// [Client.Share] returns a Channel too: a holder of a shared channel, whose
// join it shares with the other holders of the topic and whose streams,
// statuses and Done are its own (see Share for the rules).
//
// A channel rejoins by itself after a transient join error, a join
// timeout, a server phx_error or a reconnect, with a new join_ref each
// time; messages carrying a stale join_ref are dropped. Its state machine
// runs on the socket's reader goroutine and timers: an idle channel owns
// no goroutine.
//
// Lock order: sendMu, then mu.
type Channel struct {
	name, topic string
	cfg         channelConfig
	wire        wire
	host        host
	ev          *events
	sec         *secrets // the client's secrets, removed from the server's text
	rt          *socket.Route
	stopping    <-chan struct{} // closed when the client's Close begins
	pushTimeout time.Duration
	sendBuffer  int
	maxFrame    int64           // the server's frame limit (WithMaxFrameSize)
	decoders    *stream.Workers // the client's decoding workers, for typed change streams
	allChanges  *stream.Hub[*inboundChange]
	multiTable  bool // the bindings name several tables (see Changes)

	statuses statusFeed
	changes  *stream.Hub[*inboundChange] // the channel's postgres changes, envelopes parsed (channel_deliver.go)
	// msgs is the hub of the channel's messages: its route's (rt.Hub()), or a holder's own.
	msgs *stream.Hub[phoenix.Message]
	// hold is set on a holder of a shared channel (Client.Share): a handle whose streams, statuses and
	// Done are its own, and whose joins and pushes are the shared channel's. nil on every other channel.
	hold *holding
	// shared: this channel is the join of a shared channel, serving its holders (never handed to a
	// user). Set before the channel is published.
	shared bool
	// holders is the shared channel's live holders, copied on write under holdMu and read without a
	// lock on the reader, which hands each of them what the channel receives (eachHolder).
	holders atomic.Pointer[[]*Channel]
	// holdMu orders the holders' arrivals and leaves with the statuses handed to them, and guards dead.
	// Lock order: mu, then holdMu; the registry's lock, then holdMu.
	holdMu sync.Mutex
	// dead: the shared channel takes no new holder (its last holder left it, or it is closed for good).
	// Guarded by holdMu.
	dead    bool
	joinRef atomic.Pointer[string] // "" between a timed-out join and the next
	pgIDs   atomic.Pointer[[]int]  // server ids of the bindings, by binding index
	// presenceSeen: a presence_state arrived once, so presence is on for
	// this channel even if it did not ask (tenant-wide presence).
	presenceSeen atomic.Bool
	// presenceWanted: PresenceEvents was called, which turns presence on
	// for the joins to come (and, once it has a consumer, for the current
	// one: see presenceListening).
	presenceWanted atomic.Bool

	// sendMu orders the channel's joins and leaves on the wire: a leave
	// always names the join that went out before it.
	sendMu sync.Mutex

	mu    sync.Mutex
	state chanState
	// subscribed: Subscribe was called and the channel is not left.
	subscribed  bool
	tries       int
	rejoinTimer *time.Timer
	rejoinGen   uint64 // invalidates timers that fired while being replaced
	pgReady     bool
	upEmitted   bool // SUBSCRIBED emitted for the current join
	everUp      bool // SUBSCRIBED once: from then on the channel rejoins by itself
	joinPresent bool // the current join enabled presence (beside the other bools: no growth past a size class)
	waiters     int  // Subscribe calls waiting
	joinStart   time.Time
	systemErr   string // message of the last system error, for the phx_close after it
	lastErr     error
	joinToken   string        // the access token the current join carried
	joinSession uint64        // the session the current join went out on
	joinedCh    chan struct{} // closed while joined; made by the first waiter (see signal.go)
	upCh        chan struct{} // closed while SUBSCRIBED; made by the first waiter
	refusedCh   chan struct{} // closed when a permanent refusal ended the subscribe attempt
	refusal     error         // that refusal
	replCh      chan struct{} // closed once the current join's replication is ready; nil without WithReplicationReady
	gone        chan struct{} // closed when closed for good
	goneErr     error
	buffer      pushBuffer // pushes waiting for the channel to be joined (channel_push.go)
	presence    presenceState
	gap         *gapState  // WithGapFreeBroadcasts; nil without
	replay      replayHold // a join's replay in progress: live broadcasts wait behind it
}

// holding is what a holder of a shared channel has besides its own streams: the channel whose join it
// shares, and whether it asked to be subscribed.
type holding struct {
	core       *Channel
	subscribed atomic.Bool // Subscribe was called on this holder
}

// joinOf is the channel that joins for ch: ch itself, or for a holder the shared channel.
func (ch *Channel) joinOf() *Channel {
	if ch.hold != nil {
		return ch.hold.core
	}
	return ch
}

// eachHolder calls f for every live holder of a shared channel; nothing for another channel. It reads
// the holders without a lock (the socket's reader calls it for every message of a shared channel).
func (ch *Channel) eachHolder(f func(h *Channel)) {
	if p := ch.holders.Load(); p != nil {
		for _, h := range *p {
			f(h)
		}
	}
}

// emitStatus publishes a status change (publishStatus). One that carries an error is also reported
// ([ChannelError]), once: on the error stream, to the error handler and to the log at Warn. ch.mu held
// (statuses never block).
func (ch *Channel) emitStatus(ev StatusEvent) {
	ch.publishStatus(ev)
	if ev.Err != nil {
		ch.ev.report(&ChannelError{Topic: ch.topic, Status: ev.Status, Err: ev.Err})
	} else {
		ch.ev.log(slog.LevelDebug, "rxrealtime: channel "+ev.Status.String(), slog.String("topic", ch.topic))
	}
}

// publishStatus publishes a status change on the channel's status stream, and on its holders' when it is
// shared. ch.mu held.
func (ch *Channel) publishStatus(ev StatusEvent) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	if !ch.shared {
		ch.statuses.emit(ev)
		return
	}
	ch.holdMu.Lock()
	ch.statuses.emit(ev)
	ch.eachHolder(func(h *Channel) { h.statuses.emit(ev) })
	ch.holdMu.Unlock()
}

// Topic returns the channel's topic, "realtime:<name>".
func (ch *Channel) Topic() string { return ch.topic }

// Name returns the channel's name (the topic without "realtime:").
func (ch *Channel) Name() string { return ch.name }

// Statuses is the hot stream of the channel's status changes. A consumer
// first receives the current status (if the channel has one yet), then
// every change, in order; a consumer that does not keep up loses the
// oldest statuses past 256 queued, and never slows the channel down. The
// stream completes after the final CLOSED, when the channel is closed for
// good.
func (ch *Channel) Statuses() stream.Stream[StatusEvent] { return ch.statuses.stream() }

// Status returns the channel's current status; ok is false before the
// first Subscribe.
func (ch *Channel) Status() (ev StatusEvent, ok bool) { return ch.statuses.current() }

// Messages is the hot stream of every message on the channel's topic
// (replies, broadcasts, postgres_changes, presence, system...), stale
// join_refs removed (and, with [WithGapFreeBroadcasts], broadcasts already
// delivered); the live broadcasts that arrive while a join's replay is on
// its way come after it (see [WithBroadcastReplay]). The typed streams are derived from it. A payload is the
// frame's bytes, which the default serializer does not walk (see
// phoenix.WithLazyPayloads): bound it with phoenix.CheckDepth before a
// decoder that recurses without a limit of its own reads it.
func (ch *Channel) Messages() stream.Stream[phoenix.Message] { return ch.msgs.Stream() }

// Done is closed when the channel is closed for good.
func (ch *Channel) Done() <-chan struct{} { return ch.gone }

// Err is why the channel was closed for good: nil while it lives and after
// [Channel.Unsubscribe]; a [*CloseReason] after a server close; an error
// wrapping [ErrBindingMismatch] after a binding mismatch.
func (ch *Channel) Err() error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.goneErr
}

// isStopping reports whether the client's Close has begun.
func (ch *Channel) isStopping() bool {
	select {
	case <-ch.stopping:
		return true
	default:
		return false
	}
}

// goneError is the error of an operation on the channel once it is closed
// for good: why it closed, and [ErrClosed] too when the client closed it.
func (ch *Channel) goneError() error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.goneErrorLocked()
}

// goneErrorLocked is goneError with ch.mu held.
func (ch *Channel) goneErrorLocked() error {
	err := ch.goneErr
	if err == nil && ch.isStopping() {
		return fmt.Errorf("%w: %w", ErrChannelClosed, ErrClosed)
	}
	return closedErr(err)
}

// closedErr is the error of an operation on a channel closed for good
// because of err (nil: left by the user).
func closedErr(err error) error {
	switch {
	case err == nil:
		return ErrChannelClosed
	case errors.Is(err, ErrChannelClosed):
		return err
	}
	return fmt.Errorf("%w: %w", ErrChannelClosed, err)
}

func (ch *Channel) currentJoinRef() string { return *ch.joinRef.Load() }

// isGone reports whether the channel is closed for good.
func (ch *Channel) isGone() bool {
	select {
	case <-ch.gone:
		return true
	default:
		return false
	}
}

// markUpLocked reports SUBSCRIBED once per join. ch.mu held.
func (ch *Channel) markUpLocked() {
	if ch.upEmitted || ch.state != stJoined {
		return
	}
	ch.upEmitted, ch.everUp = true, true
	fire(&ch.upCh)
	ch.emitStatus(StatusEvent{Status: StatusSubscribed})
}

// leftJoined resets the joined/subscribed signals. ch.mu held.
func (ch *Channel) leftJoined() {
	rearm(&ch.joinedCh)
	rearm(&ch.upCh)
}

// stopRejoinLocked cancels a pending rejoin. ch.mu held.
func (ch *Channel) stopRejoinLocked() {
	ch.rejoinGen++
	if ch.rejoinTimer != nil {
		ch.rejoinTimer.Stop()
		ch.rejoinTimer = nil
	}
}

// result is the outcome of a push.
type result struct {
	reply socket.Reply
	err   error
}

// noJoinRef is the join ref of a channel with no join (shared: refs are
// replaced, never written through).
var noJoinRef = ""

// presenceState is the channel's presence roster, kept with the Phoenix
// sync algorithm from presence_state and presence_diff messages. Metas
// stay raw JSON text here (presence.RawMeta, whose refs share the text);
// typed views decode them for their consumer.
type presenceState struct {
	tracker presence.Tracker[presence.RawMeta]
	events  *stream.Hub[presenceEvent] // fed by the reader, owned by the channel's route
	sender  presenceSender             // Track and Untrack, within the server's limit
}

// presenceEvent is an event of the channel's presence hub.
type presenceEvent = presence.Event[presence.RawMeta]
