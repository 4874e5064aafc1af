package realtimetest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
)

// presenceMeta is one tracked presence: one channel's payload under a key.
type presenceMeta struct {
	owner   *channel
	ref     string // phx_ref
	prev    string // phx_ref_prev, set on update
	payload record
	canon   []byte // canonical payload, to detect "no change"
}

// appendJSON renders the meta: {"phx_ref":..., ["phx_ref_prev":...,] payload keys}.
func (m *presenceMeta) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"phx_ref":`...)
	dst = appendString(dst, m.ref)
	if m.prev != "" {
		dst = append(dst, `,"phx_ref_prev":`...)
		dst = appendString(dst, m.prev)
	}
	inner := m.payload.appendJSON(nil, func(k string) bool { return k != "phx_ref" && k != "phx_ref_prev" })
	if len(inner) > 2 {
		dst = append(dst, ',')
		dst = append(dst, inner[1:len(inner)-1]...)
	}
	return append(dst, '}')
}

// presenceTopic is the presence state of one pubsub topic (a channel name in
// the public or the private namespace).
type presenceTopic struct {
	keys  []string // insertion order
	metas map[string][]*presenceMeta
}

func newPresenceTopic() *presenceTopic {
	return &presenceTopic{metas: map[string][]*presenceMeta{}}
}

// presenceChange is one key's joins or leaves in a diff.
type presenceChange struct {
	key   string
	metas []*presenceMeta
}

// presenceDiff is the payload of a presence_diff message.
type presenceDiff struct {
	joins, leaves []presenceChange
}

func (d presenceDiff) empty() bool { return len(d.joins) == 0 && len(d.leaves) == 0 }

// appendJSON renders {"joins":{...},"leaves":{...}}.
func (d *presenceDiff) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"joins":`...)
	dst = appendGroups(dst, d.joins)
	dst = append(dst, `,"leaves":`...)
	dst = appendGroups(dst, d.leaves)
	return append(dst, '}')
}

// appendGroups renders {"key":{"metas":[...]},...}, as Phoenix.Presence.group/1.
func appendGroups(dst []byte, groups []presenceChange) []byte {
	dst = append(dst, '{')
	for i, g := range groups {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, g.key)
		dst = append(dst, `:{"metas":[`...)
		for j, m := range g.metas {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = m.appendJSON(dst)
		}
		dst = append(dst, "]}"...)
	}
	return append(dst, '}')
}

// stateJSON renders the presence_state payload: every key with its metas.
func (t *presenceTopic) stateJSON() []byte {
	groups := make([]presenceChange, 0, len(t.keys))
	for _, k := range t.keys {
		groups = append(groups, presenceChange{key: k, metas: t.metas[k]})
	}
	return appendGroups(nil, groups)
}

// find returns the meta owned by ch under key, and its index.
func (t *presenceTopic) find(key string, ch *channel) (*presenceMeta, int) {
	for i, m := range t.metas[key] {
		if m.owner == ch {
			return m, i
		}
	}
	return nil, -1
}

// track adds or updates ch's presence under key. Tracking the same payload
// again changes nothing (empty diff); a changed payload replaces the meta,
// which shows as a leave of the old one and a join of the new one carrying
// phx_ref_prev.
func (t *presenceTopic) track(key string, ch *channel, payload record) presenceDiff {
	canon, err := canonicalJSON(payload.appendJSON(nil, nil))
	if err != nil {
		canon = payload.appendJSON(nil, nil)
	}
	old, i := t.find(key, ch)
	if old != nil && bytes.Equal(old.canon, canon) {
		return presenceDiff{}
	}
	m := &presenceMeta{owner: ch, ref: newPhxRef(), payload: payload, canon: canon}
	if old == nil {
		if _, ok := t.metas[key]; !ok {
			t.keys = append(t.keys, key)
		}
		t.metas[key] = append(t.metas[key], m)
		return presenceDiff{joins: []presenceChange{{key: key, metas: []*presenceMeta{m}}}}
	}
	m.prev = old.ref
	t.metas[key][i] = m
	return presenceDiff{
		joins:  []presenceChange{{key: key, metas: []*presenceMeta{m}}},
		leaves: []presenceChange{{key: key, metas: []*presenceMeta{old}}},
	}
}

// untrack removes ch's presence under key, if any.
func (t *presenceTopic) untrack(key string, ch *channel) presenceDiff {
	old, i := t.find(key, ch)
	if old == nil {
		return presenceDiff{}
	}
	list := t.metas[key]
	list = append(list[:i:i], list[i+1:]...)
	if len(list) == 0 {
		delete(t.metas, key)
		for j, k := range t.keys {
			if k == key {
				t.keys = append(t.keys[:j:j], t.keys[j+1:]...)
				break
			}
		}
	} else {
		t.metas[key] = list
	}
	return presenceDiff{leaves: []presenceChange{{key: key, metas: []*presenceMeta{old}}}}
}

// isEmpty reports whether no presence is tracked.
func (t *presenceTopic) isEmpty() bool { return len(t.keys) == 0 }

// newPhxRef returns a fresh phx_ref: 8 random bytes, base64, as Phoenix
// Tracker makes them.
func newPhxRef() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
