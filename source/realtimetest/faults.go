package realtimetest

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Faults injects failures into a running [Server], to test how a client
// copes with them. Get it with [Server.Faults]. All methods are safe for
// concurrent use and take effect at once for every connection.
type Faults struct {
	s           *Server
	halfOpen    atomic.Bool
	dropReplies atomic.Bool
	replyDelay  atomic.Int64 // nanoseconds
	reject      atomic.Pointer[string]
	dropAfter   atomic.Int64 // frames read from a connection before it is dropped; 0: off
	pgDelay     atomic.Int64 // nanoseconds a postgres_changes subscription takes
	replDown    atomic.Bool
	closeOn     atomic.Pointer[closeRule]
	replayDelay atomic.Int64                  // nanoseconds between replayed messages (SlowReplay)
	hold        atomic.Pointer[chan struct{}] // HoldWrites: closed when writing resumes; nil: not held
}

// closeRule is CloseOn's: the event it closes a connection for, and with which code.
type closeRule struct {
	event string
	code  transport.StatusCode
}

// CloseOn makes the server close a connection with code as soon as it reads a frame whose event — or,
// for a broadcast, whose own event — is event, as a server does for a frame it will not take (1009 for
// one too large, 1007 for invalid data, 1003 for data it does not accept): the frame is recorded, not
// acted on, nothing the connection sends after it is read, and the close frame follows what was already
// queued. It applies until CloseOn is called with "" or Reset.
func (f *Faults) CloseOn(event string, code transport.StatusCode) {
	if event == "" {
		f.closeOn.Store(nil)
		return
	}
	f.closeOn.Store(&closeRule{event: event, code: code})
}

// drops reports whether a frame (a reply or not) must be dropped now. It is
// checked when the frame is produced and again when it is written, so that
// every frame produced while a fault is on is dropped.
func (f *Faults) drops(reply bool) bool {
	return f.halfOpen.Load() || reply && f.dropReplies.Load()
}

// DropAll drops every connection abruptly: the TCP connection is closed
// without a WebSocket close frame, so clients see an abnormal closure
// (1006), as when a network path or a node dies. The listener stays up, so
// clients can reconnect at once.
func (f *Faults) DropAll() {
	f.s.settle()
	f.s.mu.Lock()
	conns := f.s.connList()
	f.s.mu.Unlock()
	for _, c := range conns {
		_ = c.tc.CloseNow()
	}
}

// SetHalfOpen makes the server stop writing anything while keeping every
// TCP connection open and still reading (and recording) what clients send:
// heartbeats go unanswered, as on a half-open connection. Frames produced
// meanwhile are lost. SetHalfOpen(false) resumes writing. WebSocket-level
// pings are still answered by the transport (Supabase Realtime clients rely
// on Phoenix heartbeats, not pings); use DropAll or Stop to cut those too.
func (f *Faults) SetHalfOpen(on bool) { f.halfOpen.Store(on) }

// HoldWrites(true) makes the server keep what it produces for every
// connection (replies included) instead of writing it; HoldWrites(false)
// writes everything kept, in order, as fast as each socket takes it: a
// saturating burst of whatever was emitted meanwhile. Heartbeats go
// unanswered while writes are held.
func (f *Faults) HoldWrites(on bool) {
	if on {
		ch := make(chan struct{})
		f.hold.CompareAndSwap(nil, &ch)
		return
	}
	if ch := f.hold.Swap(nil); ch != nil {
		close(*ch)
	}
}

// held returns the channel a writer waits on while writes are held; nil when they are not.
func (f *Faults) held() <-chan struct{} {
	if ch := f.hold.Load(); ch != nil {
		return *ch
	}
	return nil
}

// DelayReplies holds every phx_reply (join, heartbeat, leave, acks, ...)
// for d before writing it; frames queued behind a held reply wait too, as
// on a busy server. 0 turns it off.
func (f *Faults) DelayReplies(d time.Duration) { f.replyDelay.Store(int64(max(d, 0))) }

// DropReplies makes the server silently drop every phx_reply (joins,
// heartbeats, leaves, acks) while on; other frames still flow.
func (f *Faults) DropReplies(on bool) { f.dropReplies.Store(on) }

// RejectJoins makes every join fail with reason (for example
// "RealtimeRestarting: Realtime is restarting, please standby") until it is
// called with "". The error reply is delayed like any join error (see
// [WithJoinErrorDelay]).
func (f *Faults) RejectJoins(reason string) {
	if reason == "" {
		f.reject.Store(nil)
		return
	}
	f.reject.Store(&reason)
}

func (f *Faults) rejectReason() string {
	if p := f.reject.Load(); p != nil {
		return *p
	}
	return ""
}

// CloseAll closes every connection with a WebSocket close frame carrying
// code, after the frames already queued. With
// [transport.StatusServiceRestart] (1012) it first tells every joined
// channel {"extension":"system","status":"ok","message":"Server requested
// disconnect"}, as the real server does when a tenant's configuration
// changes; with [transport.StatusGoingAway] (1001) it closes without a
// message, as the real "disconnect" broadcast does (too many joins, tenant
// removed). Other codes close without a message too.
func (f *Faults) CloseAll(code transport.StatusCode) {
	s := f.s
	s.settle()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.connList() {
		if code == transport.StatusServiceRestart {
			for _, ch := range c.channelList() {
				// A fan-out frame: no join_ref, no channel key.
				c.send(phoenix.Message{Topic: ch.topic, Event: phoenix.EventSystem,
					Payload: []byte(`{"extension":"system","status":"ok","message":"Server requested disconnect"}`)}, false)
			}
		}
		c.closeAfterQueued(code)
	}
}

// CrashChannels makes every channel joined on topic ("realtime:<name>"; all
// channels when topic is "") fail as when its channel process crashes: the
// client gets phx_error, [join_ref, join_ref, topic, "phx_error", {}], and
// the channel is gone (its presence leaves). The socket stays open. It
// returns how many channels crashed.
func (f *Faults) CrashChannels(topic string) int {
	return f.endChannels(topic, func(ch *channel) {
		ch.c.send(phoenix.Message{JoinRef: ch.joinRef, Ref: ch.joinRef, Topic: ch.topic, Event: phoenix.EventError, Payload: emptyObject}, false)
		f.s.removeChannel(ch)
	})
}

// ShutdownChannels ends every channel joined on topic (all channels when
// topic is "") the way the real server ends a channel for a fatal
// condition: a system error carrying message (for example "Too many
// messages per second" or "You no longer have permission to read from this
// Channel topic: room"), then phx_close. The socket stays open. It returns
// how many channels were shut down.
func (f *Faults) ShutdownChannels(topic, message string) int {
	return f.endChannels(topic, func(ch *channel) { f.s.shutdown(ch, message) })
}

func (f *Faults) endChannels(topic string, end func(*channel)) int {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ch := range s.allChannels() {
		if topic == "" || ch.topic == topic {
			end(ch)
			n++
		}
	}
	return n
}

// malformedFrame is what SendMalformed writes: a truncated JSON text frame
// that neither serializer can decode.
var malformedFrame = []byte(`{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok"`)

// SendMalformed writes a malformed text frame (truncated JSON) to every
// connection, after the frames already queued.
func (f *Faults) SendMalformed() { f.SendRaw(malformedFrame, false) }

// SendRaw writes data as one text (or binary) frame to every connection,
// after the frames already queued. It is recorded as an Out frame with a
// zero Msg.
func (f *Faults) SendRaw(data []byte, binary bool) {
	s := f.s
	s.settle()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.connList() {
		c.sendEncoded(append([]byte(nil), data...), binary, phoenix.Message{})
	}
}

// Stop takes the server down: the listener closes (new connections are
// refused) and every connection is closed with 1012 (service restart), as
// a draining node does. State tied to connections (channels, presence) is
// gone. Start brings it back on the same address.
func (f *Faults) Stop() {
	s := f.s
	s.run.Lock()
	defer s.run.Unlock()
	s.stop(transport.StatusServiceRestart)
}

// Start listens again on the server's address after Stop. It fails with
// [ErrServerClosed] after Close, or if the port cannot be had again.
func (f *Faults) Start() error {
	s := f.s
	s.run.Lock()
	defer s.run.Unlock()
	s.mu.Lock()
	closed, stopped, addr := s.closed, s.stopped, s.addr
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("realtimetest: start: %w", ErrServerClosed)
	}
	if !stopped {
		return nil
	}
	var err error
	for i := 0; i < 50; i++ { // the port may take a moment to be free again
		if err = s.listen(addr); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// Restart is Stop followed by Start: every connection is closed with 1012
// and the server listens again on the same address, so clients can
// reconnect to the URL they know.
func (f *Faults) Restart() error {
	f.Stop()
	return f.Start()
}

// DropAfterFrames makes the server drop every connection abruptly (as
// DropAll does) once it has read n frames from it, counted from the
// connection's start: a connection that breaks in the middle of what a
// client sends right after connecting (its rejoins and its offline buffer).
// It applies to the connections open now and to later ones until it is
// turned off with 0 or Reset. A connection that CloseOn is already closing
// for a frame closes with CloseOn's code instead.
func (f *Faults) DropAfterFrames(n int) { f.dropAfter.Store(int64(max(n, 0))) }

// DelayPostgres makes every postgres_changes subscription take d to be
// established, as a slow or reconnecting database does: a join with
// bindings gets its "Subscribed to PostgreSQL" system message d after the
// join, and a join with postgres_changes_options {"wait":true} gets its
// reply only then (the socket handles nothing else meanwhile, as the real
// join blocks), or, when d is past the join's wait timeout, the error
// "PostgresChangesSubscribeTimeout: Timed out after <timeout>ms waiting for
// the postgres_changes subscription" once the timeout has passed. 0 turns
// it off (subscriptions are immediate).
func (f *Faults) DelayPostgres(d time.Duration) { f.pgDelay.Store(int64(max(d, 0))) }

// SetReplicationDown makes the tenant's replication connection down
// while on: channels that asked for broadcast.replication_ready get no
// "Replication connection established" message, check again every
// [ReplicationReadyCheckInterval], get it at the first check after
// SetReplicationDown(false), and are shut down with "Replication
// connection was not established in time" at the first check past
// [WithReplicationReadyTimeout].
func (f *Faults) SetReplicationDown(on bool) { f.replDown.Store(on) }

// Reset turns every fault off: no half-open, no delayed or dropped
// replies, no rejected joins, no drop after n frames, no Postgres delay,
// replication up, no CloseOn, writes not held. It does not restart a
// stopped server.
func (f *Faults) Reset() {
	f.HoldWrites(false)
	f.dropAfter.Store(0)
	f.halfOpen.Store(false)
	f.dropReplies.Store(false)
	f.replyDelay.Store(0)
	f.reject.Store(nil)
	f.pgDelay.Store(0)
	f.replDown.Store(false)
	f.closeOn.Store(nil)
	f.replayDelay.Store(0)
}

// ExpireTokens ends every channel joined on topic ("realtime:<name>"; all
// channels when topic is "") as the real server does when a channel's
// access token expires, now, whatever the token's exp: a system error
// "Token has expired 0 seconds ago", then phx_close. The socket stays open.
// A client rejoins such a channel with a fresh token (realtime-js and
// rxrealtime do). It returns how many channels it ended.
func (f *Faults) ExpireTokens(topic string) int {
	return f.endChannels(topic, func(ch *channel) { f.s.shutdown(ch, "Token has expired 0 seconds ago") })
}

// SlowReplay makes each join's broadcast replay go out one message every d
// after the join reply, as when the channel process handles its {:replay}
// message late (RealtimeChannel sends it to itself during the join and
// pushes the messages once the join has returned). Fan-out frames —
// broadcasts, presence diffs, postgres changes, which the real server
// writes to the socket without the channel process — go out meanwhile and
// overtake the replay; the channel's own frames — replies to its pushes,
// system messages, presence_state, phx_close — wait behind its last
// replayed message, as they do in the channel process's mailbox. A live
// broadcast whose id the join replays is still not delivered to it. A
// channel that ends meanwhile sends the rest of its replay and its frames
// first. It applies to joins that start while it is set; 0 turns it off.
func (f *Faults) SlowReplay(d time.Duration) { f.replayDelay.Store(int64(max(d, 0))) }
