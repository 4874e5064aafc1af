package source

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

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

// ReplicationReady reports the "Replication connection established"
// message that [WithReplicationReady] asks for.
func (e SystemEvent) ReplicationReady() bool {
	return e.Extension == "system" && e.Status == "ok" && e.Message == msgReplicationReady
}

const msgReplicationReady = "Replication connection established"

// parseSystem decodes a system message's payload. No frame decoder has
// walked it (the lazy serializers do not), so its nesting is bounded
// first: deeper than phoenix.MaxDepth is an error wrapping
// phoenix.ErrTooDeep.
func parseSystem(payload []byte) (SystemEvent, error) {
	var ev SystemEvent
	if err := phoenix.CheckDepth(payload); err != nil {
		return ev, err
	}
	err := json.Unmarshal(payload, &ev)
	return ev, err
}

func (ch *Channel) onSystem(m *phoenix.Message) {
	ev, err := parseSystem(m.Payload)
	if err != nil {
		// A system message that does not decode fails alone, and says so: it may have been the error
		// before a close, or the readiness a Subscribe waits for.
		ch.ev.undecodable(&PayloadError{Topic: m.Topic, Event: m.Event, Type: reflect.TypeFor[SystemEvent]().String(), Err: err})
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
	case ev.ReplicationReady():
		ch.mu.Lock()
		if ch.replCh != nil && ch.currentJoinRef() != "" {
			select {
			case <-ch.replCh:
			default:
				close(ch.replCh)
			}
		}
		ch.mu.Unlock()
	case ev.Status == "error" && ev.Extension == "system":
		msg := ch.sec.redact(ev.Message) // becomes a CloseReason's text
		ch.mu.Lock()
		ch.systemErr = msg
		ch.mu.Unlock()
	case ev.Status == "error":
		ev.Message = ch.sec.redact(ev.Message)
		ch.ev.reportAs(ErrorKindSystem, &SystemError{Topic: ch.topic, Event: ev})
	}
}

// Systems is the hot stream of the channel's system messages.
func (ch *Channel) Systems() stream.Stream[SystemEvent] {
	msgs := ch.msgs.Where(func(m phoenix.Message) bool { return m.Event == phoenix.EventSystem })
	return stream.Derive(msgs, func(ctx context.Context, emit func(SystemEvent) bool) error {
		return msgs.Run(ctx, func(m phoenix.Message) bool {
			if m.Event != phoenix.EventSystem {
				return true
			}
			ev, err := parseSystem(m.Payload)
			if err != nil {
				return true // reported once, by onSystem
			}
			return emit(ev)
		})
	})
}

// resetReplicationLocked starts a join's wait for replication readiness:
// the server tells each join anew. ch.mu held.
func (ch *Channel) resetReplicationLocked() {
	if ch.replCh == nil {
		return // no WithReplicationReady: nobody waits for it
	}
	select {
	case <-ch.replCh:
		ch.replCh = make(chan struct{})
	default:
	}
}

// WaitReplicationReady waits until the server reported, for the current
// join, that the tenant's replication connection is up (the
// "Replication connection established" system message of
// [WithReplicationReady]). A wait that spans a rejoin ends with the
// rejoin's message. It fails with [ErrInvalidChannel] on a channel without
// WithReplicationReady, with an error wrapping [ErrChannelClosed] when the
// channel is closed for good first (a [*CloseReason] "Replication
// connection was not established in time" when the server gave up), or
// with ctx's error.
func (ch *Channel) WaitReplicationReady(ctx context.Context) error {
	if !ch.cfg.replicationReady {
		return fmt.Errorf("%w: WaitReplicationReady needs WithReplicationReady", ErrInvalidChannel)
	}
	j := ch.joinOf() // a holder waits for its shared channel's join, and ends when it is released
	j.mu.Lock()
	ready := j.replCh
	j.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ch.gone:
		return closedErr(ch.Err())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SystemError is a system error message that does not close the channel
// (for instance a failed postgres_changes subscription, which the server
// retries). It is published on [Client.Errors]. The client's secrets are
// removed from Event.Message; Error prints at most 200 bytes of it.
type SystemError struct {
	Topic string
	Event SystemEvent
}

// Error implements error.
func (e *SystemError) Error() string {
	return "rxrealtime: " + e.Topic + ": " + excerpt(e.Event.Extension) + ": " + excerpt(e.Event.Message)
}
