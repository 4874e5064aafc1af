package socket

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Traffic by topic and event: an opt-in table (Config.Traffic) the reader and the writer count every
// message in, by its topic and its event. It is off unless asked for: the reader then pays one branch.
// On, a message costs a lock and two map lookups that do not allocate; a new series costs a copy of its
// names, and the series are bounded (TrafficLimits).

// TrafficOther is the topic, or the event, under which messages past TrafficLimits are counted.
const TrafficOther = "(other)"

// TrafficLimits bound the traffic table: at most Topics topics, each with at most Events events, are
// counted under their own names; messages of the topics past Topics count under the topic TrafficOther,
// and of the events past Events under the event TrafficOther of their topic. A table holds at most
// (Topics + 1) × (Events + 1) series. The zero value turns the table off.
type TrafficLimits struct {
	Topics, Events int
}

// Traffic is one series of the traffic table: the messages and frame bytes read and written on one topic
// with one event.
type Traffic struct {
	Topic, Event          string
	MessagesIn, BytesIn   uint64
	MessagesOut, BytesOut uint64
}

// trafficTable counts messages by topic and event. The reader counts what it decodes; the writer what it
// wrote, in the series the sender found when it queued the message; snapshot takes a copy. Counters
// change under mu.
type trafficTable struct {
	limits TrafficLimits

	mu     sync.Mutex
	topics map[string]*topicTraffic
	other  *topicTraffic // the topics past limits.Topics
	last   *Traffic      // the series counted last, unless one of TrafficOther
}

// topicTraffic is the series of one topic.
type topicTraffic struct {
	topic  string
	events map[string]*Traffic
	other  *Traffic // the events past limits.Events
}

func newTrafficTable(limits TrafficLimits) *trafficTable {
	if limits.Topics <= 0 || limits.Events <= 0 {
		return nil
	}
	return &trafficTable{limits: limits, topics: make(map[string]*topicTraffic)}
}

// in counts one message read, size bytes of frame.
func (t *trafficTable) in(m *phoenix.Message, size int) {
	t.mu.Lock()
	c := t.series(m)
	c.MessagesIn++
	c.BytesIn += uint64(size)
	t.mu.Unlock()
}

// seriesOf returns m's series, for the writer to count m in once written: the sender's goroutine looks
// it up when it queues m, while m and its payload are its own.
func (t *trafficTable) seriesOf(m *phoenix.Message) *Traffic {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.series(m)
}

// series returns m's series, made if it is new and the limits allow. t.mu held.
func (t *trafficTable) series(m *phoenix.Message) *Traffic {
	event, name := m.Event, []byte(nil) // the event, as a string or as the payload's bytes
	switch {
	case m.UserEvent != "":
		event = m.UserEvent
	case m.Event == phoenix.EventBroadcast && !m.Binary:
		name = jsonBroadcastEvent(m.Payload) // nil: counted under "broadcast"
	}
	// A burst is mostly one series: the last one is checked before the maps.
	if c := t.last; c != nil && c.Topic == m.Topic && (name == nil && c.Event == event || name != nil && c.Event == string(name)) {
		return c
	}
	tt := t.topics[m.Topic]
	if tt == nil {
		tt = t.topic(m.Topic)
	}
	var c *Traffic
	if name != nil {
		if c = tt.events[string(name)]; c == nil { // a lookup by string(bytes) does not allocate
			c = tt.event(string(name), t.limits.Events)
		}
	} else {
		c = tt.event(event, t.limits.Events)
	}
	if c.Topic != TrafficOther && c.Event != TrafficOther {
		t.last = c
	}
	return c
}

// topic returns the entry of a topic not in t.topics: a new one, or the entry of the topics past the
// limit. t.mu held.
func (t *trafficTable) topic(topic string) *topicTraffic {
	if len(t.topics) < t.limits.Topics {
		tt := &topicTraffic{topic: strings.Clone(topic), events: make(map[string]*Traffic)}
		t.topics[tt.topic] = tt
		return tt
	}
	if t.other == nil {
		t.other = &topicTraffic{topic: TrafficOther, events: make(map[string]*Traffic)}
	}
	return t.other
}

// event returns the series of event, made if it is new and fewer than limit events are counted.
func (tt *topicTraffic) event(event string, limit int) *Traffic {
	if c := tt.events[event]; c != nil {
		return c
	}
	if len(tt.events) < limit {
		c := &Traffic{Topic: tt.topic, Event: strings.Clone(event)}
		tt.events[c.Event] = c
		return c
	}
	if tt.other == nil {
		tt.other = &Traffic{Topic: tt.topic, Event: TrafficOther}
	}
	return tt.other
}

// snapshot returns a copy of every series, sorted by topic, then event.
func (t *trafficTable) snapshot() []Traffic {
	t.mu.Lock()
	var out []Traffic
	add := func(tt *topicTraffic) {
		for _, c := range tt.events {
			out = append(out, *c)
		}
		if tt.other != nil {
			out = append(out, *tt.other)
		}
	}
	for _, tt := range t.topics {
		add(tt)
	}
	if t.other != nil {
		add(t.other)
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b Traffic) int {
		return cmp.Or(strings.Compare(a.Topic, b.Topic), strings.Compare(a.Event, b.Event))
	})
	return out
}

// jsonBroadcastEvent returns the user's event of a JSON broadcast payload ({"event": "<name>", ...}): the
// bytes of its "event" member's string, nil when it has none, or a name with escapes, or the payload is
// malformed (the broadcast then counts under its Phoenix event). It does not allocate; it reads the
// payload up to that member (Realtime puts "event" first).
func jsonBroadcastEvent(p []byte) []byte {
	const first = `{"event":"` // how Realtime frames it: no walk needed
	if rest, ok := bytes.CutPrefix(p, []byte(first)); ok {
		if j := bytes.IndexByte(rest, '"'); j >= 0 && bytes.IndexByte(rest[:j], '\\') < 0 {
			return rest[:j:j]
		}
	}
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return nil
	}
	i++
	for {
		i = skipSpace(p, i)
		if i >= len(p) || p[i] != '"' {
			return nil
		}
		end, err := phoenix.Skip(p, i)
		if err != nil {
			return nil
		}
		name := p[i+1 : end-1]
		i = skipSpace(p, end)
		if i >= len(p) || p[i] != ':' {
			return nil
		}
		i = skipSpace(p, i+1)
		vend, err := phoenix.Skip(p, i)
		if err != nil {
			return nil
		}
		if string(name) == "event" {
			v := p[i:vend]
			if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
				return nil
			}
			return v[1 : len(v)-1]
		}
		i = skipSpace(p, vend)
		if i >= len(p) || p[i] != ',' {
			return nil
		}
		i++
	}
}

// skipSpace returns the index of the first byte of p at or after i that is not JSON whitespace.
func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}
