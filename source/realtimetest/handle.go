package realtimetest

import (
	"fmt"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Fixed responses.
var (
	emptyObject        = []byte("{}")
	unmatchedTopicResp = []byte(`{"reason":"unmatched topic"}`)
)

// handleFrame decodes and dispatches one client frame, as Phoenix.Socket
// and RealtimeChannel do.
func (s *Server) handleFrame(c *conn, data []byte, binary bool) {
	if c.refused.Load() {
		return // closing for a frame it would not take: nothing after it is read
	}
	var m phoenix.Message
	err := c.ser.Decode(&m, data, binary)
	s.rec.add(Frame{Dir: In, Conn: c.id, Time: time.Now(), Data: data, Binary: binary, Msg: m, Err: err})
	if err != nil {
		return // malformed frames are ignored; the socket stays up
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if c.dead {
		return
	}
	if r := s.faults.closeOn.Load(); r != nil && (m.Event == r.event || m.UserEvent == r.event) {
		c.refused.Store(true)
		c.closeAfterQueued(r.code)
		return
	}
	if m.Topic == phoenix.TopicPhoenix && m.Event == phoenix.EventHeartbeat {
		c.reply("", m.Ref, phoenix.TopicPhoenix, "ok", emptyObject)
		return
	}
	ch := c.channels[m.Topic]
	switch {
	case m.Event == phoenix.EventJoin:
		if !strings.HasPrefix(m.Topic, "realtime:") {
			c.reply("", m.Ref, m.Topic, "error", unmatchedTopicResp)
			return
		}
		if ch != nil { // duplicate join: the old channel is closed
			s.removeChannel(ch)
		}
		s.handleJoin(c, &m, ch)
	case m.Event == phoenix.EventLeave:
		if ch == nil {
			c.reply(m.JoinRef, m.Ref, m.Topic, "ok", emptyObject)
			return
		}
		if m.JoinRef != "" && ch.joinRef != "" && m.JoinRef != ch.joinRef {
			// The leave of an earlier join of the topic: Phoenix ignores it, without a reply (the client
			// "has raced a server close", Phoenix.Socket), and the current join stays. A join without a
			// join_ref (vsn 1.0.0 may omit it) is left by any leave, as there.
			return
		}
		c.reply(ch.joinRef, m.Ref, m.Topic, "ok", emptyObject)
		ch.sendClose()
		s.removeChannel(ch)
	case ch == nil:
		c.reply("", m.Ref, m.Topic, "error", unmatchedTopicResp)
	case m.Event == phoenix.EventBroadcast:
		s.handleBroadcast(ch, &m)
	case m.Event == phoenix.EventPresence:
		s.handlePresence(ch, &m)
	case m.Event == phoenix.EventAccessToken:
		s.handleAccessToken(ch, &m)
	default:
		// Unknown events are counted and get no reply.
		s.countEvent(1)
	}
}

// handleJoin runs the join pipeline of RealtimeChannel.join/3. old is the
// channel a duplicate join replaced (already removed): its phx_close goes
// out right after the new join's reply. The caller holds s.mu; it is
// released while a join error is delayed.
func (s *Server) handleJoin(c *conn, m *phoenix.Message, old *channel) {
	now := time.Now()
	var jc joinConfig
	if m.Kind == phoenix.KindJSON {
		jc = parseJoin(m.Payload)
	}
	name := strings.TrimPrefix(m.Topic, "realtime:")
	token := jc.token(c.token)

	var (
		reason     string
		disconnect bool
		cl         claims
	)
	switch {
	case s.faults.rejectReason() != "":
		reason = s.faults.rejectReason()
	case name == "":
		reason = "TopicNameRequired: You must provide a topic name"
	case s.cfg.privateOnly && !jc.private:
		reason = "PrivateOnly: This project only allows private channels"
	case !c.counted && s.users >= s.cfg.maxUsers:
		reason = "ConnectionRateLimitReached: Too many connected users"
	case s.joins.avg(now) >= s.cfg.maxJoinsPerSecond:
		reason = "ClientJoinRateLimitReached: Too many joins per second"
		disconnect = true
	}
	if reason == "" {
		s.joins.add(now, 1)
		if len(c.channels) >= s.cfg.maxChannelsPerClient {
			reason = "ChannelRateLimitReached: Too many channels"
		}
	}
	if reason == "" && s.cfg.jwtSecret != nil {
		var terr *tokenError
		if cl, terr = verifyToken(token, s.cfg.jwtSecret, now); terr != nil {
			reason = terr.joinReason()
		}
	}
	if reason == "" && jc.hasReplay {
		if !jc.private {
			reason = "UnableToReplayMessages: Replay is not allowed for public channels"
		} else if isObject(jc.replay) && !replayValid(jc.replay) {
			reason = "UnableToReplayMessages: Replay params are not valid"
		}
	}
	if reason == "" && jc.pgCrash != "" {
		reason = "UnknownErrorOnChannel: " + jc.pgCrash
	}
	var bindings []binding
	pgErr := ""
	for _, r := range jc.pgChanges {
		b, msg := parseBinding(r)
		bindings = append(bindings, b)
		if msg != "" && pgErr == "" {
			pgErr = msg
		}
	}
	// postgres_changes_options.wait (start_postgres_subscribe/4): the join
	// blocks until the subscription is up, the timeout passes, or it fails
	// for good (invalid params).
	pgWait := reason == "" && jc.pgWait && len(bindings) > 0
	if pgWait {
		if pgErr != "" {
			reason = "RealtimeDisabledForConfiguration: " + pgErr
		} else if d := time.Duration(s.faults.pgDelay.Load()); d > 0 {
			s.mu.Unlock()
			completed := s.sleep(min(d, jc.pgWaitTimeout))
			s.mu.Lock()
			if !completed || c.dead {
				return
			}
			if d > jc.pgWaitTimeout {
				reason = fmt.Sprintf("PostgresChangesSubscribeTimeout: Timed out after %dms waiting for the postgres_changes subscription",
					jc.pgWaitTimeout.Milliseconds())
			}
		}
	}

	if reason != "" {
		if d := s.cfg.joinErrorDelay; d > 0 {
			s.mu.Unlock()
			completed := s.sleep(d)
			s.mu.Lock()
			if !completed || c.dead {
				return
			}
		}
		resp := append(append([]byte(`{"reason":`), appendString(nil, reason)...), '}')
		c.reply(m.JoinRef, m.Ref, m.Topic, "error", resp)
		if old != nil {
			old.sendClose()
		}
		if disconnect {
			c.closeAfterQueued(transport.StatusGoingAway)
		}
		return
	}

	key := jc.presenceKey
	if key == "" {
		key = newUUIDv1()
	}
	ch := &channel{
		c:               c,
		topic:           m.Topic,
		name:            name,
		pubsub:          pubsubTopic(name, jc.private),
		joinRef:         m.JoinRef,
		private:         jc.private,
		self:            jc.self,
		ack:             jc.ack,
		presenceEnabled: jc.presenceEnabled || s.cfg.presenceEnabled,
		presenceKey:     key,
		token:           token,
	}
	ch.bindings, ch.pgErr = bindings, pgErr
	s.subscribe(ch)
	if !c.counted {
		c.counted = true
		s.users++
	}

	resp := append(make([]byte, 0, 64), `{"postgres_changes":[`...)
	for i := range ch.bindings {
		if i > 0 {
			resp = append(resp, ',')
		}
		resp = ch.bindings[i].replyJSON(resp)
	}
	resp = append(resp, "]}"...)
	c.reply(m.JoinRef, m.Ref, m.Topic, "ok", resp)
	if old != nil {
		old.sendClose()
	}
	// Replay first (RealtimeChannel sends {:replay, messages} to itself
	// during the join), then the system messages and presence_state.
	if jc.hasReplay && jc.private {
		if since, limit, ok := replayParams(jc.replay); ok {
			s.replay(ch, s.selectReplay(name, since, limit, now))
		}
	}
	if d := time.Duration(s.faults.pgDelay.Load()); d > 0 && !pgWait && pgErr == "" && len(ch.bindings) > 0 {
		ch.pgTimer = time.AfterFunc(d, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if ch.closed || ch.c.dead {
				return
			}
			ch.pgTimer = nil
			s.pushPostgresStatus(ch, "")
		})
	} else {
		s.pushPostgresStatus(ch, pgErr)
	}
	if jc.replicationReady {
		ch.replDeadline = now.Add(s.cfg.replicationTimeout)
		s.checkReplication(ch)
	}
	if ch.presenceEnabled {
		state := emptyObject
		if pt := s.presence[ch.pubsub]; pt != nil {
			state = pt.stateJSON()
		}
		ch.push(phoenix.EventPresenceState, state)
	}
	s.scheduleTokenCheck(ch, cl.exp)
}

// checkReplication is handle_info(:notify_replication_ready): the
// "Replication connection established" system message when the
// replication connection is up, a shutdown past the deadline, otherwise
// another check in 500 ms. The caller holds s.mu.
func (s *Server) checkReplication(ch *channel) {
	switch {
	case !s.faults.replDown.Load():
		ch.push(phoenix.EventSystem, systemMessage("system", "ok", "Replication connection established", ch.name))
	case !time.Now().Before(ch.replDeadline):
		s.shutdown(ch, "Replication connection was not established in time")
	default:
		ch.replTimer = time.AfterFunc(ReplicationReadyCheckInterval, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if ch.closed || ch.c.dead {
				return
			}
			ch.replTimer = nil
			s.checkReplication(ch)
		})
	}
}

// pushPostgresStatus sends the "postgres_changes" system message of a
// channel with bindings: "Subscribed to PostgreSQL", or the subscription
// error.
func (s *Server) pushPostgresStatus(ch *channel, pgErr string) {
	if len(ch.bindings) == 0 {
		return
	}
	if pgErr != "" {
		ch.push(phoenix.EventSystem, systemMessage("postgres_changes", "error", pgErr, ch.name))
		return
	}
	ch.push(phoenix.EventSystem, systemMessage("postgres_changes", "ok", "Subscribed to PostgreSQL", ch.name))
}

func isObject(raw []byte) bool {
	r, err := parseObject(raw)
	return err == nil && r != nil
}

// countEvent adds n events to the tenant's events-per-second counter. The
// caller holds s.mu.
func (s *Server) countEvent(n int64) { s.events.add(time.Now(), n) }

// eventsTripped reports whether the events-per-second limit is tripped. The
// caller holds s.mu.
func (s *Server) eventsTripped() bool {
	return s.events.avg(time.Now()) >= s.cfg.maxEventsPerSecond
}

// handleAccessToken implements the access_token refresh: no reply; an
// invalid or expired token shuts the channel down; a valid one is adopted
// and channels with bindings are told "Subscribed to PostgreSQL" again.
func (s *Server) handleAccessToken(ch *channel, m *phoenix.Message) {
	var raw []byte
	var ok bool
	if m.Kind == phoenix.KindJSON {
		obj, _ := parseObject(m.Payload)
		raw, ok = obj.get("access_token")
	}
	if !ok {
		s.countEvent(1) // falls into the generic handler
		return
	}
	if string(raw) == "null" {
		return
	}
	tok, isString := jsonString(raw, true)
	if !isString {
		s.countEvent(1)
		return
	}
	if strings.HasPrefix(tok, "sb_") || tok == ch.token {
		return
	}
	ch.token = tok
	if s.cfg.jwtSecret != nil {
		cl, terr := verifyToken(tok, s.cfg.jwtSecret, time.Now())
		if terr != nil {
			s.shutdown(ch, terr.shutdownMessage())
			return
		}
		s.scheduleTokenCheck(ch, cl.exp)
	}
	s.pushPostgresStatus(ch, ch.pgErr)
}
