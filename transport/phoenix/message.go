package phoenix

// Kind tells how a [Message] is (or was) framed on the wire.
//
// KindJSON is a text frame (a vsn 1.0.0 object or a vsn 2.0.0 array). The
// other kinds are the vsn 2.0.0 binary frames; their wire byte is
// Kind-1 (KindPush is byte 0, KindUserBroadcast is byte 4).
type Kind uint8

const (
	// KindJSON is a text frame carrying a JSON envelope and JSON payload.
	KindJSON Kind = iota
	// KindPush is binary kind 0: a push with a raw binary payload.
	KindPush
	// KindReply is binary kind 1: a reply (server → client) whose response is
	// raw bytes; Message.Status holds the reply status.
	KindReply
	// KindBroadcast is binary kind 2: a fan-out broadcast (server → client)
	// with a raw binary payload.
	KindBroadcast
	// KindUserBroadcastPush is binary kind 3: a user broadcast pushed by a
	// client. Event is "broadcast", UserEvent the user's event name, Meta the
	// optional JSON metadata, Payload the user payload (JSON unless Binary).
	KindUserBroadcastPush
	// KindUserBroadcast is binary kind 4: a user broadcast delivered by the
	// server, laid out like KindUserBroadcastPush without refs.
	KindUserBroadcast
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindJSON:
		return "json"
	case KindPush:
		return "push"
	case KindReply:
		return "reply"
	case KindBroadcast:
		return "broadcast"
	case KindUserBroadcastPush:
		return "user_broadcast_push"
	case KindUserBroadcast:
		return "user_broadcast"
	}
	return "unknown"
}

// Well-known event names of the Phoenix and Realtime protocols.
const (
	EventJoin          = "phx_join"
	EventLeave         = "phx_leave"
	EventReply         = "phx_reply"
	EventError         = "phx_error"
	EventClose         = "phx_close"
	EventHeartbeat     = "heartbeat"
	EventBroadcast     = "broadcast"
	EventPresence      = "presence"
	EventPresenceState = "presence_state"
	EventPresenceDiff  = "presence_diff"
	EventPostgres      = "postgres_changes"
	EventSystem        = "system"
	EventAccessToken   = "access_token"
	// TopicPhoenix is the topic of socket-level messages (heartbeats).
	TopicPhoenix = "phoenix"
)

// Message is one Phoenix message: the envelope of a frame plus its payload as
// raw bytes.
//
// An empty JoinRef or Ref stands for JSON null. Payload is raw JSON for
// KindJSON (and for user broadcasts unless Binary is set), and raw bytes
// otherwise. A decoded Message's Payload and Meta may alias the frame it was
// decoded from: the frame must not be reused while the Message is in use.
type Message struct {
	JoinRef string
	Ref     string
	Topic   string
	Event   string
	Payload []byte

	// Kind says how the message is framed. The zero value is KindJSON.
	Kind Kind
	// Binary reports that Payload is raw bytes rather than JSON. It is always
	// true for KindPush, KindReply and KindBroadcast, and follows the payload
	// encoding byte for user broadcasts.
	Binary bool
	// UserEvent is the user's event name of a user broadcast (kinds 3 and 4).
	UserEvent string
	// Meta is the raw JSON metadata of a user broadcast, nil when absent.
	Meta []byte
	// Status is the reply status of a KindReply message.
	Status string
}
