package realtimetest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// EmitChange delivers a row change to every channel whose postgres_changes
// bindings match it (event, schema, table and filter), as one
// postgres_changes message per channel carrying the ids of all its matching
// bindings:
//
//	[null,null,"realtime:room","postgres_changes",{"ids":[123],"data":{"schema":"public","table":"messages",
//	  "commit_timestamp":"2026-01-02T03:04:05.678Z","type":"INSERT","columns":[...],"record":{...},"errors":null}}]
//
// INSERT carries "record" only, UPDATE "record" and "old_record", DELETE
// "old_record" only. Filters see the new record, for DELETE the old one.
// Channels whose bindings failed to subscribe receive nothing, and while
// the events-per-second limit is tripped changes are dropped, as on the real
// server.
//
// Delivered or not, the change is written to the server's copy of its
// table (see [Server.SetTable]), which GET /rest/v1/<table> serves: INSERT
// adds the row (or replaces the row with its key), UPDATE replaces the row
// (or adds it), DELETE removes it, each finding the row by its primary key
// (the PrimaryKey columns) or, for a table without one, by every field of
// OldRecord. Rows are kept as in a real table, so a long run that inserts
// new keys holds every row it inserted.
//
// It returns how many channels the change was sent to. The error wraps
// [ErrInvalidChange] for a bad Change and [ErrServerClosed] after Close.
func (s *Server) EmitChange(c Change) (int, error) {
	chg, err := c.validate(time.Now())
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("realtimetest: emit change: %w", ErrServerClosed)
	}
	s.applyChange(chg)
	if s.eventsTripped() {
		return 0, nil
	}
	data := map[string][]byte{}
	delivered := 0
	for _, ch := range s.allChannels() {
		if ch.pgErr != "" || len(ch.bindings) == 0 {
			continue
		}
		var groups []string
		ids := map[string][]int64{}
		sels := map[string][]string{}
		for i := range ch.bindings {
			b := &ch.bindings[i]
			if !b.matches(chg) {
				continue
			}
			k := b.selectKey()
			if _, seen := ids[k]; !seen {
				groups = append(groups, k)
				sels[k] = b.sel
			}
			ids[k] = append(ids[k], b.id)
		}
		for _, k := range groups {
			d, ok := data[k]
			if !ok {
				d = chg.dataJSON(sels[k])
				data[k] = d
			}
			ch.c.send(phoenix.Message{Topic: ch.topic, Event: phoenix.EventPostgres, Payload: changePayload(ids[k], d)}, false)
		}
		if len(groups) > 0 {
			delivered++
		}
	}
	return delivered, nil
}

// DBBroadcast is a broadcast sent from the database, with realtime.send(),
// realtime.send_binary() or a realtime.broadcast_changes() trigger.
type DBBroadcast struct {
	// Topic is the channel name, without "realtime:".
	Topic string
	// Event is the user event name.
	Event string
	// Payload is the JSON payload, or raw bytes when Binary is set.
	Payload []byte
	// Binary marks a realtime.send_binary() payload; vsn 1.0.0 sockets do
	// not receive it.
	Binary bool
	// Private sends to private channels (the real server's default for
	// realtime.send) instead of public ones.
	Private bool
	// ID is the message id carried in the metadata, {"id": ID}; empty means
	// a new random (version 4) UUID, as realtime.send's gen_random_uuid().
	ID string
}

// EmitBroadcast delivers a broadcast as the real server does for messages
// written by the database: vsn 2.0.0 sockets get binary kind 4 with the
// metadata {"id":...}, vsn 1.0.0 sockets get
// {"type":"broadcast","event":...,"payload":...,"meta":{"id":...}} (JSON
// payloads only). A private broadcast is also stored for replay (see
// [Server.StoreBroadcast]), and channels whose join already replayed its id
// do not receive it again. It returns how many channels it reached; the error wraps
// [ErrInvalidChange] for an empty topic or event or a JSON payload that is
// not valid JSON, and [ErrServerClosed] after Close. It is one
// transaction of one realtime.send() call: see [Server.EmitBroadcasts] for
// several in one transaction.
func (s *Server) EmitBroadcast(b DBBroadcast) (int, error) {
	return s.EmitBroadcasts(b)
}

// EmitBroadcasts sends bs as realtime.send() called for each in one
// database transaction: each is delivered as [Server.EmitBroadcast]
// delivers one, in the order given (the replication stream's order), and
// the private ones are stored with one inserted_at, the transaction's
// start (the column's default is now()). The real server replays such
// rows in reverse order (its replay orders by inserted_at only, then
// reverses the rows it took: supabase/realtime#2201), and so does this
// one. An invalid broadcast fails them all before anything is sent or
// stored. It returns how many deliveries were made in all.
func (s *Server) EmitBroadcasts(bs ...DBBroadcast) (int, error) {
	type prepared struct {
		b   DBBroadcast
		f   fanout
		raw []byte
	}
	ps := make([]prepared, len(bs))
	for i, b := range bs {
		if b.Topic == "" || b.Event == "" {
			return 0, fmt.Errorf("%w: broadcast topic and event are required", ErrInvalidChange)
		}
		payload := b.Payload
		if !b.Binary {
			if len(payload) == 0 {
				payload = emptyObject
			}
			if !json.Valid(payload) {
				return 0, fmt.Errorf("%w: broadcast payload is not valid JSON", ErrInvalidChange)
			}
		}
		if b.ID == "" {
			b.ID = newUUIDv4() // realtime.send's gen_random_uuid(): random, it orders nothing
		}
		meta := append(append([]byte(`{"id":`), appendString(nil, b.ID)...), '}')
		topic := "realtime:" + b.Topic
		f := fanout{id: b.ID, v2: &phoenix.Message{Kind: phoenix.KindUserBroadcast, Topic: topic, Event: phoenix.EventBroadcast,
			UserEvent: b.Event, Payload: payload, Binary: b.Binary, Meta: meta}}
		if !b.Binary {
			f.v1 = &phoenix.Message{Topic: topic, Event: phoenix.EventBroadcast, UserEvent: b.Event, Payload: payload, Meta: meta}
		}
		ps[i] = prepared{b: b, f: f, raw: payload}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("realtimetest: emit broadcast: %w", ErrServerClosed)
	}
	at := time.Now() // now(): the transaction's start, shared by its rows
	for _, p := range ps {
		if p.b.Private { // realtime.send inserts a row; private rows are replayable
			s.store(StoredBroadcast{ID: p.b.ID, Topic: p.b.Topic, Event: p.b.Event, Payload: append([]byte(nil), p.raw...),
				Binary: p.b.Binary, InsertedAt: at})
		}
	}
	n := 0
	for _, p := range ps { // committed: the replication stream delivers them in order
		s.countEvent(1)
		n += s.fanoutBroadcast(pubsubTopic(p.b.Topic, p.b.Private), nil, p.f)
	}
	return n, nil
}
