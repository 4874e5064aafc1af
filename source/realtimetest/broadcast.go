package realtimetest

import (
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// fanout is one broadcast in the form each protocol version receives it;
// a nil message means subscribers of that version get nothing (as V1
// subscribers of a binary broadcast).
type fanout struct {
	v1, v2 *phoenix.Message
	// id is the message id (meta.id), "" when it has none; channels whose
	// join replayed it do not get it again.
	id string
}

// encoded caches a fan-out frame per protocol version.
type encoded struct {
	done   bool
	data   []byte
	binary bool
	ok     bool
	msg    phoenix.Message
}

// fanoutBroadcast delivers a broadcast to every channel of a pubsub topic
// but except (the sender, unless it asked for self), counting each delivery
// as an event; while the events limit is tripped, each receiver is shut
// down with "Too many messages per second" after the message. It returns
// how many channels received the broadcast. The caller holds s.mu.
func (s *Server) fanoutBroadcast(pubsub string, except *channel, f fanout) int {
	var enc [2]encoded
	n := 0
	for _, ch := range s.channelsOf(pubsub) {
		if ch == except || ch.closed || ch.alreadyReplayed(f.id) {
			continue
		}
		if !s.sendFanout(ch, f, &enc) {
			continue
		}
		n++
		s.countEvent(1)
		if s.eventsTripped() {
			s.shutdown(ch, "Too many messages per second")
		}
	}
	return n
}

// sendFanout queues the version-specific form of f on ch's connection. It
// reports whether anything was sent.
func (s *Server) sendFanout(ch *channel, f fanout, enc *[2]encoded) bool {
	i, m := 0, f.v1
	if ch.c.vsn == phoenix.VersionV2 {
		i, m = 1, f.v2
	}
	if m == nil {
		return false
	}
	e := &enc[i]
	if !e.done {
		e.done = true
		e.msg = *m
		e.data, e.binary, e.ok = encodeOK(ch.c.ser, m)
	}
	if !e.ok {
		return false
	}
	ch.c.sendEncoded(e.data, e.binary, e.msg)
	return true
}

func encodeOK(ser phoenix.Serializer, m *phoenix.Message) ([]byte, bool, bool) {
	data, binary, err := ser.Encode(nil, m)
	return data, binary, err == nil
}

// channelsOf returns the channels subscribed to a pubsub topic, in a stable
// order (connection, then join order is not tracked: by connection id).
// The caller holds s.mu.
func (s *Server) channelsOf(pubsub string) []*channel {
	set := s.topics[pubsub]
	out := make([]*channel, 0, len(set))
	for ch := range set {
		out = append(out, ch)
	}
	sortChannels(out)
	return out
}

// handleBroadcast relays a client broadcast (text, binary kind 3 or kind 0)
// to the channel's topic and acks it when the channel asked for acks.
func (s *Server) handleBroadcast(ch *channel, m *phoenix.Message) {
	s.countEvent(1)
	c := ch.c
	if len(m.Payload) > s.cfg.maxPayloadBytes {
		if ch.ack {
			c.reply(ch.joinRef, m.Ref, ch.topic, "error", []byte(`"payload_size_exceeded"`))
		}
		return
	}
	var f fanout
	switch m.Kind {
	case phoenix.KindJSON:
		f.v1 = &phoenix.Message{Topic: ch.topic, Event: phoenix.EventBroadcast, Payload: m.Payload}
		if isObject(m.Payload) { // the V2 serializer refuses non-map broadcasts
			f.v2 = f.v1
		}
	case phoenix.KindUserBroadcastPush:
		// The client's metadata is not forwarded (BroadcastHandler drops it).
		f.v2 = &phoenix.Message{Kind: phoenix.KindUserBroadcast, Topic: ch.topic, Event: phoenix.EventBroadcast,
			UserEvent: m.UserEvent, Payload: m.Payload, Binary: m.Binary}
		if !m.Binary {
			f.v1 = &phoenix.Message{Topic: ch.topic, Event: phoenix.EventBroadcast, UserEvent: m.UserEvent, Payload: m.Payload}
		}
	case phoenix.KindPush:
		f.v2 = &phoenix.Message{Kind: phoenix.KindBroadcast, Topic: ch.topic, Event: phoenix.EventBroadcast,
			Payload: m.Payload, Binary: true}
	default:
		return
	}
	var except *channel
	if !ch.self {
		except = ch
	}
	s.fanoutBroadcast(ch.pubsub, except, f)
	// Delivered first, then stored (feat-broadcast-storage's
	// BroadcastHandler): the live copy carries no id.
	id := s.persistBroadcast(ch, m)
	if ch.ack && !ch.closed {
		resp := emptyObject
		if id != "" { // {:reply, {:ok, %{id: id}}, socket}
			resp = append(append([]byte(`{"id":`), appendString(nil, id)...), '}')
		}
		c.reply(ch.joinRef, m.Ref, ch.topic, "ok", resp)
	}
}

// handlePresence implements presence track and untrack pushes.
func (s *Server) handlePresence(ch *channel, m *phoenix.Message) {
	c := ch.c
	var obj record
	if m.Kind == phoenix.KindJSON {
		obj, _ = parseObject(m.Payload)
	}
	evRaw, ok := obj.get("event")
	if !ok { // no event: a no-op that still replies ok
		c.reply(ch.joinRef, m.Ref, ch.topic, "ok", emptyObject)
		return
	}
	now := time.Now()
	switch {
	case ch.presenceResetAt.IsZero() || now.After(ch.presenceResetAt):
		ch.presenceCalls = 1
		ch.presenceResetAt = now.Add(s.cfg.presenceWindow)
	case ch.presenceCalls >= s.cfg.presenceCalls:
		s.shutdown(ch, "Client presence rate limit exceeded")
		return
	default:
		ch.presenceCalls++
	}
	ev, _ := jsonString(evRaw, true)
	switch strings.ToLower(ev) {
	case "track":
		payload := record{}
		if raw, present := obj.get("payload"); present {
			p, err := parseObject(raw)
			if err != nil || p == nil {
				c.reply(ch.joinRef, m.Ref, ch.topic, "error", []byte(`{"reason":"Presence track payload must be a map"}`))
				return
			}
			payload = p
			if len(raw) > s.cfg.maxPayloadBytes {
				s.shutdown(ch, "Track message size exceeded")
				return
			}
		}
		pt := s.presence[ch.pubsub]
		if pt == nil {
			pt = newPresenceTopic()
			s.presence[ch.pubsub] = pt
		}
		diff := pt.track(ch.presenceKey, ch, payload)
		ch.presenceEnabled = true
		c.reply(ch.joinRef, m.Ref, ch.topic, "ok", emptyObject)
		s.fanoutPresenceDiff(ch.pubsub, ch.topic, &diff)
	case "untrack":
		var diff presenceDiff
		if pt := s.presence[ch.pubsub]; pt != nil {
			diff = pt.untrack(ch.presenceKey, ch)
			if pt.isEmpty() {
				delete(s.presence, ch.pubsub)
			}
		}
		c.reply(ch.joinRef, m.Ref, ch.topic, "ok", emptyObject)
		s.fanoutPresenceDiff(ch.pubsub, ch.topic, &diff)
	default:
		c.reply(ch.joinRef, m.Ref, ch.topic, "error", emptyObject)
	}
}

// fanoutPresenceDiff sends a presence_diff to every channel of the topic,
// the tracker's own included and whether or not they enabled presence. The
// caller holds s.mu.
func (s *Server) fanoutPresenceDiff(pubsub, topic string, d *presenceDiff) {
	if d.empty() {
		return
	}
	m := &phoenix.Message{Topic: topic, Event: phoenix.EventPresenceDiff, Payload: d.appendJSON(nil)}
	var enc [2]encoded
	for _, ch := range s.channelsOf(pubsub) {
		s.sendFanout(ch, fanout{v1: m, v2: m}, &enc)
	}
}
