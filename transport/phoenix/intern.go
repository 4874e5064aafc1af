package phoenix

// intern returns a shared string equal to b for the event names, topics and
// reply statuses that nearly every frame carries, so that decoding them does
// not allocate. ok is false when b is not one of them.
func intern(b []byte) (s string, ok bool) {
	// The compiler turns a switch on string(b) into comparisons without
	// converting (and so without allocating).
	switch string(b) {
	case EventReply:
		return EventReply, true
	case EventPostgres:
		return EventPostgres, true
	case EventBroadcast:
		return EventBroadcast, true
	case EventPresenceDiff:
		return EventPresenceDiff, true
	case EventPresenceState:
		return EventPresenceState, true
	case EventPresence:
		return EventPresence, true
	case EventSystem:
		return EventSystem, true
	case EventClose:
		return EventClose, true
	case EventError:
		return EventError, true
	case EventHeartbeat:
		return EventHeartbeat, true
	case EventJoin:
		return EventJoin, true
	case EventLeave:
		return EventLeave, true
	case EventAccessToken:
		return EventAccessToken, true
	case TopicPhoenix:
		return TopicPhoenix, true
	case statusOK:
		return statusOK, true
	case statusError:
		return statusError, true
	case statusTimeout:
		return statusTimeout, true
	case "":
		return "", true
	}
	return "", false
}

// Reply statuses.
const (
	statusOK      = "ok"
	statusError   = "error"
	statusTimeout = "timeout"
)

// bytesString returns b as a string, shared when it is well known and in a
// single allocation otherwise.
func bytesString(b []byte) string {
	if s, ok := intern(b); ok {
		return s
	}
	return string(b)
}
