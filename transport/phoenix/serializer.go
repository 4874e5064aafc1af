package phoenix

// Serializer turns Messages into WebSocket frames and back.
//
// Implementations must be safe for concurrent use. Encode appends the frame
// to dst (which may be nil) and returns it, with binary reporting whether it
// must be sent as a binary WebSocket frame rather than a text frame. Decode
// fills m from one frame; binary tells whether the frame arrived as a binary
// WebSocket frame. Decode must not decode the payload beyond finding its
// bounds, and may make m.Payload and m.Meta alias data.
//
// Errors from Decode wrap [ErrMalformed] and are of type [*DecodeError];
// errors from Encode wrap [ErrEncode].
type Serializer interface {
	// Version is the protocol version sent as the vsn query parameter,
	// "1.0.0" or "2.0.0".
	Version() string
	// Encode appends the wire form of m to dst.
	Encode(dst []byte, m *Message) (frame []byte, binary bool, err error)
	// Decode parses one frame into m.
	Decode(m *Message, data []byte, binary bool) error
}
