package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
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
	emit := ch.presence.events.Emit
	if ch.shared { // and to every holder
		emit = func(ev presenceEvent) {
			ch.presence.events.Emit(ev)
			ch.eachHolder(func(h *Channel) { h.presence.events.Emit(ev) })
		}
	}
	if m.Event == phoenix.EventPresenceState {
		ch.presenceSeen.Store(true)
		err = ch.presence.tracker.HandleStateFunc(jr, m.Payload, emit)
	} else {
		// Public channels get diffs even with presence off; without a
		// presence_state ever coming they would only pile up.
		if !ch.presenceOn() && !ch.presenceSeen.Load() {
			return
		}
		err = ch.presence.tracker.HandleDiffFunc(jr, m.Payload, emit)
	}
	if err != nil {
		ch.ev.undecodable(&PayloadError{Topic: m.Topic, Event: m.Event, Err: err})
	}
}

// presenceOn reports whether the channel's joins enable presence.
func (ch *Channel) presenceOn() bool { return ch.cfg.presenceEnabled || ch.presenceWanted.Load() }

// Track announces this client's presence on the channel with meta (any
// value that marshals to a JSON object) and returns once the server holds
// it. Tracking again replaces the meta (others see a [presence.Update]).
//
// The server limits a channel's presence calls ([WithPresenceLimit]: 5 per
// 30 s by default) and shuts the channel down past the limit; Track and
// [Channel.Untrack] stay within it. One call is on the wire at a time, and
// a call the window does not allow yet waits, without a timeout of its own
// (bound it with ctx): the latest value wins. A Track whose value was
// replaced by a later Track or Untrack before it went out returns
// [ErrPresenceSuperseded]; calls for the value already waiting share its
// outcome. A Track of the value the server already holds (for this join)
// returns nil at once and costs no call.
//
// The server forgets a channel's presence when its join ends, so after
// every rejoin the channel tracks the last value it tracked again (as one
// call of the new join's budget), unless it was untracked. A Track waiting
// when the socket drops goes out under the next join; one sent and not
// answered before the drop goes out again there too (at most three times
// in a row). Once sent, the reply is awaited for the push timeout
// ([WithPushTimeout]); past it Track returns [ErrPushTimeout] and the
// server may or may not hold the value. A server's refusal is a
// [*ReplyError]; a meta that is not a JSON object is refused before
// anything is sent, with an error wrapping [ErrInvalidPresence].
func (ch *Channel) Track(ctx context.Context, meta any) error {
	raw, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPresence, err)
	}
	if !isJSONObject(raw) {
		return fmt.Errorf("%w: the meta must marshal to a JSON object, not %.20s", ErrInvalidPresence, raw)
	}
	v, err := trackValue(raw)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPresence, err)
	}
	p, err := ch.pushing() // a holder of a shared channel tracks through the join it shares
	if err != nil {
		return err
	}
	return p.presenceCall(ctx, v)
}

// Untrack removes this client's presence from the channel and returns once
// the server has. It is a presence call as [Channel.Track] is: within the
// limit, replacing a Track still waiting (which returns
// [ErrPresenceSuperseded]), and free when nothing is tracked. After it, a
// rejoin tracks nothing.
func (ch *Channel) Untrack(ctx context.Context) error {
	p, err := ch.pushing()
	if err != nil {
		return err
	}
	return p.presenceCall(ctx, untrackValue)
}

// isJSONObject reports whether raw, valid JSON, is an object.
func isJSONObject(raw []byte) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

// presenceCall asks the server to hold v and waits for the outcome.
func (ch *Channel) presenceCall(ctx context.Context, v presenceValue) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := &phoenix.Message{Topic: ch.topic, Event: phoenix.EventPresence, Payload: v.payload}
	if size := minFrameSize(m); int64(size) > ch.maxFrame {
		_, err := ch.host.outcome(m, socket.Reply{}, &socket.FrameSizeError{Size: size, Limit: int(ch.maxFrame)}, false, time.Time{})
		return err
	}
	ch.mu.Lock()
	if err := ch.pushableLocked(); err != nil {
		ch.mu.Unlock()
		return err
	}
	ref := ""
	if ch.state == stJoined {
		ref = ch.currentJoinRef()
	}
	ch.mu.Unlock()
	w := make(chan error, 1)
	call := ch.presence.sender.want(v, w, ref)
	if call != nil {
		ch.pumpPresence()
	}
	select {
	case err := <-w:
		return err
	case <-ctx.Done():
		ch.presence.sender.withdraw(call, w)
		select {
		case err := <-w: // told meanwhile
			return err
		default:
			return ctx.Err()
		}
	}
}

// pumpPresence sends the channel's next presence call if the channel is joined and the budget allows
// it, or arms a timer for when it will. It holds sendMu while it sends, so that no join goes out
// between the decision and the push: a presence push reaches either the join it was decided for or
// no channel process (an "unmatched topic" reply, and it goes out again). Never on the reader: the push
// may wait for room in the socket's write queue.
func (ch *Channel) pumpPresence() {
	ch.sendMu.Lock()
	defer ch.sendMu.Unlock()
	ch.mu.Lock()
	ref := ""
	if ch.state == stJoined && !ch.isGone() && ch.wire.Session() == ch.joinSession {
		ref = ch.currentJoinRef()
	}
	ch.mu.Unlock()
	m, seq, wait := ch.presence.sender.next(ref, ch.topic, time.Now())
	if wait > 0 {
		ch.presence.sender.arm(wait, ch.pumpPresence)
	}
	if m == nil {
		return
	}
	ch.wire.PushAsync(m, ch.pushTimeout, func(r socket.Reply, err error) { ch.presenceDone(m, seq, r, err) })
}

// presenceDone records the outcome of presence push seq and sends what waits, off the goroutine that
// resolved it (the reader, a timer, the end of a session).
func (ch *Channel) presenceDone(m *phoenix.Message, seq uint64, r socket.Reply, err error) {
	_, err = ch.host.outcome(m, r, err, true, time.Time{})
	if ch.presence.sender.outcome(seq, presenceOutcomeOf(err), err, time.Now()) {
		go ch.pumpPresence()
	}
}

// presenceOutcomeOf classifies the error of a presence push.
func presenceOutcomeOf(err error) presenceOutcome {
	var re *ReplyError
	switch {
	case err == nil:
		return presenceOK
	case errors.As(err, &re) && re.Reason == "unmatched topic":
		return presenceUnsent // it reached no channel process (a rejoin on its way)
	case re != nil:
		return presenceRefused
	case errors.Is(err, errPresenceReturned), errors.Is(err, socket.ErrNoSession), errors.Is(err, socket.ErrSuperseded):
		return presenceUnsent
	case errors.Is(err, ErrClosed):
		return presenceFailed
	case errors.Is(err, ErrConnectionLost):
		return presenceLost
	}
	return presenceUnknown
}

// PresenceEvents is the hot stream of the channel's presence joins,
// updates, leaves and syncs, with metas decoded into M (phx_ref and
// phx_ref_prev are in Meta.Ref and Meta.RefPrev). A client that tracks
// again with another meta is one [presence.Update] (the old metas in
// Replaced, the new ones in Presences), where realtime-js reports a leave
// and a join. Calling it turns presence on for the
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
	ch.joinOf().presenceWanted.Store(true)
	raw := ch.presence.events.Stream()
	return stream.Derive(raw, func(ctx context.Context, emit func(presence.Event[M]) bool) error {
		me := newConsumer[M](ch.ev, "PresenceEvents")
		return raw.Run(ctx, func(ev presenceEvent) bool {
			out := presence.Event[M]{Kind: ev.Kind, Key: ev.Key}
			var err error
			if out.Current, err = decodeMetas[M](ev.Current); err == nil {
				if out.Presences, err = decodeMetas[M](ev.Presences); err == nil {
					out.Replaced, err = decodeMetas[M](ev.Replaced)
				}
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
	raw := ch.joinOf().presence.tracker.State()
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
