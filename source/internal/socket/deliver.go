package socket

import "github.com/rxrealtime/rxrealtime/transport/phoenix"

// Deliver: the third step of the frame path. A routed message goes to its route's handler (a channel's
// state machine, which may keep it off the stream and hands postgres changes and presence to its own
// streams), then to the topic's stream and to the stream of every message. Hubs fed here wait for a full
// consumer a bounded time at most (the owner makes them so, see Config.NewHub: stream.NeverWait with
// stream.WaitForRoom), so the socket waits on a user no longer than that.
func (s *Socket) deliver(rt *Route, m *phoenix.Message) {
	if rt != nil && (rt.handler == nil || rt.handler.Handle(m)) {
		rt.hub.Emit(*m)
	}
	s.messages.Emit(*m)
}
