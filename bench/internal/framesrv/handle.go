package framesrv

import (
	"encoding/json"
	"strings"

	"github.com/gobwas/ws"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

// message is a decoded client message.
type message struct {
	JoinRef *string
	Ref     *string
	Topic   string
	Event   string
	Payload json.RawMessage
}

// decode parses a vsn 1.0.0 object or a vsn 2.0.0 array.
func decode(v frames.Vsn, text []byte) (message, bool) {
	var m message
	if v == frames.V1 {
		var o struct {
			JoinRef *string         `json:"join_ref"`
			Ref     *string         `json:"ref"`
			Topic   string          `json:"topic"`
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(text, &o); err != nil || o.Topic == "" || o.Event == "" {
			return m, false
		}
		return message(o), true
	}
	var a []json.RawMessage
	if err := json.Unmarshal(text, &a); err != nil || len(a) < 5 {
		return m, false
	}
	if json.Unmarshal(a[0], &m.JoinRef) != nil || json.Unmarshal(a[1], &m.Ref) != nil ||
		json.Unmarshal(a[2], &m.Topic) != nil || json.Unmarshal(a[3], &m.Event) != nil {
		return m, false
	}
	m.Payload = a[4]
	return m, m.Topic != "" && m.Event != ""
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

func (c *conn) handle(text []byte) {
	if c.p.vsn == frames.V2 && c.fastBroadcast(text) {
		return
	}
	m, ok := decode(c.p.vsn, text)
	if !ok {
		c.s.bad.add(1)
		return
	}
	switch {
	case m.Topic == "phoenix" && m.Event == "heartbeat":
		c.reply(m, "ok", json.RawMessage(`{}`))
	case m.Topic == "phoenix":
		c.reply(m, "error", json.RawMessage(`{"reason":"unmatched topic"}`))
	case m.Event == "phx_join":
		c.join(m)
	case m.Event == "phx_leave":
		c.reply(m, "ok", json.RawMessage(`{}`))
		if st, ok := c.joined[m.Topic]; ok {
			delete(c.joined, m.Topic)
			c.push(st.joinRef, st.joinRef, m.Topic, "phx_close", json.RawMessage(`{}`))
		}
	case m.Event == "broadcast":
		c.s.broadcasts.add(1)
		if st, ok := c.joined[m.Topic]; ok && st.ack && m.Ref != nil {
			c.reply(m, "ok", json.RawMessage(`{}`))
		}
	default:
		// access_token, presence and anything else: accepted silently,
		// as the real server does for what it does not answer.
	}
}

// fastBroadcast counts a vsn 2.0.0 broadcast without decoding its payload,
// so the send workload measures the client, not the source's JSON decoder.
// It reports whether text was such a broadcast; anything else (including
// broadcasts to acknowledge) takes the general path.
func (c *conn) fastBroadcast(text []byte) bool {
	e, err := frames.SplitV2(text)
	if err != nil || string(e.Event) != frames.BroadcastEvent || e.Payload[0] != '{' {
		return false
	}
	if st, ok := c.joined[string(e.Topic)]; ok && st.ack && e.Ref != nil {
		return false
	}
	c.s.broadcasts.add(1)
	return true
}

func (c *conn) join(m message) {
	var jp joinPayload
	if len(m.Payload) > 0 && json.Unmarshal(m.Payload, &jp) != nil {
		c.s.bad.add(1)
		c.reply(m, "error", json.RawMessage(`{"reason":"malformed join payload"}`))
		return
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
		c.s.bad.add(1)
		return
	}
	c.joined[m.Topic] = joinState{joinRef: m.JoinRef, ack: jp.Config.Broadcast.Ack}
	c.s.joins.add(1) // before the reply, so whoever reads the reply sees the count
	c.reply(m, "ok", resp)
	if len(bindings) > 0 {
		sys, _ := json.Marshal(map[string]string{
			"extension": "postgres_changes", "status": "ok", "message": "Subscribed to PostgreSQL",
			"channel": strings.TrimPrefix(m.Topic, "realtime:"),
		})
		c.push(m.JoinRef, nil, m.Topic, "system", sys)
	}
	delete(c.need, m.Topic)
	if len(c.need) == 0 && !c.started && c.p.n > 0 {
		c.startBurst()
	}
}

// reply answers m with a phx_reply.
func (c *conn) reply(m message, status string, response json.RawMessage) {
	payload, _ := json.Marshal(struct {
		Status   string          `json:"status"`
		Response json.RawMessage `json:"response"`
	}{status, response})
	c.push(m.JoinRef, m.Ref, m.Topic, "phx_reply", payload)
}

// push writes a server message. The vsn 1.0.0 serializer never writes
// join_ref.
func (c *conn) push(joinRef, ref *string, topic, event string, payload json.RawMessage) {
	var text []byte
	if c.p.vsn == frames.V1 {
		text, _ = json.Marshal(struct {
			Topic   string          `json:"topic"`
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
			Ref     *string         `json:"ref"`
		}{topic, event, payload, ref})
	} else {
		text, _ = json.Marshal([]any{joinRef, ref, topic, event, payload})
	}
	c.writeFrame(ws.OpText, text)
}
