package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A client's pushes: Client.Push, and what a push's outcome means to the user (the errors a socket's reply
// or failure becomes, and the Metrics).

// Push sends a message on topic and waits for its reply. payload is raw
// JSON (nil means {}). It returns when the reply arrives, when the push
// timeout expires ([ErrPushTimeout]), or when ctx ends (ctx.Err()); a reply
// whose status is not "ok" returns a [*ReplyError]. A message whose frame
// would be larger than the server's limit ([WithMaxFrameSize]) is refused
// at once with a [*MessageTooLargeError].
//
// While the socket is down the push waits in the offline buffer (see
// [WithSendBuffer]) and is sent on reconnect; its timeout runs meanwhile.
// While it is up, the push is queued for the socket's writer, which sends
// queued pushes together, in the order they were queued (waiting for room
// when that queue is full, up to ctx).
//
// With [NoReply], Push returns once the message is queued: a later failure
// of the socket does not reach the caller. A message the writer had not
// written, or whose write failed, is sent again on reconnect (so it may
// arrive twice); one still unsent when the client stops, or that the server
// closed the socket for, is reported on [Client.Errors] as an
// [*UnsentError]. A push whose timeout or ctx ended while the socket's
// writer already held it may still go out: a push is withdrawn only from
// the offline buffer.
func (c *Client) Push(ctx context.Context, topic, event string, payload []byte, opts ...CallOption) (Reply, error) {
	if len(payload) == 0 {
		payload = socket.EmptyObject
	}
	pc := callOptions(c.cfg.pushTimeout, opts)
	m := &phoenix.Message{Topic: topic, Event: event, Payload: socket.OwnPayload(payload, pc.noReply)}
	return c.push(ctx, m, pc)
}

// push sends m through the socket and turns the outcome into the client's errors, observed by the Metrics.
func (c *Client) push(ctx context.Context, m *phoenix.Message, pc callConfig) (Reply, error) {
	start := time.Now()
	r, err := c.sock.Push(ctx, m, socket.PushOptions{Timeout: pc.timeout, NoReply: pc.noReply})
	return c.outcome(m, r, err, !pc.noReply, start)
}

// outcome turns a socket push's result into the client's: a frame over the limit is a
// *MessageTooLargeError, a message the serializer refused wraps its *phoenix.EncodeError, and for a push
// that waited for its reply (replied), a reply whose status is not ok is a *ReplyError (the server's text
// redacted). A push that waited for its reply is observed by the
// Metrics, with its latency since start, unless start is zero (a join: observed as a join).
func (c *Client) outcome(m *phoenix.Message, r socket.Reply, err error, replied bool, start time.Time) (Reply, error) {
	out := Reply{Status: r.Status, Response: r.Response}
	var fe *socket.FrameSizeError
	switch {
	case errors.As(err, &fe):
		err = &MessageTooLargeError{Topic: m.Topic, Event: eventName(m), Size: fe.Size, Limit: fe.Limit}
	case errors.Is(err, phoenix.ErrEncode):
		err = fmt.Errorf("rxrealtime: %s on %q cannot be sent: %w", eventName(m), m.Topic, err)
	case err == nil && replied && r.Status != "ok":
		out.Response = c.sec.redactBytes(r.Response)
		err = &ReplyError{Topic: m.Topic, Event: m.Event, Status: r.Status, Reason: replyReason(out.Response), Response: out.Response}
	}
	if replied && !start.IsZero() {
		topic, event, d, outcome := m.Topic, m.Event, time.Since(start), pushOutcome(err)
		c.ev.observe(func(mt Metrics) { mt.Push(topic, event, outcome, d) })
	}
	return out, err
}
