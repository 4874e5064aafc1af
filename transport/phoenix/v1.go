package phoenix

import "github.com/rxrealtime/rxrealtime/transport/internal/jsonscan"

// V1Serializer is the vsn 1.0.0 serializer: one JSON object per text frame,
//
//	{"topic":T,"event":E,"payload":P,"ref":R,"join_ref":J}
//
// Encode writes the keys in that order (the order realtime-js uses), writes
// ref as null when Message.Ref is empty, and leaves join_ref out when
// Message.JoinRef is empty. It cannot carry binary payloads: a Message with
// Binary set or a Kind other than [KindJSON] is an [*EncodeError]. A user
// broadcast in model form (UserEvent set) is written as the payload object
// {"type":"broadcast","event":UserEvent,"payload":Payload} with a "meta"
// member when Meta is set; a nil Payload is written as {}.
//
// Decode accepts the keys in any order and ignores unknown keys; topic,
// event, payload and ref are required (ref may be null), join_ref is
// optional. The last of duplicate keys wins. The zero value is ready to use
// and safe for concurrent use; [V1] is one.
type V1Serializer struct {
	// LazyPayloads makes Decode find the payload without checking it, as
	// [WithLazyPayloads] does for vsn 2.0.0: every consumer of a payload
	// decodes it with a JSON parser that checks it, so a malformed payload
	// is reported as that consumer's error instead of a [*DecodeError].
	// The envelope (topic, event, refs, the object's structure) is checked
	// as usual. An object or array payload is found by reading the members
	// after it backwards from the end of the frame (the server puts only
	// strings and null there), so a frame costs no pass over its payload;
	// the one thing given up is a member with an object or array value
	// after the payload, which the server never sends: it ends up in the
	// payload, which then fails to decode. Otherwise the payload is stepped
	// over following only strings and brackets. The rxrealtime client's
	// hot path wants this: [V1Lazy] is one.
	LazyPayloads bool
}

// V1 is the vsn 1.0.0 serializer.
var V1 = &V1Serializer{}

// V1Lazy is the vsn 1.0.0 serializer with LazyPayloads.
var V1Lazy = &V1Serializer{LazyPayloads: true}

var _ Serializer = (*V1Serializer)(nil)

// Version returns "1.0.0".
func (*V1Serializer) Version() string { return VersionV1 }

// Encode appends m as a vsn 1.0.0 JSON object to dst. binary is always
// false. On error dst is returned unchanged.
func (*V1Serializer) Encode(dst []byte, m *Message) ([]byte, bool, error) {
	if m.Kind != KindJSON {
		return dst, false, encodeErr("kind", "vsn 1.0.0 has text frames only and cannot carry binary kind "+m.Kind.String())
	}
	if err := checkText(m); err != nil {
		return dst, false, err
	}
	dst = append(dst, `{"topic":`...)
	dst = jsonscan.AppendString(dst, m.Topic)
	dst = append(dst, `,"event":`...)
	dst = jsonscan.AppendString(dst, m.Event)
	dst = append(dst, `,"payload":`...)
	dst = appendTextPayload(dst, m)
	dst = append(dst, `,"ref":`...)
	dst = appendRef(dst, m.Ref)
	if m.JoinRef != "" {
		dst = append(dst, `,"join_ref":`...)
		dst = jsonscan.AppendString(dst, m.JoinRef)
	}
	return append(dst, '}'), false, nil
}

// v1 key bits, to check the required keys.
const (
	v1Topic = 1 << iota
	v1Event
	v1Payload
	v1Ref
	v1Required = v1Topic | v1Event | v1Payload | v1Ref
)

// Decode parses one vsn 1.0.0 frame into m. Payload aliases data.
func (s *V1Serializer) Decode(m *Message, data []byte, binary bool) error {
	*m = Message{}
	f := frame{vsn: VersionV1, binary: binary, data: data}
	if binary {
		return f.fail(0, "vsn 1.0.0 has no binary frames")
	}
	err := decodeV1(m, f, s.LazyPayloads)
	if err != nil {
		*m = Message{}
	}
	return err
}

func decodeV1(m *Message, f frame, lazy bool) error {
	data := f.data
	i, err := f.open(0, '{', "a JSON object")
	if err != nil {
		return err
	}
	var seen int
	if i < len(data) && data[i] == '}' {
		i++
	} else {
		var buf [32]byte
		for {
			key, v, err := jsonscan.Key(data, i, buf[:])
			if err != nil {
				return f.scanFail(err, 0, "object key")
			}
			switch string(key) {
			case "topic":
				m.Topic, i, err = f.str(v, false, "topic")
				seen |= v1Topic
			case "event":
				m.Event, i, err = f.str(v, false, "event")
				seen |= v1Event
			case "payload":
				if lazy {
					var ok bool
					if i, ok = payloadEndFromTail(data, v); !ok {
						i, err = f.locate(v, "payload")
					}
				} else {
					i, err = f.skip(v, "payload")
				}
				m.Payload = data[v:i:i]
				seen |= v1Payload
			case "ref":
				m.Ref, i, err = f.str(v, true, "ref")
				seen |= v1Ref
			case "join_ref":
				m.JoinRef, i, err = f.str(v, true, "join_ref")
			default:
				i, err = f.skip(v, "value of an unknown key")
			}
			if err != nil {
				return err
			}
			var more bool
			if i, more, err = f.next(i, '}', "object"); err != nil {
				return err
			}
			if !more {
				break
			}
		}
	}
	if err := f.end(i); err != nil {
		return err
	}
	if seen != v1Required {
		return f.fail(i, "missing key "+missingV1(seen))
	}
	return nil
}

func missingV1(seen int) string {
	switch {
	case seen&v1Topic == 0:
		return `"topic"`
	case seen&v1Event == 0:
		return `"event"`
	case seen&v1Payload == 0:
		return `"payload"`
	}
	return `"ref"`
}
