package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Reply is the server's answer to a push.
type Reply struct {
	// Status is "ok" for success ("error" otherwise; then the push
	// returned a *ReplyError too).
	Status string
	// Response is the raw JSON of the reply's response.
	Response []byte
}

// pushResult is what a waiting push receives.
type pushResult struct {
	reply Reply
	err   error
}

// pending is a push waiting for its reply.
type pending struct {
	topic, event string
	// session is the id of the session the push was written on, 0 while
	// it waits in the offline buffer.
	session uint64
	// Exactly one of done and cb is set: done for a caller that waits,
	// cb for an asynchronous push (channel joins, leaves), called on the
	// goroutine that resolves the push.
	done chan pushResult // buffered 1
	cb   func(pushResult)
}

func (p *pending) deliver(r pushResult) {
	if p.cb != nil {
		p.cb(r)
		return
	}
	p.done <- r
}

// pendingTable correlates replies to pushes by ref.
type pendingTable struct {
	mu    sync.Mutex
	m     map[string]*pending
	grown bool // m has held more than pendingSmall pushes
}

// pendingSmall is how many pending pushes a table keeps its map's room for.
const pendingSmall = 64

func (t *pendingTable) add(ref string, p *pending) {
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[string]*pending)
	}
	t.m[ref] = p
	if len(t.m) > pendingSmall {
		t.grown = true
	}
	t.mu.Unlock()
}

func (t *pendingTable) take(ref string) *pending {
	t.mu.Lock()
	p := t.m[ref]
	if p != nil {
		delete(t.m, ref)
		if len(t.m) == 0 && t.grown {
			// A map never shrinks: after a burst (10,000 joins) its buckets
			// would stay for the client's lifetime.
			t.m, t.grown = nil, false
		}
	}
	t.mu.Unlock()
	return p
}

func (t *pendingTable) has(ref string) bool {
	t.mu.Lock()
	_, ok := t.m[ref]
	t.mu.Unlock()
	return ok
}

// failWhere fails every push for which match returns true.
func (t *pendingTable) failWhere(match func(*pending) bool, err error) {
	var failed []*pending
	t.mu.Lock()
	for ref, p := range t.m {
		if match(p) {
			delete(t.m, ref)
			failed = append(failed, p)
		}
	}
	t.mu.Unlock()
	for _, p := range failed {
		p.deliver(pushResult{err: err})
	}
}

// failSession fails every push written on session (its reply can no
// longer come), or every push at all when session is 0.
func (t *pendingTable) failSession(session uint64, err error) {
	var failed []*pending
	t.mu.Lock()
	for ref, p := range t.m {
		if session == 0 || p.session == session {
			delete(t.m, ref)
			failed = append(failed, p)
		}
	}
	t.mu.Unlock()
	for _, p := range failed {
		p.deliver(pushResult{err: err})
	}
}

// resolve hands a phx_reply to its push. An error reply's response and reason are the server's text:
// sec removes the client's secrets from them.
func (p *pending) resolve(m *phoenix.Message, sec *secrets) {
	status, resp, err := phoenix.ParseReply(m.Payload)
	if err != nil {
		p.deliver(pushResult{err: err})
		return
	}
	r := Reply{Status: status, Response: resp}
	if status != "ok" {
		r.Response = sec.redactBytes(resp)
		p.deliver(pushResult{reply: r, err: &ReplyError{
			Topic: p.topic, Event: p.event, Status: status, Reason: replyReason(r.Response), Response: r.Response,
		}})
		return
	}
	p.deliver(pushResult{reply: r})
}

// nextRef returns the socket's next ref: one counter per socket shared by
// pushes, joins and heartbeats.
func (c *Client) nextRef() string {
	return strconv.FormatUint(c.ref.Add(1), 10)
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

// callOptions applies opts over the client's push timeout.
func (c *Client) callOptions(opts []CallOption) callConfig {
	cc := callConfig{timeout: c.cfg.pushTimeout}
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

// Push sends a message on topic and waits for its reply. payload is raw
// JSON (nil means {}). It returns when the reply arrives, when the push
// timeout expires ([ErrPushTimeout]), or when ctx ends (ctx.Err()); a reply
// whose status is not "ok" returns a [*ReplyError].
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
// arrive twice); one still unsent when the client stops is reported on
// [Client.Errors] as an [*UnsentError]. A push whose timeout or ctx ended
// while the socket's writer already held it may still go out: a push is
// withdrawn only from the offline buffer.
func (c *Client) Push(ctx context.Context, topic, event string, payload []byte, opts ...CallOption) (Reply, error) {
	if len(payload) == 0 {
		payload = emptyObject
	}
	pc := c.callOptions(opts)
	m := &phoenix.Message{Topic: topic, Event: event, Payload: ownPayload(payload, pc.noReply)}
	return c.push(ctx, m, pc)
}

var emptyObject = []byte("{}")

// ownPayload returns the payload of a push made with the caller's bytes p: a copy when the push waits for
// no reply. Such a push returns once queued, the caller may then reuse p, and a message sent again after a
// failed write (or flushed from the offline buffer) is encoded anew from its payload.
func ownPayload(p []byte, noReply bool) []byte {
	if noReply && len(p) > 0 && &p[0] != &emptyObject[0] {
		return bytes.Clone(p)
	}
	return p
}

// noReply is the call configuration of a push that waits for no reply.
var noReply = callConfig{noReply: true}

func (c *Client) push(ctx context.Context, m *phoenix.Message, pc callConfig) (Reply, error) {
	if err := ctx.Err(); err != nil {
		return Reply{}, err
	}
	m.Ref = c.nextRef()
	var p *pending
	if !pc.noReply {
		p = &pending{topic: m.Topic, event: m.Event, done: make(chan pushResult, 1)}
		c.pending.add(m.Ref, p)
	}
	if err := c.send(ctx, m, false, p != nil); err != nil {
		if p != nil {
			c.pending.take(m.Ref)
		}
		return Reply{}, err
	}
	if p == nil {
		return Reply{}, nil
	}
	start := time.Now()
	timer := time.NewTimer(pc.timeout)
	defer timer.Stop()
	select {
	case r := <-p.done:
		c.observePush(m, pushOutcome(r.err), start)
		return r.reply, r.err
	case <-timer.C:
		c.pending.take(m.Ref)
		c.unbuffer(m)
		c.ctr.pushTimeouts.Add(1)
		c.logAttrs(slog.LevelInfo, "rxrealtime: push timed out", slog.String("topic", m.Topic),
			slog.String("event", m.Event), slog.String("ref", m.Ref), slog.Duration("timeout", pc.timeout))
		c.observePush(m, OutcomeTimeout, start)
		return Reply{}, ErrPushTimeout
	case <-ctx.Done():
		c.pending.take(m.Ref)
		c.unbuffer(m)
		c.observePush(m, OutcomeCancelled, start)
		return Reply{}, ctx.Err()
	}
}

// observePush gives a finished push to the Metrics.
func (c *Client) observePush(m *phoenix.Message, outcome string, start time.Time) {
	topic, event, d := m.Topic, m.Event, time.Since(start)
	c.observe(func(mt Metrics) { mt.Push(topic, event, outcome, d) })
}

// pushOutcome is the Metrics outcome of a push's result.
func pushOutcome(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrReply):
		return OutcomeError
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

// asyncPush finishes an asynchronous push exactly once.
type asyncPush struct {
	mu    sync.Mutex
	timer *time.Timer
	done  bool
	cb    func(pushResult)
}

func (a *asyncPush) finish(r pushResult) {
	a.mu.Lock()
	if a.done {
		a.mu.Unlock()
		return
	}
	a.done = true
	t := a.timer
	a.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	a.cb(r)
}

// pushAsync sends m and calls cb once with its reply, its timeout
// (ErrPushTimeout) or the loss of its session. It never blocks on the
// network beyond a write. force queues m even when the offline buffer is
// full (channel joins and leaves must not be refused by user traffic).
func (c *Client) pushAsync(m *phoenix.Message, timeout time.Duration, force bool, cb func(pushResult)) {
	m.Ref = c.nextRef()
	c.pushAsyncRef(m, timeout, force, cb)
}

// pushAsyncRef is pushAsync for a message whose Ref is already set (a
// join, whose ref is also its join_ref).
func (c *Client) pushAsyncRef(m *phoenix.Message, timeout time.Duration, force bool, cb func(pushResult)) {
	ref := m.Ref
	a := &asyncPush{cb: cb}
	p := &pending{topic: m.Topic, event: m.Event, cb: a.finish}
	c.pending.add(ref, p)
	a.mu.Lock()
	a.timer = time.AfterFunc(timeout, func() {
		if c.pending.take(ref) != nil {
			c.ctr.pushTimeouts.Add(1)
			c.unbuffer(m)
			a.finish(pushResult{err: ErrPushTimeout})
		}
	})
	a.mu.Unlock()
	if err := c.send(context.Background(), m, force, true); err != nil {
		if c.pending.take(ref) != nil {
			a.finish(pushResult{err: err})
		}
	}
}
