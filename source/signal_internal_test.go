package source

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fired(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestSignals: a signal is made by its first waiter, fire wakes that waiter and leaves the shared closed
// channel, rearm turns a fired signal back into a wait, and an unfired signal keeps its waiters across rearm.
func TestSignals(t *testing.T) {
	var s chan struct{}
	fire(&s) // nobody waited: nothing allocated, but waiting now returns at once
	assert.Equal(t, closedSignal, s)
	assert.True(t, fired(waitChan(&s)))

	rearm(&s)
	assert.Nil(t, s)
	w := waitChan(&s)
	require.False(t, fired(w))
	rearm(&s) // not fired: the waiter keeps its channel
	assert.Equal(t, w, waitChan(&s))
	fire(&s)
	assert.True(t, fired(w), "fire wakes the waiter")
	fire(&s) // idempotent
	assert.True(t, fired(waitChan(&s)))
	assert.True(t, fired(closedSignal))
}
