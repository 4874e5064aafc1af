package source

import (
	"context"
	"encoding/json"

	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// SystemEvent is a "system" message of the server: postgres_changes
// subscription results, replication readiness, and the error that
// precedes a server-side channel close.
type SystemEvent struct {
	Extension string `json:"extension"`
	Status    string `json:"status"`
	Message   string `json:"message"`
	Channel   string `json:"channel"`
}

// PostgresReady reports the "Subscribed to PostgreSQL" message.
func (e SystemEvent) PostgresReady() bool {
	return e.Extension == "postgres_changes" && e.Status == "ok"
}

func parseSystem(payload []byte) (SystemEvent, bool) {
	var ev SystemEvent
	if json.Unmarshal(payload, &ev) != nil {
		return ev, false
	}
	return ev, true
}

func (ch *Channel) onSystem(m *phoenix.Message) {
	ev, ok := parseSystem(m.Payload)
	if !ok {
		return
	}
	switch {
	case ev.PostgresReady():
		ch.mu.Lock()
		ch.pgReady = true
		if ch.cfg.waitForPostgres {
			ch.markUpLocked()
		}
		ch.mu.Unlock()
	case ev.Status == "error" && ev.Extension == "system":
		ch.mu.Lock()
		ch.systemErr = ev.Message
		ch.mu.Unlock()
	case ev.Status == "error":
		ch.c.report(&SystemError{Topic: ch.topic, Event: ev})
	}
}

// Systems is the hot stream of the channel's system messages.
func (ch *Channel) Systems() stream.Stream[SystemEvent] {
	msgs := ch.Messages()
	return stream.Derive(msgs, func(ctx context.Context, emit func(SystemEvent) bool) error {
		return msgs.Run(ctx, func(m phoenix.Message) bool {
			if m.Event != phoenix.EventSystem {
				return true
			}
			ev, ok := parseSystem(m.Payload)
			if !ok {
				return true
			}
			return emit(ev)
		})
	})
}
