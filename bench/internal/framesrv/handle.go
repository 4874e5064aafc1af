package framesrv

import (
	"encoding/json"
	"strings"

	"github.com/gobwas/ws"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

// message is a decoded client message. For vsn 2.0.0 its fields alias the
// frame text and are valid only while it is handled.
type message struct {
	JoinRef []byte // nil for null
	Ref     []byte // nil for null
	Topic   []byte
	Event   []byte
	Payload []byte
}

// decode parses a vsn 1.0.0 object or a vsn 2.0.0 array.
func decode(v frames.Vsn, text []byte) (message, bool) {
	if v == frames.V2 {
		e, err := frames.SplitV2(text)
		if err != nil || len(e.Topic) == 0 || len(e.Event) == 0 {
			return message{}, false
		}
		return message(e), true
	}
	var o struct {
		JoinRef *string         `json:"join_ref"`
		Ref     *string         `json:"ref"`
		Topic   string          `json:"topic"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(text, &o); err != nil || o.Topic == "" || o.Event == "" {
		return message{}, false
	}
	m := message{Topic: []byte(o.Topic), Event: []byte(o.Event), Payload: o.Payload}
	if o.JoinRef != nil {
		m.JoinRef = []byte(*o.JoinRef)
	}
	if o.Ref != nil {
		m.Ref = []byte(*o.Ref)
	}
	return m, true
}

// joinPayload is the part of a phx_join payload the source looks at.
type joinPayload struct {
	Config struct {
		Broadcast struct {
			Ack bool `json:"ack"`
		} `json:"broadcast"`
		PostgresChanges []map[string]any `json:"postgres_changes"`
	} `json:"config"`
}

// joinAnswer is what the source answers to one join payload; joins with
// the same payload (a client joining many channels alike) share it.
type joinAnswer struct {
	ok       bool
	response []byte // the reply's response object, or the error reason object
	ack      bool
	bindings bool
}

func answerJoin(payload []byte) joinAnswer {
	var jp joinPayload
	if len(payload) > 0 && json.Unmarshal(payload, &jp) != nil {
		return joinAnswer{response: []byte(`{"reason":"malformed join payload"}`)}
	}
	bindings := jp.Config.PostgresChanges
	if bindings == nil {
		bindings = []map[string]any{}
	}
	for i, b := range bindings {
		b["id"] = frames.BindingID + int64(i)
	}
	resp, err := json.Marshal(map[string]any{"postgres_changes": bindings})
	if err != nil {
		return joinAnswer{response: []byte(`{"reason":"malformed join payload"}`)}
	}
	return joinAnswer{ok: true, response: resp, ack: jp.Config.Broadcast.Ack, bindings: len(bindings) > 0}
}

var (
	okEmpty         = []byte(`{}`)
	errUnmatched    = []byte(`{"reason":"unmatched topic"}`)
	statusOK        = "ok"
	statusError     = "error"
	eventReply      = "phx_reply"
	eventClose      = "phx_close"
	eventSystem     = "system"
	topicPhoenix    = "phoenix"
	eventHeartbeat  = "heartbeat"
	eventJoin       = "phx_join"
	eventLeave      = "phx_leave"
	eventBroadcast  = frames.BroadcastEvent
	subscribedExtra = `,"extension":"postgres_changes","message":"Subscribed to PostgreSQL","status":"ok"}`
)

// handleFrame handles one client message.
func (c *conn) handleFrame(op ws.OpCode, p []byte) {
	if op == ws.OpBinary {
		c.handleBinary(p)
		return
	}
	c.handle(p)
}

// Binary client frames of the vsn 2.0.0 serializer (client.md §2.3, §2.4).
const (
	kindPush          = 0 // <<0, jr_size, ref_size, topic_size, event_size, jr, ref, topic, event, data>>
	kindUserBroadcast = 3 // <<3, jr_size, ref_size, topic_size, event_size, meta_size, encoding, jr, ref, topic, event, meta, payload>>
)

// handleBinary counts binary broadcasts (a kind 3 user broadcast, or a
// kind 0 push of event "broadcast"); anything else is a bad message.
func (c *conn) handleBinary(p []byte) {
	if c.p.vsn != frames.V2 || len(p) == 0 {
		c.s.bad.add(1)
		return
	}
	var head int
	switch p[0] {
	case kindPush:
		head = 5
	case kindUserBroadcast:
		head = 7
	default:
		c.s.bad.add(1)
		return
	}
	if len(p) < head {
		c.s.bad.add(1)
		return
	}
	fields := make([][]byte, 0, 4)
	off := head
	for _, n := range p[1:5] {
		if off+int(n) > len(p) {
			c.s.bad.add(1)
			return
		}
		fields = append(fields, p[off:off+int(n)])
		off += int(n)
	}
	m := message{JoinRef: fields[0], Ref: fields[1], Topic: fields[2], Event: fields[3]}
	if len(m.JoinRef) == 0 {
		m.JoinRef = nil
	}
	if len(m.Ref) == 0 {
		m.Ref = nil
	}
	if p[0] == kindPush && string(m.Event) != eventBroadcast {
		c.s.bad.add(1)
		return
	}
	c.s.broadcasts.add(1)
	if st, ok := c.joined[string(m.Topic)]; ok && st.ack && m.Ref != nil {
		c.reply(m, statusOK, okEmpty)
	}
}

func (c *conn) handle(text []byte) {
	m, ok := decode(c.p.vsn, text)
	if !ok {
		c.s.bad.add(1)
		return
	}
	topic, event := string(m.Topic), string(m.Event) // no allocation in comparisons
	switch {
	case event == eventBroadcast && topic != topicPhoenix:
		c.s.broadcasts.add(1)
		if st, ok := c.joined[string(m.Topic)]; ok && st.ack && m.Ref != nil {
			c.reply(m, statusOK, okEmpty)
		}
	case topic == topicPhoenix && event == eventHeartbeat:
		c.reply(m, statusOK, okEmpty)
	case topic == topicPhoenix:
		c.reply(m, statusError, errUnmatched)
	case event == eventJoin:
		c.join(m)
	case event == eventLeave:
		c.reply(m, statusOK, okEmpty)
		if st, ok := c.joined[string(m.Topic)]; ok {
			delete(c.joined, string(m.Topic))
			c.push(st.joinRef, st.joinRef, m.Topic, eventClose, okEmpty)
		}
	default:
		// access_token, presence and anything else: accepted silently,
		// as the real server does for what it does not answer.
	}
}

func (c *conn) join(m message) {
	a, ok := c.answers[string(m.Payload)]
	if !ok {
		a = answerJoin(m.Payload)
		if len(c.answers) < 16 {
			c.answers[string(m.Payload)] = a
		}
	}
	if !a.ok {
		c.s.bad.add(1)
		c.reply(m, statusError, a.response)
		return
	}
	topic := string(m.Topic)
	var joinRef []byte
	if m.JoinRef != nil {
		joinRef = []byte(string(m.JoinRef))
	}
	c.joined[topic] = joinState{joinRef: joinRef, ack: a.ack}
	c.s.joins.add(1) // before the reply, so whoever reads the reply sees the count
	c.reply(m, statusOK, a.response)
	if a.bindings {
		sys := append(c.scratch[:0], `{"channel":`...)
		sys = frames.AppendJSONString(sys, strings.TrimPrefix(topic, "realtime:"))
		sys = append(sys, subscribedExtra...)
		c.scratch = sys
		c.push(m.JoinRef, nil, m.Topic, eventSystem, sys)
	}
	delete(c.need, topic)
	if len(c.need) == 0 && !c.started && c.p.n > 0 {
		c.startBurst()
	}
}

// reply answers m with a phx_reply {"status":status,"response":response}.
func (c *conn) reply(m message, status string, response []byte) {
	p := append(c.payload[:0], `{"status":"`...)
	p = append(p, status...)
	p = append(p, `","response":`...)
	p = append(p, response...)
	p = append(p, '}')
	c.payload = p
	c.push(m.JoinRef, m.Ref, m.Topic, eventReply, p)
}

// push queues a server message (see conn.queue). The vsn 1.0.0 serializer
// never writes join_ref.
func (c *conn) push(joinRef, ref, topic []byte, event string, payload []byte) {
	b := c.text[:0]
	if c.p.vsn == frames.V1 {
		b = append(b, `{"topic":`...)
		b = frames.AppendJSONString(b, string(topic))
		b = append(b, `,"event":`...)
		b = frames.AppendJSONString(b, event)
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
		b = append(b, `,"ref":`...)
		b = appendRef(b, ref)
		b = append(b, '}')
	} else {
		b = append(b, '[')
		b = appendRef(b, joinRef)
		b = append(b, ',')
		b = appendRef(b, ref)
		b = append(b, ',')
		b = frames.AppendJSONString(b, string(topic))
		b = append(b, ',')
		b = frames.AppendJSONString(b, event)
		b = append(b, ',')
		b = append(b, payload...)
		b = append(b, ']')
	}
	c.text = b
	c.queue(b)
}

func appendRef(b, ref []byte) []byte {
	if ref == nil {
		return append(b, "null"...)
	}
	return frames.AppendJSONString(b, string(ref))
}
