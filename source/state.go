package source

import (
	"time"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
)

// State is the connection state of a [Client].
type State uint8

const (
	// StateConnecting: the first dial is in progress.
	StateConnecting State = iota
	// StateOpen: a session is established; pushes go straight out.
	StateOpen
	// StateReconnecting: a session ended without the user asking; the
	// client waits for the backoff delay, then dials again.
	StateReconnecting
	// StateClosed: the user closed the client, or reconnects ran out.
	StateClosed
	// StateIdle: no channel was left for the [WithIdleDisconnect] delay,
	// so the socket was closed; the next channel Subscribe reconnects.
	StateIdle
)

// States returns every connection state, in declaration order, for code
// that reports one series a state (metrics exporters). The slice is new.
func States() []State {
	return []State{StateConnecting, StateOpen, StateReconnecting, StateClosed, StateIdle}
}

// String returns the state's name.
func (s State) String() string { return socket.State(s).String() }

// StateChange is one transition of the connection state.
type StateChange struct {
	State State
	// Attempt counts consecutive reconnect attempts (StateReconnecting);
	// it resets once a session opens.
	Attempt int
	// Delay is the backoff wait before the next dial (StateReconnecting).
	Delay time.Duration
	// Cause is why the previous session ended (StateReconnecting,
	// StateClosed), nil for a close the user asked for.
	Cause error
	// At is when the transition happened.
	At time.Time
}

// HeartbeatStatus is the outcome of one heartbeat.
type HeartbeatStatus uint8

const (
	// HeartbeatSent: a heartbeat went out.
	HeartbeatSent HeartbeatStatus = iota
	// HeartbeatOK: its reply arrived with status ok.
	HeartbeatOK
	// HeartbeatError: its reply arrived with another status.
	HeartbeatError
	// HeartbeatTimeout: no reply in time; the connection is closed and
	// re-established.
	HeartbeatTimeout
)

// String returns the status's name.
func (s HeartbeatStatus) String() string {
	switch s {
	case HeartbeatSent:
		return "sent"
	case HeartbeatOK:
		return "ok"
	case HeartbeatError:
		return "error"
	case HeartbeatTimeout:
		return "timeout"
	}
	return "unknown"
}

// HeartbeatEvent reports one heartbeat step.
type HeartbeatEvent struct {
	Status HeartbeatStatus
	Ref    string
	// Latency is the round trip (HeartbeatOK, HeartbeatError).
	Latency time.Duration
	At      time.Time
}
