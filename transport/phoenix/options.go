package phoenix

// Protocol versions, as sent in the vsn query parameter.
const (
	// VersionV1 is the vsn of the [V1] serializer.
	VersionV1 = "1.0.0"
	// VersionV2 is the vsn of the [V2] serializer.
	VersionV2 = "2.0.0"
)

// Side says which end of the socket a [V2Serializer] runs on. It only
// matters for binary kind 0 (push), whose layout depends on the direction:
// a client-to-server push carries a ref, a server-to-client push does not.
// Every other kind has a single layout and is decoded on either side.
type Side uint8

const (
	// ClientSide encodes kind 0 with a ref (client → server) and decodes
	// kind 0 without one (server → client). It is the default.
	ClientSide Side = iota
	// ServerSide encodes kind 0 without a ref (server → client) and decodes
	// kind 0 with one (client → server). For servers and test servers.
	ServerSide
)

// String returns "client" or "server".
func (s Side) String() string {
	if s == ServerSide {
		return "server"
	}
	return "client"
}

// Option configures a [V2Serializer] built by [NewV2].
type Option func(*v2Config)

type v2Config struct {
	side             Side
	binaryBroadcasts bool
	lazy             bool
}

// WithLazyPayloads makes Decode find a text frame's payload without
// checking it: the payload is taken to be everything between the fourth
// element and the array's closing ']', so a frame costs no pass over its
// payload at all. Every consumer of a payload decodes it with a JSON
// parser that checks it, so a malformed payload is still reported, as the
// consumer's error, instead of as a [*DecodeError]; the envelope (refs,
// topic, event) is checked as usual. The one thing given up is tolerance
// of extra trailing array elements, which the server never sends: they
// end up in the payload, which then fails to decode. Binary frames are
// unaffected. The rxrealtime client uses this on its hot path.
func WithLazyPayloads() Option {
	return func(c *v2Config) { c.lazy = true }
}

// WithSide sets the end of the socket the serializer runs on (default
// [ClientSide]).
func WithSide(s Side) Option {
	return func(c *v2Config) { c.side = s }
}

// WithBinaryUserBroadcasts makes the serializer send user broadcasts as
// binary frames, the way realtime-js 2.91+ does with vsn 2.0.0. With it, a
// [KindJSON] message whose Event is "broadcast" is encoded as:
//
//   - on the client side, binary kind 3 (user broadcast push) when UserEvent
//     is set (UserEvent, Payload and Meta are used as they are), or else when
//     its Payload is a JSON object whose "event" member is a string (the
//     realtime-js rule: "event" becomes the user event, "payload" the user
//     payload, {} when absent or null, and a "persist" member, if any, the
//     metadata {"persist":...}; other members are dropped);
//   - on the server side, binary kind 4 (user broadcast) when UserEvent is
//     set.
//
// Any other message keeps its text frame. Without this option (the
// default), user broadcasts go out as text frames, which servers also
// accept.
func WithBinaryUserBroadcasts(on bool) Option {
	return func(c *v2Config) { c.binaryBroadcasts = on }
}
