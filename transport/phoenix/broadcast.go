package phoenix

import "github.com/rxrealtime/rxrealtime/transport/internal/jsonscan"

// persistMeta frames the "persist" member realtime-js keeps as metadata.
const (
	persistPrefix = `{"persist":`
	persistSuffix = `}`
)

// encodeBroadcastBinary implements [WithBinaryUserBroadcasts] for a
// KindJSON message with Event "broadcast". encoded is false (with a nil
// error) when the message should go out as text after all.
func (s *V2Serializer) encodeBroadcastBinary(dst []byte, m *Message) (out []byte, encoded bool, err error) {
	if m.UserEvent != "" {
		kind := KindUserBroadcastPush
		if s.cfg.side == ServerSide {
			kind = KindUserBroadcast
		}
		return encodeUserBroadcast(dst, m, kind)
	}
	if s.cfg.side == ServerSide || m.Binary || m.Meta != nil {
		return dst, false, nil
	}
	// The realtime-js rule: a broadcast push whose payload is an object with
	// a string "event" goes out as kind 3.
	var ms [bcCount]member
	p := m.Payload
	if scanObject("broadcast", p, broadcastKeys, ms[:]) != nil {
		return dst, false, nil
	}
	ev := ms[bcEvent]
	if !ev.present() || p[ev.start] != '"' {
		return dst, false, nil
	}
	var buf [64]byte
	userEvent := p[ev.start+1 : ev.end-1]
	if _, escaped, _ := jsonscan.ScanString(p, ev.start); escaped {
		userEvent = jsonscan.AppendUnescaped(buf[:0], userEvent)
	}
	userPayload := []byte("{}")
	if up := ms[bcPayload]; up.present() && !jsonscan.IsNull(p, up.start) {
		userPayload = p[up.start:up.end]
	}
	var persist []byte
	metaLen := 0
	if pm := ms[bcPersist]; pm.present() {
		persist = p[pm.start:pm.end]
		metaLen = len(persistPrefix) + len(persist) + len(persistSuffix)
	}
	var jr, ref, topic, uev, ml byte
	if jr, err = fieldLen("join_ref", len(m.JoinRef)); err != nil {
		return dst, false, err
	}
	if ref, err = fieldLen("ref", len(m.Ref)); err != nil {
		return dst, false, err
	}
	if topic, err = fieldLen("topic", len(m.Topic)); err != nil {
		return dst, false, err
	}
	if uev, err = fieldLen("user_event", len(userEvent)); err != nil {
		return dst, false, err
	}
	if ml, err = fieldLen("meta", metaLen); err != nil {
		return dst, false, err
	}
	dst = append(dst, wireUserBroadcastPush, jr, ref, topic, uev, ml, encodingJSON)
	dst = append(dst, m.JoinRef...)
	dst = append(dst, m.Ref...)
	dst = append(dst, m.Topic...)
	dst = append(dst, userEvent...)
	if persist != nil {
		dst = append(dst, persistPrefix...)
		dst = append(dst, persist...)
		dst = append(dst, persistSuffix...)
	}
	return append(dst, userPayload...), true, nil
}
