package realtimetest

import (
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// channel is one joined topic of one connection (a RealtimeChannel process
// in the real server). All fields are guarded by s.mu.
type channel struct {
	c       *conn
	topic   string // "realtime:<name>"
	name    string // sub-topic
	pubsub  string // pubsub topic: public or private namespace + name
	joinRef string
	private bool
	self    bool
	ack     bool

	presenceEnabled bool
	presenceKey     string
	presenceCalls   int
	presenceResetAt time.Time

	bindings []binding
	pgErr    string // subscription error of the bindings; "" when subscribed

	// replayed holds the ids the join's broadcast replay sent, so live
	// broadcasts with one of them are not delivered again.
	replayed map[string]struct{}
	// A slow replay (Faults.SlowReplay): the messages still to send, the
	// timer that sends the next, and the channel's own frames held behind
	// them while holding.
	replayQueue []*storedMessage
	replayTimer *time.Timer
	holding     bool
	held        []heldFrame

	token    string // current access token
	expTimer *time.Timer
	// pgTimer sends "Subscribed to PostgreSQL" late (Faults.DelayPostgres);
	// replTimer checks replication readiness (broadcast.replication_ready).
	pgTimer, replTimer *time.Timer
	replDeadline       time.Time
	closed             bool
}

// pubsubTopic is the internal topic of a channel name: public and private
// channels of the same name do not see each other.
func pubsubTopic(name string, private bool) string {
	if private {
		return "private:" + name
	}
	return "public:" + name
}

// subscribe adds ch to its pubsub topic. The caller holds s.mu.
func (s *Server) subscribe(ch *channel) {
	set := s.topics[ch.pubsub]
	if set == nil {
		set = map[*channel]struct{}{}
		s.topics[ch.pubsub] = set
	}
	set[ch] = struct{}{}
	ch.c.channels[ch.topic] = ch
}

// removeChannel unsubscribes ch, stops its timers and untracks its
// presence (telling the others). It sends nothing to ch itself. The caller
// holds s.mu.
func (s *Server) removeChannel(ch *channel) {
	if ch.closed {
		return
	}
	ch.closed = true
	s.finishReplay(ch)
	for _, t := range []**time.Timer{&ch.expTimer, &ch.pgTimer, &ch.replTimer, &ch.replayTimer} {
		if *t != nil {
			(*t).Stop()
			*t = nil
		}
	}
	if cur := ch.c.channels[ch.topic]; cur == ch {
		delete(ch.c.channels, ch.topic)
	}
	if set := s.topics[ch.pubsub]; set != nil {
		delete(set, ch)
		if len(set) == 0 {
			delete(s.topics, ch.pubsub)
		}
	}
	if pt := s.presence[ch.pubsub]; pt != nil {
		diff := pt.untrack(ch.presenceKey, ch)
		if pt.isEmpty() {
			delete(s.presence, ch.pubsub)
		}
		s.fanoutPresenceDiff(ch.pubsub, ch.topic, &diff)
	}
}

// sendClose queues phx_close for ch: [join_ref, join_ref, topic, "phx_close", {}].
func (ch *channel) sendClose() {
	ch.c.send(phoenix.Message{JoinRef: ch.joinRef, Ref: ch.joinRef, Topic: ch.topic, Event: phoenix.EventClose, Payload: []byte("{}")}, false)
}

// push queues a channel push: [join_ref, null, topic, event, payload].
func (ch *channel) push(event string, payload []byte) {
	ch.c.send(phoenix.Message{JoinRef: ch.joinRef, Topic: ch.topic, Event: event, Payload: payload}, false)
}

// systemMessage renders {"extension":...,"status":...,"message":...,"channel":...}.
func systemMessage(extension, status, message, channelName string) []byte {
	b := make([]byte, 0, 96+len(message))
	b = append(b, `{"extension":`...)
	b = appendString(b, extension)
	b = append(b, `,"status":`...)
	b = appendString(b, status)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	b = append(b, `,"channel":`...)
	b = appendString(b, channelName)
	return append(b, '}')
}

// shutdown ends ch the way RealtimeChannel.shutdown_response/2 does: a
// system error push, then phx_close; the socket stays open. The caller
// holds s.mu.
func (s *Server) shutdown(ch *channel, message string) {
	if ch.closed {
		return
	}
	ch.push(phoenix.EventSystem, systemMessage("system", "error", message, ch.name))
	ch.sendClose()
	s.removeChannel(ch)
}

// scheduleTokenCheck arms the periodic confirm_token check of ch: every
// min(5 min, exp-now), and at expiry the channel is shut down. The caller
// holds s.mu.
func (s *Server) scheduleTokenCheck(ch *channel, exp int64) {
	if ch.expTimer != nil {
		ch.expTimer.Stop()
		ch.expTimer = nil
	}
	if s.cfg.jwtSecret == nil || exp == 0 {
		return
	}
	wait := time.Duration(exp-time.Now().Unix()) * time.Second
	wait = min(max(wait, 10*time.Millisecond), 5*time.Minute)
	ch.expTimer = time.AfterFunc(wait, func() { s.confirmToken(ch) })
}

// confirmToken re-verifies ch's token, shutting the channel down when it
// has expired.
func (s *Server) confirmToken(ch *channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch.closed || ch.c.dead {
		return
	}
	cl, terr := verifyToken(ch.token, s.cfg.jwtSecret, time.Now())
	if terr != nil {
		s.shutdown(ch, terr.shutdownMessage())
		return
	}
	s.scheduleTokenCheck(ch, cl.exp)
}
