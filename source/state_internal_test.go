package source

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
)

// The client's states and heartbeat steps are the socket's, value for value: the client converts them
// (events.go) and names them with the socket's String.
func TestStatesMatchTheSocket(t *testing.T) {
	assert.Equal(t, []socket.State{socket.StateConnecting, socket.StateOpen, socket.StateReconnecting, socket.StateClosed, socket.StateIdle},
		[]socket.State{socket.State(StateConnecting), socket.State(StateOpen), socket.State(StateReconnecting), socket.State(StateClosed), socket.State(StateIdle)})
	assert.Equal(t, []socket.HeartbeatStatus{socket.HeartbeatSent, socket.HeartbeatOK, socket.HeartbeatError, socket.HeartbeatTimeout},
		[]socket.HeartbeatStatus{socket.HeartbeatStatus(HeartbeatSent), socket.HeartbeatStatus(HeartbeatOK), socket.HeartbeatStatus(HeartbeatError), socket.HeartbeatStatus(HeartbeatTimeout)})
	assert.Equal(t, "reconnecting", StateReconnecting.String())
}
