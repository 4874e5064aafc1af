package source

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// events is how a client tells its user what happens — the state, error and heartbeat streams, the error
// handler, the logger and the Metrics — and makes the hot streams fed by the socket. The socket's hooks,
// the channels and the client report here; callbacks run on the notifier's goroutine (notify.go), never on
// the socket's reader or writer.
type events struct {
	logger  *slog.Logger
	onError func(error)
	metrics Metrics
	logURL  string

	notify     notifier
	states     *stream.Hub[StateChange]
	errs       *stream.Hub[error]
	heartbeats *stream.Hub[HeartbeatEvent]

	dropped, slow atomic.Uint64 // values dropped by consumers' policies, slow-consumer episodes

	wait      stream.HubOption // how long the socket's hubs wait for room (WithConsumerWait)
	undecoded atomic.Uint64    // payloads that did not decode (PayloadError), per consumer
	consumers atomic.Uint64    // numbers the consumers of typed streams (PayloadError.Consumer)
}

// DefaultStreamBuffer is the mailbox size of a consumer of a stream fed by the socket (Messages, Topic and
// every channel stream) that did not choose one with stream.WithBuffer. When it is full the socket's reader
// waits for room as long as [WithConsumerWait] allows, then the consumer's policy applies, by default
// stream.DropNewest (see the package documentation, "Backpressure").
const DefaultStreamBuffer = 1024

// sideBuffer is the mailbox size of the state, error and heartbeat streams, whose consumers lose the
// oldest events by default.
const sideBuffer = 64

// socketDefaults is the consumer default of the socket's streams, built once: every hub shares it.
var socketDefaults = stream.WithDefaults(stream.DropNewest(), stream.WithBuffer(DefaultStreamBuffer))

func newEvents(logger *slog.Logger, onError func(error), metrics Metrics, logURL string, wait [2]time.Duration) *events {
	e := &events{logger: logger, onError: onError, metrics: metrics, logURL: logURL, wait: stream.WaitForRoom(wait[0], wait[1])}
	side := stream.WithDefaults(stream.DropOldest(), stream.WithBuffer(sideBuffer))
	e.states = stream.NewHub[StateChange](stream.NeverWait(), side, stream.DropCounter(&e.dropped))
	e.errs = stream.NewHub[error](stream.NeverWait(), side, stream.DropCounter(&e.dropped))
	e.heartbeats = stream.NewHub[HeartbeatEvent](stream.NeverWait(), side, stream.DropCounter(&e.dropped))
	e.notify.onPanic = func(r any) {
		if l := e.logger; l != nil {
			l.Error("rxrealtime: a callback panicked", slog.Any("panic", r))
		}
	}
	return e
}

// hub returns a hub fed by the socket's reader: it waits for a consumer whose mailbox is full as long as
// WithConsumerWait allows, its consumers drop the newest messages past DefaultStreamBuffer after that
// unless they chose otherwise, and such a slow consumer is reported, naming topic ("" for a client-wide
// stream). extra are further options.
func hub[T any](e *events, topic string, extra ...stream.HubOption) *stream.Hub[T] {
	opts := append([]stream.HubOption{stream.NeverWait(), socketDefaults, stream.DropCounter(&e.dropped), e.wait,
		stream.OnSlowConsumer(func(ev stream.SlowConsumer) { e.slowConsumer(topic, ev) })}, extra...)
	return stream.NewHub[T](opts...)
}

// report publishes a non-fatal error: on the error stream at once, and to the error handler, the log
// (Warn) and the Metrics (by kind) on the observer goroutine, so that none can stall the caller (often
// the socket's reader).
func (e *events) report(err error) { e.reportAs(errorKind(err), err) }

// reportAs is report for an error whose type does not say its kind.
func (e *events) reportAs(kind string, err error) {
	e.errs.Emit(err)
	if f := e.onError; f != nil {
		e.notify.post(func() { f(err) })
	}
	e.log(slog.LevelWarn, "rxrealtime: error", slog.Any("error", err))
	e.observe(func(m Metrics) { m.Error(kind, err) })
}

// errorKind is the Metrics kind of an error reported by its type (the error's own, not one it wraps):
// one of the ErrorKind* strings.
func errorKind(err error) string {
	switch e := err.(type) {
	case *ReconnectError:
		return ErrorKindReconnect
	case *ChannelError:
		var je *JoinError
		switch {
		case errors.As(e.Err, &je):
			return ErrorKindJoinRefused
		case e.Status == StatusTimedOut:
			return ErrorKindJoinTimeout
		}
		return ErrorKindChannel
	case *SlowConsumerError:
		return ErrorKindSlowConsumer
	case *PayloadError:
		return ErrorKindPayload
	case *UnsentError:
		return ErrorKindUnsent
	case *TokenError:
		return ErrorKindToken
	case *GapError:
		return ErrorKindGap
	}
	if errors.Is(err, phoenix.ErrMalformed) {
		return ErrorKindDecode
	}
	return ErrorKindOther
}

// undecodable counts and reports a payload that did not decode.
func (e *events) undecodable(err *PayloadError) {
	e.undecoded.Add(1)
	e.report(err)
}

// consumer is the identity of one consumer of a typed stream, for its PayloadErrors: the stream's
// function, its target type, and a number of its own.
type consumer struct {
	stream, typ string
	n           uint64
}

// newConsumer numbers a consumer of stream that decodes into T.
func newConsumer[T any](e *events, stream string) consumer {
	return consumer{stream: stream, typ: reflect.TypeFor[T]().String(), n: e.consumers.Add(1)}
}

// failed reports that the consumer could not decode the payload of event (what: its table or broadcast
// event name) on topic.
func (e *events) failed(c consumer, topic, event, what string, err error) {
	e.undecodable(&PayloadError{Topic: topic, Event: event, What: what, Type: c.typ, Stream: c.stream, Consumer: c.n, Err: err})
}

// log logs on the observer goroutine. Attributes never carry a key or a token: URLs are redacted.
func (e *events) log(level slog.Level, msg string, attrs ...slog.Attr) {
	l := e.logger
	if l == nil || !l.Enabled(context.Background(), level) {
		return
	}
	attrs = append(attrs, slog.String("url", e.logURL))
	e.notify.post(func() { l.LogAttrs(context.Background(), level, msg, attrs...) })
}

// observe runs f with the metrics implementation on the observer goroutine, if there is one.
func (e *events) observe(f func(m Metrics)) {
	if m := e.metrics; m != nil {
		e.notify.post(func() { f(m) })
	}
}

// slowConsumer reports a slow-consumer episode of a stream of topic ("" for client-wide streams).
func (e *events) slowConsumer(topic string, ev stream.SlowConsumer) {
	e.slow.Add(1)
	e.report(&SlowConsumerError{Topic: topic, Queued: ev.Queued, Dropped: ev.Dropped, Blocking: ev.Blocking, Waited: ev.Waited})
	e.observe(func(m Metrics) { m.SlowConsumer(topic, ev.Dropped) })
}

// state publishes a connection state change.
func (e *events) state(sc socket.StateChange) {
	s := StateChange{State: State(sc.State), Attempt: sc.Attempt, Delay: sc.Delay, Cause: sc.Cause, At: sc.At}
	e.states.Emit(s)
	e.observe(func(m Metrics) { m.State(s.State) })
}

// heartbeat publishes a heartbeat step.
func (e *events) heartbeat(hb socket.HeartbeatEvent) {
	ev := HeartbeatEvent{Status: HeartbeatStatus(hb.Status), Ref: hb.Ref, Latency: hb.Latency, At: hb.At}
	e.heartbeats.Emit(ev)
	if ev.Status == HeartbeatOK {
		e.observe(func(m Metrics) { m.Heartbeat(ev.Latency) })
	}
}

// retry publishes a reconnect attempt.
func (e *events) retry(attempt int, delay time.Duration, cause error) {
	e.report(&ReconnectError{Attempt: attempt, Delay: delay, Cause: cause})
	e.observe(func(m Metrics) { m.Reconnect(attempt, delay, cause) })
}

// unsent reports a push that waited for no reply and never went out.
func (e *events) unsent(m *phoenix.Message, err error) {
	e.report(&UnsentError{Topic: m.Topic, Event: eventName(m), Err: err})
}

// stop completes the client's own streams and runs the callbacks queued so far; later posts run inline.
func (e *events) stop() <-chan struct{} {
	e.states.Complete(nil)
	e.errs.Complete(nil)
	e.heartbeats.Complete(nil)
	return e.notify.stop()
}
