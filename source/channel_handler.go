package source

import (
	"fmt"
	"strings"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A channel is its topic's route handler (socket.Handler): it sees every message of the topic on the
// socket's reader first, and learns when sessions open and end and when the socket stops.

// Handle runs on the reader goroutine for every message on the topic (socket.Handler). A message that
// goes on to the topic's stream goes to the message stream of each holder of a shared channel too.
func (ch *Channel) Handle(m *phoenix.Message) bool {
	keep := ch.handle(m)
	if keep {
		ch.toHolders(*m)
	}
	return keep
}

// handle is Handle but for the holders.
func (ch *Channel) handle(m *phoenix.Message) bool {
	cur := ch.currentJoinRef()
	if m.JoinRef != "" && m.JoinRef != cur {
		return false // an outdated message from an earlier join
	}
	switch m.Event {
	case phoenix.EventClose:
		if m.Ref != "" && m.Ref != cur {
			return false
		}
		ch.onServerClose()
	case phoenix.EventError:
		if m.Ref != "" && m.Ref != cur {
			return false
		}
		ch.onServerError()
	case phoenix.EventSystem:
		ch.onSystem(m)
	case phoenix.EventPresenceState, phoenix.EventPresenceDiff:
		ch.onPresence(m)
	case phoenix.EventPostgres:
		ch.deliverChange(m)
	case phoenix.EventBroadcast:
		if ch.cfg.gapFree && !ch.gapFilter(m) {
			return false
		}
		return ch.holdLive(m)
	}
	return true
}

func (ch *Channel) onServerError() {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.state != stJoined && ch.state != stJoining {
		return
	}
	ch.state = stErrored
	ch.lastErr = ErrServerError
	ch.emitStatus(StatusEvent{Status: StatusChannelError, Err: ErrServerError})
	ch.scheduleRejoinLocked()
}

// onServerClose handles a phx_close the user did not ask for (a leave's
// close is handled by Unsubscribe).
func (ch *Channel) onServerClose() {
	ch.mu.Lock()
	if ch.state == stLeaving || ch.state == stClosed || ch.isGone() {
		ch.mu.Unlock()
		return
	}
	reason := &CloseReason{Topic: ch.topic, Message: ch.systemErr}
	reason.expired = isTokenExpiry(ch.systemErr)
	ch.state = stClosed
	ch.lastErr = reason
	ch.leftJoined()
	rejoin := reason.expired && !ch.cfg.noRejoinOnExpiry && ch.subscribed
	if rejoin {
		ch.emitStatus(StatusEvent{Status: StatusClosed, Err: reason})
		ch.scheduleRejoinLocked()
	}
	ch.mu.Unlock()
	if !rejoin {
		ch.finish(reason) // reports CLOSED
	}
}

// isTokenExpiry tells whether a system error message means the access
// token expired or became invalid, which a fresh token cures.
func isTokenExpiry(msg string) bool {
	return strings.HasPrefix(msg, "Token has expired") ||
		strings.Contains(msg, "not a valid JWT") ||
		strings.Contains(msg, "are required in JWT")
}

// Opened rejoins a channel that lost its join with the socket (or is
// waiting to rejoin after a token expiry), at once (socket.Handler).
func (ch *Channel) Opened() {
	ch.mu.Lock()
	ch.stopRejoinLocked()
	ch.tries = 0
	again := ch.subscribed && !ch.isGone() && (ch.state == stErrored || ch.state == stClosed)
	ch.mu.Unlock()
	if again {
		ch.join()
	}
}

// Lost errors a joined or joining channel; the next socket open rejoins it (socket.Handler).
func (ch *Channel) Lost(cause error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.stopRejoinLocked()
	if ch.state != stJoined && ch.state != stJoining {
		return
	}
	err := fmt.Errorf("%w: %w", ErrSocketClosed, cause)
	ch.state = stErrored
	ch.lastErr = err
	ch.leftJoined()
	ch.emitStatus(StatusEvent{Status: StatusChannelError, Err: err})
}

// Stopped closes the channel for good: the client closed (err nil) or gave up (socket.Handler).
func (ch *Channel) Stopped(err error) { ch.finish(err) }
