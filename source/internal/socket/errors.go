package socket

import (
	"errors"
	"strconv"
)

// The socket's errors. Package source re-exports the ones users see under the same names.
var (
	// ErrClosed is returned by operations on a socket that was closed (or gave up).
	ErrClosed = errors.New("rxrealtime: client closed")
	// ErrPushTimeout means no reply arrived within the push's timeout.
	ErrPushTimeout = errors.New("rxrealtime: push timed out waiting for a reply")
	// ErrSendBufferFull means the socket is down and the offline buffer is full: the push was not queued.
	ErrSendBufferFull = errors.New("rxrealtime: offline send buffer full")
	// ErrHeartbeatTimeout is the cause of a session end after a heartbeat got no reply in time.
	ErrHeartbeatTimeout = errors.New("rxrealtime: heartbeat timeout")
	// ErrConnectionLost is wrapped, once, by the error of a push whose session ended after it was written
	// and before its reply arrived, together with why the session ended.
	ErrConnectionLost = errors.New("rxrealtime: connection lost before the reply")
	// ErrNoSession is returned for a message bound to a join (one with a JoinRef that is not a join,
	// leave or access_token) while no session is open: the join it names is gone with its session, so the
	// message is not buffered by the socket; its channel keeps it until it has joined again.
	ErrNoSession = errors.New("rxrealtime: no open session for a message bound to a join")
	// ErrSuperseded resolves the push of a control message dropped from the offline buffer because a newer
	// one made it obsolete or its session ended. A channel ignores it: the join it belonged to is stale.
	ErrSuperseded = errors.New("rxrealtime: superseded by a newer control message")
)

// errIdle ends a session closed by the idle disconnect.
var errIdle = errors.New("rxrealtime: no channel left (idle disconnect)")

// errSessionEnded is what enqueue returns once a session's queue was handed back: the caller tries the
// current session or the offline buffer instead.
var errSessionEnded = errors.New("rxrealtime: session ended")

// FrameSizeError is returned for a message whose encoded frame is larger than the socket's frame limit
// (Config.MaxFrameSize): it is refused before it is queued, and nothing is sent.
type FrameSizeError struct {
	Size, Limit int
}

// Error implements error.
func (e *FrameSizeError) Error() string {
	return "rxrealtime: frame of " + strconv.Itoa(e.Size) + " bytes is larger than the limit of " +
		strconv.Itoa(e.Limit) + " bytes"
}
