package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"

	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Broadcast is one broadcast message, its payload decoded into T.
type Broadcast[T any] struct {
	// Event is the user's event name.
	Event string
	// Payload is the decoded payload. A binary payload is delivered as is
	// when T is []byte.
	Payload T
	// Meta is the raw JSON metadata, nil when absent (replayed broadcasts
	// carry {"id":"...","replayed":true}, database broadcasts {"id":"..."}).
	Meta json.RawMessage
	// ID is the message id from Meta ("id"), "" when it has none: the row
	// id of a stored message (realtime.messages), or the id given to a REST
	// batch message.
	ID string
	// Replayed reports a message replayed on join (see [WithBroadcastReplay]):
	// stored earlier, not sent live.
	Replayed bool
}

// broadcastMeta is the part of a broadcast's metadata the typed stream
// reads.
type broadcastMeta struct {
	ID       string `json:"id"`
	Replayed bool   `json:"replayed"`
}

// Broadcasts is the hot stream of the channel's broadcasts for event
// (compared case-insensitively, as realtime-js does; "*" or "" for all),
// decoded into T. A payload that does not decode is reported on
// [Client.Errors] and skipped.
func Broadcasts[T any](ch *Channel, event string) stream.Stream[Broadcast[T]] {
	return broadcasts(ch, "Broadcasts", event, decodePayload[T])
}

// broadcasts is the stream of Broadcasts (made by the function name), with
// the payloads decoded by decode.
func broadcasts[T any](ch *Channel, name, event string, decode func(payload []byte, binary bool, dst *T) error) stream.Stream[Broadcast[T]] {
	all := event == "" || event == "*"
	// The reader keeps the channel's other traffic (postgres changes, presence, other events of binary
	// broadcasts) out of this consumer's mailbox: it cannot make the consumer slow.
	msgs := ch.msgs.Where(func(m phoenix.Message) bool {
		if m.Event != phoenix.EventBroadcast {
			return false
		}
		if !all && (m.Kind == phoenix.KindUserBroadcast || m.Kind == phoenix.KindUserBroadcastPush) {
			return strings.EqualFold(m.UserEvent, event)
		}
		return true
	})
	return stream.Derive(msgs, func(ctx context.Context, emit func(Broadcast[T]) bool) error {
		me := newConsumer[T](ch.ev, name)
		return msgs.Run(ctx, func(m phoenix.Message) bool {
			if m.Event != phoenix.EventBroadcast {
				return true
			}
			userEvent, payload, meta, binary, err := splitBroadcast(&m)
			if err != nil {
				ch.ev.failed(me, m.Topic, m.Event, "", err)
				return true
			}
			if !all && !strings.EqualFold(userEvent, event) {
				return true
			}
			b := Broadcast[T]{Event: userEvent}
			if len(meta) > 0 {
				b.Meta = append(json.RawMessage(nil), meta...)
				var bm broadcastMeta // metadata of another shape leaves ID and Replayed unset
				if json.Unmarshal(meta, &bm) == nil {
					b.ID, b.Replayed = bm.ID, bm.Replayed
				}
			}
			if err := decode(payload, binary, &b.Payload); err != nil {
				ch.ev.failed(me, m.Topic, m.Event, userEvent, err)
				return true
			}
			return emit(b)
		})
	})
}

// splitBroadcast returns a broadcast's user event, payload and meta from
// either framing: binary kind 4, or the JSON {type, event, payload, meta}.
// Both walks bound nesting by phoenix.MaxDepth (the binary frame decoder
// checks a kind 3/4 JSON payload and meta, phoenix.ParseBroadcast every
// member) and refuse deeper with an error wrapping phoenix.ErrTooDeep: what
// it returns needs no other pass before a decoder (decodePayload, a
// codec's Unmarshal, the meta, the gap-free fingerprint) reads it.
func splitBroadcast(m *phoenix.Message) (event string, payload, meta []byte, binary bool, err error) {
	if m.Kind == phoenix.KindUserBroadcast || m.Kind == phoenix.KindUserBroadcastPush {
		return m.UserEvent, m.Payload, m.Meta, m.Binary, nil
	}
	if m.Binary {
		return "", m.Payload, nil, true, nil
	}
	event, payload, meta, err = phoenix.ParseBroadcast(m.Payload)
	return event, payload, meta, false, err
}

// decodePayload decodes a payload into dst. []byte and json.RawMessage
// destinations take the bytes as they are (copied: the frame is shared).
// The payload comes from splitBroadcast, whose walk bounded its nesting.
func decodePayload[T any](payload []byte, binary bool, dst *T) error {
	switch d := any(dst).(type) {
	case *[]byte:
		*d = append([]byte(nil), payload...)
		return nil
	case *json.RawMessage:
		if binary {
			return errors.New("binary payload for a JSON destination")
		}
		*d = append(json.RawMessage(nil), payload...)
		return nil
	}
	if binary {
		return fmt.Errorf("binary payload (%d bytes) cannot decode into %T; use []byte", len(payload), *dst)
	}
	return json.Unmarshal(payload, dst)
}

// persistMeta returns the kind 3 metadata of a persisted send, or an error
// wrapping ErrPersistUnsupported.
func (ch *Channel) persistMeta(sc *callConfig) ([]byte, error) {
	switch {
	case !ch.cfg.private:
		return nil, fmt.Errorf("%w: %s is a public channel", ErrPersistUnsupported, ch.topic)
	case ch.wire.Version() == phoenix.VersionV1:
		return nil, fmt.Errorf("%w: the socket speaks vsn 1.0.0", ErrPersistUnsupported)
	case sc.ttl < 0 || sc.ttl > 0 && sc.ttl < time.Second:
		return nil, fmt.Errorf("%w: a persist TTL must be at least 1s", ErrPersistUnsupported)
	case sc.ttl == 0:
		return []byte(`{"persist":true}`), nil
	}
	secs := int64((sc.ttl + time.Second - 1) / time.Second)
	return fmt.Appendf(nil, `{"persist":{"ttl":%d}}`, secs), nil
}

// Send broadcasts payload under event to the channel's other subscribers
// (and to this one with WithBroadcastSelf). A []byte payload is sent as
// binary; json.RawMessage as JSON as is; anything else is marshalled to
// JSON. On vsn 2.0.0 it goes out as a binary user-broadcast frame (kind
// 3), as realtime-js does; on vsn 1.0.0 as a JSON broadcast.
//
// With WithBroadcastAck Send waits for the server's acknowledgement
// (unless [NoReply]); without, it returns once the message is queued for
// the socket's writer, before it is written: see [Client.Push] for what
// happens to it if the socket fails, and [Client.Close], which sends what
// is queued before closing. While the channel is subscribed but not joined
// (the socket is reconnecting, a rejoin is on its way) the message waits in
// the channel's buffer ([WithSendBuffer]) and goes out under the next
// join; an acknowledged one waits for its acknowledgement meanwhile, up to
// its timeout. A message never sent (the channel or the client closed
// first) is reported as an [*UnsentError] when Send had already returned.
// On a channel not subscribed Send fails at once with [ErrNotJoined]; a
// message larger than the server's frame limit ([WithMaxFrameSize]) with a
// [*MessageTooLargeError], before anything is queued. The payload may be
// reused once Send returns: a queued message keeps its own copy.
// Without acknowledgement a broadcast is at most once across a lost
// connection: frames already written into a socket the server had closed
// are lost without an error (TCP cannot tell), and the writer writes
// queued frames in batches, so a drop can take up to a batch with it; use
// WithBroadcastAck when every message counts.
// [Timeout] overrides the push timeout; [Persist] and [PersistTTL] ask the
// server to store the message for replay.
func (ch *Channel) Send(ctx context.Context, event string, payload any, opts ...CallOption) error {
	sc := callOptions(ch.pushTimeout, opts)
	var meta []byte
	if sc.persist {
		var err error
		if meta, err = ch.persistMeta(&sc); err != nil {
			return err
		}
	}
	var raw []byte
	binary, borrowed := false, false // borrowed: raw is the caller's
	switch p := payload.(type) {
	case []byte:
		raw, binary, borrowed = p, true, true
	case json.RawMessage:
		raw, borrowed = p, true
	default:
		b, err := json.Marshal(payload)
		if err != nil {
			return fmt.Errorf("rxrealtime: broadcast payload: %w", err)
		}
		raw = b
	}
	if sc.viaREST && !ch.joinedNow() {
		if ch.isGone() || ch.isStopping() {
			return ch.goneError() // closed for good: no transport sends for it any more
		}
		if err := ch.sendREST(ctx, event, raw, binary, &sc); err != nil {
			return fmt.Errorf("rxrealtime: send %q on %q over REST: %w", event, ch.topic, err)
		}
		return nil
	}
	if !ch.cfg.broadcastAck {
		sc.noReply = true
	}
	m := &phoenix.Message{Topic: ch.topic, Event: phoenix.EventBroadcast}
	if ch.wire.Version() == phoenix.VersionV1 {
		if binary {
			return ErrBinaryUnsupported
		}
		env, err := json.Marshal(struct {
			Type    string          `json:"type"`
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
		}{"broadcast", event, raw})
		if err != nil {
			return fmt.Errorf("rxrealtime: broadcast payload: %w", err)
		}
		m.Payload = env
	} else {
		m.Kind = phoenix.KindUserBroadcastPush
		m.UserEvent = event
		m.Payload = raw
		if borrowed {
			m.Payload = socket.OwnPayload(raw, sc.noReply)
		}
		m.Binary = binary
		m.Meta = meta
	}
	p, err := ch.pushing()
	if err != nil {
		return err
	}
	_, err = p.push(ctx, m, sc)
	return err
}
