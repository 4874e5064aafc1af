package stream

import (
	"log/slog"
	"sync/atomic"
)

// unhandledHandler holds the handler set with SetUnhandledErrorHandler; nil means the default.
var unhandledHandler atomic.Pointer[func(error)]

// SetUnhandledErrorHandler sets the function that receives the terminal errors nobody asked for, and returns
// the previous one (never nil: the default when none was set), so that a caller can restore it:
//
//	prev := stream.SetUnhandledErrorHandler(report)
//	defer stream.SetUnhandledErrorHandler(prev)
//
// A terminal error is unhandled when the consumer has no other way to see it: [Stream.Observe] without
// [OnError], and [Stream.All] (see "Errors nobody asked for" in the package documentation). A stream that
// completes, and the end of a run because the consumer's own context ended or the consumer stopped, are not
// errors and are never reported. [Stream.Run], [Stream.All2] and [Stream.Subscribe] return or keep the error,
// so they never call the handler.
//
// The default handler logs the error with [slog.Default] at Warn: "stream: unhandled terminal error", with
// the error under the key "error". A nil fn restores that default; to discard unhandled errors on purpose,
// set func(error) {}. The handler is called from the consumer's goroutine (Observe's, or the loop's for All),
// once per run, after the last value and before Observe's channel closes; it must not block for long. It is
// safe to call SetUnhandledErrorHandler concurrently with running streams and with itself.
func SetUnhandledErrorHandler(fn func(error)) (previous func(error)) {
	var p *func(error)
	if fn != nil {
		p = &fn
	}
	if old := unhandledHandler.Swap(p); old != nil {
		return *old
	}
	return logUnhandled
}

// logUnhandled is the default handler of unhandled terminal errors.
func logUnhandled(err error) {
	slog.Default().Warn("stream: unhandled terminal error", "error", err)
}

// reportUnhandled passes err, a terminal error nobody asked for, to the current handler. Nil errors are not
// reported.
func reportUnhandled(err error) {
	if err == nil {
		return
	}
	if p := unhandledHandler.Load(); p != nil {
		(*p)(err)
		return
	}
	logUnhandled(err)
}
