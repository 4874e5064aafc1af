package socket

import "time"

// State is the socket's connection state. Package source's State has the same values.
type State uint8

// The states, in the order of source.State.
const (
	StateConnecting State = iota
	StateOpen
	StateReconnecting
	StateClosed
	StateIdle
)

// StateChange is one transition of the connection state.
type StateChange struct {
	State   State
	Attempt int           // consecutive reconnect attempts (StateReconnecting)
	Delay   time.Duration // the backoff wait before the next dial (StateReconnecting)
	Cause   error         // why the previous session ended (StateReconnecting, StateClosed)
	At      time.Time
}

// HeartbeatStatus is the outcome of one heartbeat step. Package source's HeartbeatStatus has the same
// values.
type HeartbeatStatus uint8

// The heartbeat steps.
const (
	HeartbeatSent HeartbeatStatus = iota
	HeartbeatOK
	HeartbeatError
	HeartbeatTimeout
)

// HeartbeatEvent reports one heartbeat step.
type HeartbeatEvent struct {
	Status  HeartbeatStatus
	Ref     string
	Latency time.Duration // the round trip (HeartbeatOK, HeartbeatError)
	At      time.Time
}

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateOpen:
		return "open"
	case StateReconnecting:
		return "reconnecting"
	case StateClosed:
		return "closed"
	case StateIdle:
		return "idle"
	}
	return "unknown"
}
