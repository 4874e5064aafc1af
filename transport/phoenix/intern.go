package phoenix

import "sync/atomic"

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
	if len(b) > maxCachedLen {
		return string(b)
	}
	slot := &recent[hashBytes(b)%uint32(len(recent))]
	if p := slot.Load(); p != nil && *p == string(b) { // compared without converting
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}

// recent caches the other strings frames repeat (a client's topics, user events): a small direct-mapped
// table of the last string seen per hash slot, safe for concurrent decoders (one atomic load per lookup),
// so that a frame on a topic seen before decodes its topic without allocating. Its memory is bounded: a
// miss replaces the slot.
var recent [256]atomic.Pointer[string]

// maxCachedLen bounds what recent keeps: topics and event names, not payload-sized strings.
const maxCachedLen = 128

// hashBytes is FNV-1a.
func hashBytes(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}
