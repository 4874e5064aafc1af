package phoenix

import "github.com/rxrealtime/rxrealtime/transport/internal/jsonscan"

// V2Serializer is the vsn 2.0.0 serializer, the default of realtime-js and
// phoenix.js. Build one with [NewV2]; [V2] is the default (client side,
// user broadcasts as text). It is safe for concurrent use.
//
// Text frames carry a JSON array [join_ref, ref, topic, event, payload]
// with null for an empty ref. Decode tolerates extra trailing elements, as
// the server does. A nil Payload is written as {}.
//
// Binary frames are selected by Message.Kind (see [Kind]) and laid out as
// in Phoenix and Supabase Realtime; every length is one byte, so each of
// join_ref, ref, topic, event, status, user event and metadata is at most
// 255 bytes, and a longer one is an [*EncodeError] naming the field:
//
//	kind 0 push, client → server: 0 jr_len ref_len topic_len event_len | join_ref ref topic event | payload
//	kind 0 push, server → client: 0 jr_len topic_len event_len | join_ref topic event | payload
//	kind 1 reply:      1 jr_len ref_len topic_len status_len | join_ref ref topic status | response
//	kind 2 broadcast:  2 topic_len event_len | topic event | payload
//	kind 3 user broadcast push: 3 jr_len ref_len topic_len uevent_len meta_len enc | join_ref ref topic uevent meta | payload
//	kind 4 user broadcast:      4 topic_len uevent_len meta_len enc | topic uevent meta | payload
//
// enc is 0 for a binary payload and 1 for a JSON one. Strings in binary
// frames are taken as raw bytes; they are not checked to be UTF-8. Which kind 0 layout
// is written and read depends on the serializer's [Side]: a client encodes
// the first and decodes the second, a server the reverse. Other kinds are
// read on either side. Decoded kinds 0, 1 and 2 have Binary set; kind 1 has
// Event "phx_reply" and Status set; kinds 3 and 4 have Event "broadcast",
// UserEvent, Meta (nil when absent) and Binary from enc. A JSON user payload
// and the metadata are checked to be well-formed JSON. Encoding a kind that
// cannot carry a field that is set (a ref in kinds 2 and 4 or in a server
// push, a status outside kind 1, metadata outside kinds 3 and 4) is an
// [*EncodeError] rather than a silent drop.
//
// User broadcasts in model form (KindJSON, Event "broadcast", UserEvent
// set, Payload the user payload, Meta the metadata) are written as text
// with the payload {"type":"broadcast","event":UserEvent,"payload":Payload}
// plus "meta" when Meta is set, unless [WithBinaryUserBroadcasts] asks for
// binary frames.
type V2Serializer struct {
	cfg v2Config
}

// V2 is the vsn 2.0.0 serializer for clients, with default options.
var V2 = NewV2()

var _ Serializer = (*V2Serializer)(nil)

// NewV2 returns a vsn 2.0.0 serializer configured by opts.
func NewV2(opts ...Option) *V2Serializer {
	s := &V2Serializer{}
	for _, o := range opts {
		o(&s.cfg)
	}
	return s
}

// Version returns "2.0.0".
func (*V2Serializer) Version() string { return VersionV2 }

// Side returns the end of the socket the serializer runs on.
func (s *V2Serializer) Side() Side { return s.cfg.side }

// Encode appends the wire form of m to dst: a text frame for [KindJSON]
// (or a binary one for user broadcasts with [WithBinaryUserBroadcasts]),
// the binary frame of the kind otherwise. On error dst is returned
// unchanged.
func (s *V2Serializer) Encode(dst []byte, m *Message) ([]byte, bool, error) {
	if m.Kind != KindJSON {
		return s.encodeBinary(dst, m)
	}
	if s.cfg.binaryBroadcasts && m.Event == EventBroadcast && m.Status == "" {
		if out, ok, err := s.encodeBroadcastBinary(dst, m); ok || err != nil {
			return out, ok, err
		}
	}
	if err := checkText(m); err != nil {
		return dst, false, err
	}
	dst = append(dst, '[')
	dst = appendRef(dst, m.JoinRef)
	dst = append(dst, ',')
	dst = appendRef(dst, m.Ref)
	dst = append(dst, ',')
	dst = jsonscan.AppendString(dst, m.Topic)
	dst = append(dst, ',')
	dst = jsonscan.AppendString(dst, m.Event)
	dst = append(dst, ',')
	dst = appendTextPayload(dst, m)
	return append(dst, ']'), false, nil
}

// Decode parses one vsn 2.0.0 frame into m. Payload and Meta alias data.
func (s *V2Serializer) Decode(m *Message, data []byte, binary bool) error {
	*m = Message{}
	var err error
	if binary {
		err = s.decodeBinary(m, frame{vsn: VersionV2, binary: true, data: data})
	} else {
		err = decodeV2Text(m, frame{vsn: VersionV2, data: data}, s.cfg.lazy)
	}
	if err != nil {
		*m = Message{}
	}
	return err
}

func decodeV2Text(m *Message, f frame, lazy bool) error {
	data := f.data
	i, err := f.open(0, '[', "a JSON array")
	if err != nil {
		return err
	}
	if m.JoinRef, i, err = f.str(i, true, "join_ref"); err != nil {
		return err
	}
	if i, err = f.comma(i); err != nil {
		return err
	}
	if m.Ref, i, err = f.str(i, true, "ref"); err != nil {
		return err
	}
	if i, err = f.comma(i); err != nil {
		return err
	}
	if m.Topic, i, err = f.str(i, false, "topic"); err != nil {
		return err
	}
	if i, err = f.comma(i); err != nil {
		return err
	}
	if m.Event, i, err = f.str(i, false, "event"); err != nil {
		return err
	}
	if i, err = f.comma(i); err != nil {
		return err
	}
	start := i
	if lazy {
		return lazyPayload(m, f, start)
	}
	if i, err = f.skip(i, "payload"); err != nil {
		return err
	}
	m.Payload = data[start:i:i]
	for {
		var more bool
		if i, more, err = f.next(i, ']', "array"); err != nil {
			return err
		}
		if !more {
			break
		}
		// Extra trailing elements are tolerated, but must be valid JSON.
		if i, err = f.skip(i, "extra element"); err != nil {
			return err
		}
	}
	return f.end(i)
}

// comma expects the ',' between the five array elements.
func (f frame) comma(i int) (int, error) {
	i = jsonscan.SkipSpace(f.data, i)
	if i >= len(f.data) {
		return i, f.fail(i, "unexpected end of frame: the array needs 5 elements")
	}
	if f.data[i] != ',' {
		if f.data[i] == ']' {
			return i, f.fail(i, "the array has fewer than 5 elements")
		}
		return i, f.fail(i, "expected ',' in array")
	}
	return jsonscan.SkipSpace(f.data, i+1), nil
}

// lazyPayload takes the payload of a text frame to be everything between
// the fourth element and the closing ']' (see [WithLazyPayloads]).
func lazyPayload(m *Message, f frame, start int) error {
	data := f.data
	end := len(data)
	for end > start && isSpace(data[end-1]) {
		end--
	}
	if end <= start || data[end-1] != ']' {
		return f.fail(end, "expected ']' at the end of the frame")
	}
	end--
	for end > start && isSpace(data[end-1]) {
		end--
	}
	if end <= start {
		return f.fail(start, "the array has fewer than 5 elements")
	}
	switch c := data[start]; {
	case c == '{', c == '[', c == '"', c == 't', c == 'f', c == 'n', c == '-', c >= '0' && c <= '9':
	default:
		return f.fail(start, "payload: expected a JSON value")
	}
	m.Payload = data[start:end:end]
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
