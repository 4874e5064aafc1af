package source

import "github.com/rxrealtime/rxrealtime/transport/phoenix"

// The offline buffer (Client.outbox) holds what could not be written yet: user pushes, kept in order, and a
// channel's control messages — phx_join, phx_leave, access_token — which are bound to the session they were
// made for and to the join they name. A control message that a newer one makes obsolete must never reach
// the server after it: a stale phx_join arriving after the current one makes the server close the current
// join (issue 10, defect 8). Two rules keep the buffer free of them:
//
//   - within the buffer, a channel's newer phx_join supersedes its older phx_join and access_token, a newer
//     access_token or phx_leave supersedes older access_tokens (compactOutboxLocked); a phx_leave is never
//     superseded, so a join, its leave and a later join of the same topic go out in that order;
//   - when a session ends, every control message still buffered is dropped (dropControlLocked): the server
//     forgot that session's joins, and the next session rejoins every channel afresh with the current token.

func isControl(m *phoenix.Message) bool {
	switch m.Event {
	case phoenix.EventJoin, phoenix.EventLeave, phoenix.EventAccessToken:
		return true
	}
	return false
}

// compactOutboxLocked removes the control messages that newer ones supersede and returns them. c.mu held.
func (c *Client) compactOutboxLocked() []*phoenix.Message {
	const joinSeen, tokenSeen = 1, 2
	var seen map[string]uint8
	var stale []*phoenix.Message
	keep := len(c.outbox)
	// Walk from the newest, keeping survivors at the end of the slice, in order.
	for i := len(c.outbox) - 1; i >= 0; i-- {
		m := c.outbox[i]
		if isControl(m) {
			if seen == nil {
				seen = make(map[string]uint8)
			}
			f := seen[m.Topic]
			drop := false
			switch m.Event {
			case phoenix.EventJoin:
				drop = f&joinSeen != 0
				f |= joinSeen | tokenSeen
			case phoenix.EventAccessToken:
				drop = f&tokenSeen != 0
				f |= tokenSeen
			case phoenix.EventLeave:
				f = tokenSeen // joins before a leave belong to the join it leaves
			}
			seen[m.Topic] = f
			if drop {
				stale = append(stale, m)
				continue
			}
		}
		keep--
		c.outbox[keep] = m
	}
	if keep > 0 {
		n := copy(c.outbox, c.outbox[keep:])
		clear(c.outbox[n:])
		c.outbox = c.outbox[:n]
	}
	return stale
}

// dropControlLocked removes every control message from the buffer and returns them: their session ended.
// c.mu held.
func (c *Client) dropControlLocked() []*phoenix.Message {
	var stale []*phoenix.Message
	kept := c.outbox[:0]
	for _, m := range c.outbox {
		if isControl(m) {
			stale = append(stale, m)
			continue
		}
		kept = append(kept, m)
	}
	clear(c.outbox[len(kept):])
	c.outbox = kept
	return stale
}

// dropStale resolves the pushes of dropped control messages: a leave as done (the join it named is gone
// with its session or was never sent), a join as superseded. access_token pushes wait for no reply.
func (c *Client) dropStale(stale []*phoenix.Message) {
	for _, m := range stale {
		p := c.pending.take(m.Ref)
		if p == nil {
			continue
		}
		if m.Event == phoenix.EventLeave {
			p.deliver(pushResult{})
		} else {
			p.deliver(pushResult{err: errSuperseded})
		}
	}
}
