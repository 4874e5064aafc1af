package realtimetest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Replay limits of Realtime.Messages.replay/5 (lib/realtime/messages.ex):
// the limit is clamped to 1..25, and 25 is used when the join gives none.
const (
	// ReplayMaxLimit is the most messages one join replays (@hard_limit).
	ReplayMaxLimit = 25
	// ReplayDefaultLimit is the limit of a replay without "limit"
	// (RealtimeChannel.maybe_replay_messages/5: replay_params["limit"] || 25).
	ReplayDefaultLimit = 25
)

// Bounds of Elixir's DateTime.from_unix/2 in milliseconds (years -9999 to
// 9999); a "since" outside them is "Replay params are not valid".
const (
	minReplaySince = -377_705_116_800_000
	maxReplaySince = 253_402_300_799_999
)

// replayFuture is how far past now a stored message may be and still be
// replayed: messages/5 searches inserted_at < now + 1 minute.
const replayFuture = time.Minute

// StoredBroadcast is one private broadcast kept for replay: a row of
// realtime.messages with extension "broadcast" and private true.
type StoredBroadcast struct {
	// ID is the row id, delivered as meta.id; [Server.StoreBroadcast]
	// generates a UUID when it is empty.
	ID string
	// Topic is the channel name, without "realtime:".
	Topic string
	// Event is the user event name.
	Event string
	// Payload is the JSON payload, or raw bytes when Binary is set.
	Payload []byte
	// Binary marks a binary payload (the binary_payload column): replayed as
	// binary kind 4 on vsn 2.0.0, not replayed on vsn 1.0.0.
	Binary bool
	// InsertedAt is the row's inserted_at; [Server.StoreBroadcast] uses now
	// when it is zero.
	InsertedAt time.Time
	// ExpiresAt is when a persist TTL ends, zero for none. Expired messages
	// are not replayed (an emulator extension: see the package doc).
	ExpiresAt time.Time
}

// storedMessage is a StoredBroadcast plus its insertion sequence, which
// orders messages with the same inserted_at.
type storedMessage struct {
	StoredBroadcast
	seq uint64
}

// StoreBroadcast stores a private broadcast for replay without delivering
// it to anyone, as a row inserted into realtime.messages with
// skip_broadcast would be (the server's own tests insert such fixtures to
// test replay). It returns the message id. The error wraps
// [ErrInvalidChange] for an empty topic or event or a JSON payload that is
// not valid JSON, and [ErrServerClosed] after Close.
func (s *Server) StoreBroadcast(b StoredBroadcast) (string, error) {
	if b.Topic == "" || b.Event == "" {
		return "", fmt.Errorf("%w: stored broadcast topic and event are required", ErrInvalidChange)
	}
	if !b.Binary {
		if len(b.Payload) == 0 {
			b.Payload = emptyObject
		}
		if !json.Valid(b.Payload) {
			return "", fmt.Errorf("%w: stored broadcast payload is not valid JSON", ErrInvalidChange)
		}
	}
	b.Payload = append([]byte(nil), b.Payload...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", fmt.Errorf("realtimetest: store broadcast: %w", ErrServerClosed)
	}
	return s.store(b), nil
}

// StoredBroadcasts returns the broadcasts stored for replay on the private
// channel topic (without "realtime:"), oldest first, expired ones
// included.
func (s *Server) StoredBroadcasts(topic string) []StoredBroadcast {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs := s.stored[topic]
	out := make([]StoredBroadcast, len(msgs))
	for i, m := range msgs {
		out[i] = m.StoredBroadcast
		out[i].Payload = append([]byte(nil), m.Payload...)
	}
	slices.SortStableFunc(out, func(a, b StoredBroadcast) int { return a.InsertedAt.Compare(b.InsertedAt) })
	return out
}

// store keeps b for replay and returns its id. The caller holds s.mu.
func (s *Server) store(b StoredBroadcast) string {
	if b.ID == "" {
		b.ID = newUUIDv4()
	}
	if b.InsertedAt.IsZero() {
		b.InsertedAt = time.Now()
	}
	s.storeSeq++
	s.stored[b.Topic] = append(s.stored[b.Topic], &storedMessage{StoredBroadcast: b, seq: s.storeSeq})
	return b.ID
}

// persistRequest reads a "persist" value as realtime-js sends it: true, or
// {"ttl": seconds}. An object without a usable ttl persists without one
// (realtime-js sends persist=true for {ttl: undefined}); false, null and
// anything else do not persist.
func persistRequest(raw json.RawMessage, present bool) (persist bool, ttl time.Duration) {
	if !present {
		return false, 0
	}
	switch string(raw) {
	case "true":
		return true, 0
	case "false", "null":
		return false, 0
	}
	obj, err := parseObject(raw)
	if err != nil || obj == nil {
		return false, 0
	}
	if t, ok := obj.get("ttl"); ok {
		if v, isNum, _ := jsonNumber(t); isNum && v > 0 && v < math.MaxInt32 {
			return true, time.Duration(v * float64(time.Second))
		}
	}
	return true, 0
}

// persistFromMeta reads the persist request of a kind 3 broadcast's
// metadata, {"persist":true} or {"persist":{"ttl":N}}.
func persistFromMeta(meta []byte) (bool, time.Duration) {
	if len(meta) == 0 {
		return false, 0
	}
	obj, err := parseObject(meta)
	if err != nil {
		return false, 0
	}
	return persistRequest(obj.get("persist"))
}

// persistBroadcast stores a client broadcast sent on a private channel
// that asked for persistence, and returns its id ("" when nothing was
// stored). The caller holds s.mu.
func (s *Server) persistBroadcast(ch *channel, m *phoenix.Message) string {
	if !ch.private {
		return ""
	}
	var (
		persist bool
		ttl     time.Duration
		b       = StoredBroadcast{Topic: ch.name}
	)
	switch m.Kind {
	case phoenix.KindUserBroadcastPush:
		persist, ttl = persistFromMeta(m.Meta)
		b.Event, b.Payload, b.Binary = m.UserEvent, m.Payload, m.Binary
	case phoenix.KindJSON:
		obj, err := parseObject(m.Payload)
		if err != nil || obj == nil {
			return ""
		}
		persist, ttl = persistRequest(obj.get("persist"))
		ev, _ := obj.get("event")
		name, ok := jsonString(ev, true)
		if !ok {
			return ""
		}
		b.Event = name
		b.Payload = emptyObject
		if p, ok := obj.get("payload"); ok && string(p) != "null" {
			b.Payload = p
		}
	}
	if !persist || b.Event == "" {
		return ""
	}
	b.Payload = append([]byte(nil), b.Payload...)
	b.InsertedAt = time.Now()
	if ttl > 0 {
		b.ExpiresAt = b.InsertedAt.Add(ttl)
	}
	return s.store(b)
}

// restPersist reads the persist query of POST
// /api/broadcast/:topic/events/:event: persist=true, or persist[ttl]=N
// (seconds), as realtime-js's httpSend writes them. ok is false for a ttl
// that is not a positive integer.
func restPersist(q map[string][]string) (persist bool, ttl time.Duration, ok bool) {
	if v, found := q["persist[ttl]"]; found && len(v) > 0 {
		n, err := strconv.ParseInt(v[0], 10, 32)
		if err != nil || n <= 0 {
			return false, 0, false
		}
		return true, time.Duration(n) * time.Second, true
	}
	if v, found := q["persist"]; found && len(v) > 0 {
		return v[0] == "true", 0, true
	}
	return false, 0, true
}

// replayParams reads broadcast.replay as Realtime.Messages.replay/5 does:
// an integer "since" (ms since the epoch, within DateTime's range) and an
// optional integer "limit" (absent or null: 25), clamped to 1..25.
func replayParams(raw json.RawMessage) (since time.Time, limit int, ok bool) {
	r, err := parseObject(raw)
	if err != nil || r == nil {
		return time.Time{}, 0, false
	}
	sinceRaw, present := r.get("since")
	if !present {
		return time.Time{}, 0, false
	}
	sv, isNum, isInt := jsonNumber(sinceRaw)
	if !isNum || !isInt || sv < minReplaySince || sv > maxReplaySince {
		return time.Time{}, 0, false
	}
	limit = ReplayDefaultLimit
	if lr, present := r.get("limit"); present && string(lr) != "null" {
		lv, isNum, isInt := jsonNumber(lr)
		if !isNum || !isInt {
			return time.Time{}, 0, false
		}
		limit = int(max(min(lv, ReplayMaxLimit), 1))
	}
	return time.UnixMilli(int64(sv)), limit, true
}

// selectReplay returns the messages a replay since/limit sends on topic,
// in the order the real server sends them: the messages inserted at or
// after since (and before now + 1 minute), not expired, ordered by
// inserted_at descending, the first limit of them, reversed. Messages with
// the same inserted_at (one transaction's) come out of the descending
// query in the order they were inserted, as Postgres returns them
// (supabase/realtime#2201), so the reversal turns them around, and a
// limit that cuts them keeps the first inserted. The caller holds s.mu.
func (s *Server) selectReplay(topic string, since time.Time, limit int, now time.Time) []*storedMessage {
	var hits []*storedMessage
	for _, m := range s.stored[topic] {
		if m.InsertedAt.Before(since) || !m.InsertedAt.Before(now.Add(replayFuture)) {
			continue
		}
		if !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt) {
			continue
		}
		hits = append(hits, m)
	}
	// order_by: [desc: inserted_at] (ties in insertion order), limit, then Enum.reverse.
	slices.SortStableFunc(hits, func(a, b *storedMessage) int {
		if c := b.InsertedAt.Compare(a.InsertedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	hits = hits[:min(limit, len(hits))]
	slices.Reverse(hits)
	return hits
}

// replay sends the replayed messages of a channel that just joined,
// right away or, with Faults.SlowReplay, one every d, and records their ids
// at once (RealtimeChannel keeps them in its fastlane metadata from the
// join on), so that live broadcasts carrying one of them are not delivered
// again (MessageDispatcher.already_replayed?/2). The caller holds s.mu.
func (s *Server) replay(ch *channel, msgs []*storedMessage) {
	for _, m := range msgs {
		if ch.replayed == nil {
			ch.replayed = map[string]struct{}{}
		}
		ch.replayed[m.ID] = struct{}{}
	}
	d := time.Duration(s.faults.replayDelay.Load())
	if d <= 0 || len(msgs) == 0 {
		s.sendReplayed(ch, msgs)
		return
	}
	ch.replayQueue = msgs
	ch.holding = true
	s.armReplay(ch, d)
}

// armReplay sends the next message of ch's slow replay after d. The caller
// holds s.mu.
func (s *Server) armReplay(ch *channel, d time.Duration) {
	ch.replayTimer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if ch.closed || ch.c.dead || len(ch.replayQueue) == 0 {
			return
		}
		ch.replayTimer = nil
		s.replayNext(ch)
		if len(ch.replayQueue) > 0 {
			s.armReplay(ch, d)
		}
	})
}

// replayNext sends the next message of ch's slow replay; after the last, it
// sends the frames held behind the replay. The caller holds s.mu.
func (s *Server) replayNext(ch *channel) {
	m := ch.replayQueue[0]
	ch.replayQueue = ch.replayQueue[1:]
	ch.holding = false // the replay's own frames go out
	s.sendReplayed(ch, []*storedMessage{m})
	if len(ch.replayQueue) > 0 {
		ch.holding = true
		return
	}
	held := ch.held
	ch.held = nil
	for _, h := range held {
		ch.c.send(h.m, h.reply)
	}
}

// finishReplay sends the rest of ch's slow replay and the frames held
// behind it now (the channel is ending). The caller holds s.mu.
func (s *Server) finishReplay(ch *channel) {
	for len(ch.replayQueue) > 0 {
		s.replayNext(ch)
	}
}

// heldFrame is a channel's own frame held behind its slow replay.
type heldFrame struct {
	m     phoenix.Message
	reply bool
}

// sendReplayed pushes replayed messages: JSON ones as a channel push
// {"event":E,"meta":{"id":ID,"replayed":true},"payload":P,"type":"broadcast"};
// binary ones as kind 4 with that meta on vsn 2.0.0 and not at all on vsn
// 1.0.0. The caller holds s.mu.
func (s *Server) sendReplayed(ch *channel, msgs []*storedMessage) {
	for _, m := range msgs {
		meta := append(append([]byte(`{"id":`), appendString(nil, m.ID)...), `,"replayed":true}`...)
		if m.Binary {
			if ch.c.vsn != phoenix.VersionV2 {
				continue
			}
			ch.c.send(phoenix.Message{Kind: phoenix.KindUserBroadcast, Topic: ch.topic, Event: phoenix.EventBroadcast,
				UserEvent: m.Event, Payload: m.Payload, Binary: true, Meta: meta}, false)
			continue
		}
		p := append(make([]byte, 0, len(m.Payload)+len(meta)+64), `{"event":`...)
		p = appendString(p, m.Event)
		p = append(p, `,"meta":`...)
		p = append(p, meta...)
		p = append(p, `,"payload":`...)
		p = append(p, m.Payload...)
		p = append(p, `,"type":"broadcast"}`...)
		ch.push(phoenix.EventBroadcast, p)
	}
}

// alreadyReplayed reports whether ch was sent the message id by its
// join's replay. The caller holds s.mu.
func (ch *channel) alreadyReplayed(id string) bool {
	if id == "" || ch.replayed == nil {
		return false
	}
	_, ok := ch.replayed[id]
	return ok
}
