package source

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// onPresence runs on the reader goroutine. The tracker hands each event
// straight to the hub (no copies, no slice of them all): the events share
// their metas with the tracker's state, which is fine because nobody sees
// them raw, the typed views decode them into new slices for their
// consumers. The tracker refuses a payload nested deeper than
// phoenix.MaxDepth before decoding anything, and the message fails alone.
func (ch *Channel) onPresence(m *phoenix.Message) {
	var err error
	jr := ch.currentJoinRef()
	if m.Event == phoenix.EventPresenceState {
		ch.presenceSeen.Store(true)
		err = ch.presence.tracker.HandleStateFunc(jr, m.Payload, ch.presence.events.Emit)
	} else {
		// Public channels get diffs even with presence off; without a
		// presence_state ever coming they would only pile up.
		if !ch.presenceOn() && !ch.presenceSeen.Load() {
			return
		}
		err = ch.presence.tracker.HandleDiffFunc(jr, m.Payload, ch.presence.events.Emit)
	}
	if err != nil {
		ch.ev.undecodable(&PayloadError{Topic: m.Topic, Event: m.Event, Err: err})
	}
}

// presenceOn reports whether the channel's joins enable presence.
func (ch *Channel) presenceOn() bool { return ch.cfg.presenceEnabled || ch.presenceWanted.Load() }

// Track announces this client's presence on the channel with meta (any
// JSON-marshalable value) and waits for the server's reply. Tracking again
// replaces the meta.
func (ch *Channel) Track(ctx context.Context, meta any) error {
	raw, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("rxrealtime: presence meta: %w", err)
	}
	payload, err := json.Marshal(struct {
		Type    string          `json:"type"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
	}{"presence", "track", raw})
	if err != nil {
		return err
	}
	_, err = ch.Push(ctx, phoenix.EventPresence, payload)
	return err
}

// Untrack removes this client's presence from the channel.
func (ch *Channel) Untrack(ctx context.Context) error {
	_, err := ch.Push(ctx, phoenix.EventPresence, []byte(`{"type":"presence","event":"untrack"}`))
	return err
}

// PresenceEvents is the hot stream of the channel's presence joins,
// leaves and syncs, with metas decoded into M (phx_ref and phx_ref_prev
// are in Meta.Ref and Meta.RefPrev). Calling it turns presence on for the
// channel's joins to come (as a presence listener does in realtime-js), so
// the server sends the presence state; [WithPresence] also sets the key. A meta
// that does not decode is reported on [Client.Errors] and the event
// skipped.
//
// A listener that starts (the stream is observed) after the channel joined
// without presence makes the channel leave that join and join again with
// presence on, at once, as realtime-js does for a presence callback added
// to a joined channel: the new join's presence state reaches the listener.
// The statuses go JOINING and SUBSCRIBED again, and until the new join is
// up (a round trip) the channel is not joined: its pushes wait, and what
// the server sends it meanwhile is not received. Observe the stream before
// [Channel.Subscribe], or give [WithPresence], to join with presence from
// the start.
func PresenceEvents[M any](ch *Channel) stream.Stream[presence.Event[M]] {
	ch.presenceWanted.Store(true)
	raw := ch.presence.events.Stream()
	return stream.Derive(raw, func(ctx context.Context, emit func(presence.Event[M]) bool) error {
		me := newConsumer[M](ch.ev, "PresenceEvents")
		return raw.Run(ctx, func(ev presenceEvent) bool {
			out := presence.Event[M]{Kind: ev.Kind, Key: ev.Key}
			var err error
			if out.Current, err = decodeMetas[M](ev.Current); err == nil {
				out.Presences, err = decodeMetas[M](ev.Presences)
			}
			if err != nil {
				ch.ev.failed(me, ch.topic, "presence", "", err)
				return true
			}
			return emit(out)
		})
	})
}

// PresenceState returns a snapshot of the channel's presence state, metas
// decoded into M. A meta that does not decode makes it fail with a
// [*PayloadError] (counted in [Stats].DecodeErrors, not published on
// [Client.Errors]: the caller has it).
func PresenceState[M any](ch *Channel) (presence.State[M], error) {
	raw := ch.presence.tracker.State()
	out := make(presence.State[M], len(raw))
	for k, metas := range raw {
		ms, err := decodeMetas[M](metas)
		if err != nil {
			ch.ev.undecoded.Add(1)
			return nil, &PayloadError{Topic: ch.topic, Event: "presence", Type: reflect.TypeFor[M]().String(), Stream: "PresenceState", Err: err}
		}
		out[k] = ms
	}
	return out, nil
}

func decodeMetas[M any](in []presence.Meta[presence.RawMeta]) ([]presence.Meta[M], error) {
	if in == nil {
		return nil, nil
	}
	out := make([]presence.Meta[M], len(in))
	for i, m := range in {
		out[i] = presence.Meta[M]{Ref: m.Ref, RefPrev: m.RefPrev}
		if err := decodePayload([]byte(m.Value), false, &out[i].Value); err != nil {
			return nil, err
		}
	}
	return out, nil
}
