package phoenix

import (
	"strconv"

	"github.com/rxrealtime/rxrealtime/transport/internal/jsonscan"
)

// Binary frame kind bytes.
const (
	wirePush              = 0
	wireReply             = 1
	wireBroadcast         = 2
	wireUserBroadcastPush = 3
	wireUserBroadcast     = 4
)

// Payload encoding bytes of kinds 3 and 4.
const (
	encodingBinary = 0
	encodingJSON   = 1
)

// layout reads n one-byte field lengths from data[1:1+n] of a binary frame
// whose fixed header is hdr bytes, checks that the fields fit the frame,
// and returns where each field starts; at[n] is where the payload starts.
func (f frame) layout(hdr int, names ...string) (at [6]int, err error) {
	data := f.data
	if len(data) < hdr {
		return at, f.fail(len(data), "binary kind "+strconv.Itoa(int(data[0]))+" needs a "+
			strconv.Itoa(hdr)+"-byte header, the frame has "+strconv.Itoa(len(data))+" bytes")
	}
	off := hdr
	for k, name := range names {
		at[k] = off
		off += int(data[1+k])
		if off > len(data) {
			return at, f.fail(at[k], name+" of "+strconv.Itoa(int(data[1+k]))+
				" bytes runs past the end of the frame ("+strconv.Itoa(len(data))+" bytes)")
		}
	}
	at[len(names)] = off
	return at, nil
}

// field returns field k of a layout as a string (interned when well known).
func (f frame) field(at [6]int, k int) string {
	return bytesString(f.data[at[k]:at[k+1]])
}

// rest returns the payload bytes from off, nil when there are none.
func (f frame) rest(off int) []byte {
	if off >= len(f.data) {
		return nil
	}
	return f.data[off:len(f.data):len(f.data)]
}

// jsonIn validates that data[a:b] is one JSON value (whitespace around it
// allowed) and returns the value's bytes.
func (f frame) jsonIn(a, b int, what string) ([]byte, error) {
	s, e, err := jsonscan.ValidateValue(f.data[a:b])
	if err != nil {
		return nil, f.scanFail(err, a, what)
	}
	return f.data[a+s : a+e : a+e], nil
}

func (s *V2Serializer) decodeBinary(m *Message, f frame) error {
	data := f.data
	if len(data) == 0 {
		return f.fail(0, "empty binary frame")
	}
	switch data[0] {
	case wirePush:
		m.Kind, m.Binary = KindPush, true
		if s.cfg.side == ServerSide { // client → server layout, with a ref
			at, err := f.layout(5, "join_ref", "ref", "topic", "event")
			if err != nil {
				return err
			}
			m.JoinRef, m.Ref, m.Topic, m.Event = f.field(at, 0), f.field(at, 1), f.field(at, 2), f.field(at, 3)
			m.Payload = f.rest(at[4])
			return nil
		}
		at, err := f.layout(4, "join_ref", "topic", "event")
		if err != nil {
			return err
		}
		m.JoinRef, m.Topic, m.Event = f.field(at, 0), f.field(at, 1), f.field(at, 2)
		m.Payload = f.rest(at[3])
		return nil
	case wireReply:
		at, err := f.layout(5, "join_ref", "ref", "topic", "status")
		if err != nil {
			return err
		}
		m.Kind, m.Binary, m.Event = KindReply, true, EventReply
		m.JoinRef, m.Ref, m.Topic, m.Status = f.field(at, 0), f.field(at, 1), f.field(at, 2), f.field(at, 3)
		m.Payload = f.rest(at[4])
		return nil
	case wireBroadcast:
		at, err := f.layout(3, "topic", "event")
		if err != nil {
			return err
		}
		m.Kind, m.Binary = KindBroadcast, true
		m.Topic, m.Event = f.field(at, 0), f.field(at, 1)
		m.Payload = f.rest(at[2])
		return nil
	case wireUserBroadcastPush:
		at, err := f.layout(7, "join_ref", "ref", "topic", "user_event", "meta")
		if err != nil {
			return err
		}
		m.Kind = KindUserBroadcastPush
		m.JoinRef, m.Ref, m.Topic, m.UserEvent = f.field(at, 0), f.field(at, 1), f.field(at, 2), f.field(at, 3)
		return f.userBroadcastBody(m, 6, at[4], at[5])
	case wireUserBroadcast:
		at, err := f.layout(5, "topic", "user_event", "meta")
		if err != nil {
			return err
		}
		m.Kind = KindUserBroadcast
		m.Topic, m.UserEvent = f.field(at, 0), f.field(at, 1)
		return f.userBroadcastBody(m, 4, at[2], at[3])
	}
	return f.fail(0, "unknown binary kind "+strconv.Itoa(int(data[0])))
}

// userBroadcastBody reads the encoding byte at enc, the metadata in
// data[metaAt:payloadAt] and the payload of a kind 3 or 4 frame.
func (f frame) userBroadcastBody(m *Message, enc, metaAt, payloadAt int) error {
	m.Event = EventBroadcast
	if metaAt < payloadAt {
		meta, err := f.jsonIn(metaAt, payloadAt, "meta")
		if err != nil {
			return err
		}
		if meta[0] != '{' {
			return f.fail(metaAt, "meta: expected a JSON object")
		}
		m.Meta = meta
	}
	switch f.data[enc] {
	case encodingBinary:
		m.Binary = true
		m.Payload = f.rest(payloadAt)
		return nil
	case encodingJSON:
		p, err := f.jsonIn(payloadAt, len(f.data), "payload")
		if err != nil {
			return err
		}
		m.Payload = p
		return nil
	}
	return f.fail(enc, "unknown payload encoding "+strconv.Itoa(int(f.data[enc]))+" (0 is binary, 1 is JSON)")
}

// checkBinaryExtras rejects fields a binary kind cannot carry.
func checkBinaryExtras(m *Message) error {
	if m.Status != "" && m.Kind != KindReply {
		return encodeErr("status", "only binary replies (KindReply) carry a status")
	}
	switch m.Kind {
	case KindUserBroadcastPush, KindUserBroadcast:
		return nil
	}
	if m.UserEvent != "" {
		return encodeErr("user_event", "only user broadcasts (kinds 3 and 4) carry a user event")
	}
	if m.Meta != nil {
		return encodeErr("meta", "only user broadcasts (kinds 3 and 4) carry metadata")
	}
	return nil
}

func noRefs(m *Message, why string) error {
	if m.JoinRef != "" {
		return encodeErr("join_ref", why)
	}
	if m.Ref != "" {
		return encodeErr("ref", why)
	}
	return nil
}

func (s *V2Serializer) encodeBinary(dst []byte, m *Message) ([]byte, bool, error) {
	if err := checkBinaryExtras(m); err != nil {
		return dst, false, err
	}
	var err error
	var jr, ref, topic, ev byte
	if topic, err = fieldLen("topic", len(m.Topic)); err != nil {
		return dst, false, err
	}
	switch m.Kind {
	case KindPush:
		if jr, err = fieldLen("join_ref", len(m.JoinRef)); err != nil {
			return dst, false, err
		}
		if ev, err = fieldLen("event", len(m.Event)); err != nil {
			return dst, false, err
		}
		if s.cfg.side == ServerSide {
			if m.Ref != "" {
				return dst, false, encodeErr("ref", "a server-to-client push (binary kind 0) carries no ref")
			}
			dst = append(dst, wirePush, jr, topic, ev)
			dst = append(dst, m.JoinRef...)
		} else {
			if ref, err = fieldLen("ref", len(m.Ref)); err != nil {
				return dst, false, err
			}
			dst = append(dst, wirePush, jr, ref, topic, ev)
			dst = append(dst, m.JoinRef...)
			dst = append(dst, m.Ref...)
		}
		dst = append(dst, m.Topic...)
		dst = append(dst, m.Event...)
		return append(dst, m.Payload...), true, nil
	case KindReply:
		if m.Event != "" && m.Event != EventReply {
			return dst, false, encodeErr("event", "a binary reply has event \"phx_reply\", not "+strconv.Quote(m.Event))
		}
		if jr, err = fieldLen("join_ref", len(m.JoinRef)); err != nil {
			return dst, false, err
		}
		if ref, err = fieldLen("ref", len(m.Ref)); err != nil {
			return dst, false, err
		}
		var st byte
		if st, err = fieldLen("status", len(m.Status)); err != nil {
			return dst, false, err
		}
		dst = append(dst, wireReply, jr, ref, topic, st)
		dst = append(dst, m.JoinRef...)
		dst = append(dst, m.Ref...)
		dst = append(dst, m.Topic...)
		dst = append(dst, m.Status...)
		return append(dst, m.Payload...), true, nil
	case KindBroadcast:
		if err := noRefs(m, "a binary broadcast (kind 2) carries no refs"); err != nil {
			return dst, false, err
		}
		if ev, err = fieldLen("event", len(m.Event)); err != nil {
			return dst, false, err
		}
		dst = append(dst, wireBroadcast, topic, ev)
		dst = append(dst, m.Topic...)
		dst = append(dst, m.Event...)
		return append(dst, m.Payload...), true, nil
	case KindUserBroadcastPush, KindUserBroadcast:
		return encodeUserBroadcast(dst, m, m.Kind)
	}
	return dst, false, encodeErr("kind", "unknown kind "+strconv.Itoa(int(m.Kind)))
}

// encodeUserBroadcast writes m as binary kind 3 or 4: UserEvent, Meta and
// Payload (JSON unless m.Binary) as they are.
func encodeUserBroadcast(dst []byte, m *Message, kind Kind) ([]byte, bool, error) {
	if m.Event != "" && m.Event != EventBroadcast {
		return dst, false, encodeErr("event", "a user broadcast has event \"broadcast\", not "+strconv.Quote(m.Event))
	}
	if m.Status != "" {
		return dst, false, encodeErr("status", "only binary replies (KindReply) carry a status")
	}
	var err error
	var jr, ref, topic, uev, ml byte
	if kind == KindUserBroadcastPush {
		if jr, err = fieldLen("join_ref", len(m.JoinRef)); err != nil {
			return dst, false, err
		}
		if ref, err = fieldLen("ref", len(m.Ref)); err != nil {
			return dst, false, err
		}
	} else if err = noRefs(m, "a user broadcast from the server (kind 4) carries no refs"); err != nil {
		return dst, false, err
	}
	if topic, err = fieldLen("topic", len(m.Topic)); err != nil {
		return dst, false, err
	}
	if uev, err = fieldLen("user_event", len(m.UserEvent)); err != nil {
		return dst, false, err
	}
	if ml, err = fieldLen("meta", len(m.Meta)); err != nil {
		return dst, false, err
	}
	if len(m.Meta) > 0 {
		if err = checkJSON("meta", m.Meta); err != nil {
			return dst, false, err
		}
		if j := jsonscan.SkipSpace(m.Meta, 0); m.Meta[j] != '{' {
			return dst, false, encodeErr("meta", "must be a JSON object")
		}
	}
	enc := byte(encodingBinary)
	if !m.Binary {
		enc = encodingJSON
		if err = checkJSON("payload", m.Payload); err != nil {
			return dst, false, err
		}
	}
	if kind == KindUserBroadcastPush {
		dst = append(dst, wireUserBroadcastPush, jr, ref, topic, uev, ml, enc)
		dst = append(dst, m.JoinRef...)
		dst = append(dst, m.Ref...)
	} else {
		dst = append(dst, wireUserBroadcast, topic, uev, ml, enc)
	}
	dst = append(dst, m.Topic...)
	dst = append(dst, m.UserEvent...)
	dst = append(dst, m.Meta...)
	if !m.Binary {
		return appendJSON(dst, m.Payload), true, nil
	}
	return append(dst, m.Payload...), true, nil
}
