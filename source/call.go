package source

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// One call's options (CallOption) and what a reply says: the vocabulary of Client.Push, Channel.Push and
// Channel.Send.

// Reply is the server's answer to a push.
type Reply struct {
	// Status is "ok" for success ("error" otherwise; then the push
	// returned a *ReplyError too).
	Status string
	// Response is the raw JSON of the reply's response.
	Response []byte
}

// CallOption tunes one call: [Client.Push], [Channel.Push] or
// [Channel.Send].
type CallOption func(*callConfig)

type callConfig struct {
	timeout time.Duration
	noReply bool
	persist bool
	ttl     time.Duration // persist TTL; 0: none (the server's retention); -1: invalid
	viaREST bool          // ViaRESTIfNotJoined
}

// callOptions applies opts over the push timeout.
func callOptions(timeout time.Duration, opts []CallOption) callConfig {
	cc := callConfig{timeout: timeout}
	for _, o := range opts {
		if o != nil {
			o(&cc)
		}
	}
	return cc
}

// Timeout overrides the client's push timeout (see [WithPushTimeout]) for
// one call.
func Timeout(d time.Duration) CallOption { return func(cc *callConfig) { cc.timeout = d } }

// NoReply sends without waiting for a reply (the server sends none, as
// for access_token or an unacknowledged broadcast). [Channel.Send] waits
// for a reply only with [WithBroadcastAck]; NoReply makes it not wait
// even then.
func NoReply() CallOption { return func(cc *callConfig) { cc.noReply = true } }

// Persist asks the server to store a broadcast sent with [Channel.Send],
// so that channels joining later with [WithBroadcastReplay] receive it,
// for as long as the server keeps messages. It is realtime-js's
// send({..., persist: true}): the kind 3 frame carries the metadata
// {"persist":true}. Private channels over vsn 2.0.0 only; elsewhere Send
// fails with [ErrPersistUnsupported] and sends nothing. The server decides
// what it stores (Supabase authorizes persistence with RLS); with
// [WithBroadcastAck] its reply to a stored message carries the message id.
// Pushes ignore it.
func Persist() CallOption {
	return func(cc *callConfig) { cc.persist, cc.ttl = true, 0 }
}

// PersistTTL is [Persist] for ttl only: realtime-js's
// send({..., persist: {ttl}}), the metadata {"persist":{"ttl":N}} with N
// in seconds (ttl rounded up to a whole second). A ttl under one second
// makes Send fail with [ErrPersistUnsupported].
func PersistTTL(ttl time.Duration) CallOption {
	return func(cc *callConfig) {
		cc.persist, cc.ttl = true, ttl
		if ttl <= 0 {
			cc.ttl = -1
		}
	}
}

// eventName is the event a user knows a message by: a broadcast's own event.
func eventName(m *phoenix.Message) string {
	if m.UserEvent != "" {
		return m.UserEvent
	}
	return m.Event
}

// noReply is the call configuration of a push that waits for no reply.
var noReply = callConfig{noReply: true}

// pushOutcome is the Metrics outcome of a push's result.
func pushOutcome(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrReply):
		return OutcomeError
	case errors.Is(err, ErrPushTimeout):
		return OutcomeTimeout
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OutcomeCancelled
	case errors.Is(err, ErrConnectionLost):
		return OutcomeConnectionLost
	case errors.Is(err, ErrClosed):
		return OutcomeClosed
	}
	return OutcomeError
}

// replyReason extracts why the server refused a push: response.reason (Realtime's "<Code>: <message>"),
// else response.message, else the response itself when it is a string (the server's
// "payload_size_exceeded"). resp comes from phoenix.ParseReply, whose walk bounded its nesting by
// phoenix.MaxDepth (a deeper reply fails the push with an error wrapping phoenix.ErrTooDeep before it
// gets here).
func replyReason(resp []byte) string {
	var s string
	if json.Unmarshal(resp, &s) == nil {
		return s
	}
	var v struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	if json.Unmarshal(resp, &v) != nil {
		return ""
	}
	if v.Reason != "" {
		return v.Reason
	}
	return v.Message
}
