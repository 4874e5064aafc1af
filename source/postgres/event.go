package postgres

import "strings"

// EventType is a postgres_changes event: the type of a change, or what a
// [Binding] listens to.
type EventType string

// The event types. [All] only makes sense in a [Binding].
const (
	Insert EventType = "INSERT"
	Update EventType = "UPDATE"
	Delete EventType = "DELETE"
	All    EventType = "*"
)

// Matches reports whether a binding for event e receives a change of type
// t, as realtime-js decides it: "*" matches every type, otherwise the names
// are compared without regard to case. The empty event means "*".
func (e EventType) Matches(t EventType) bool {
	return e == All || e == "" || strings.EqualFold(string(e), string(t))
}

// normalize returns the event as sent to the server, or false if the server
// would not accept it as one of the four events.
func (e EventType) normalize() (EventType, bool) {
	switch {
	case e == "" || e == All:
		return All, true
	case strings.EqualFold(string(e), string(Insert)):
		return Insert, true
	case strings.EqualFold(string(e), string(Update)):
		return Update, true
	case strings.EqualFold(string(e), string(Delete)):
		return Delete, true
	}
	return e, false
}
