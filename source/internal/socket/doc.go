// Package socket is the wire of an rxrealtime client: one Phoenix socket, its sessions, its reader and
// writer, its offline buffer, its refs and pending replies, its topic routes and its heartbeats. It knows
// nothing of channels: a channel attaches a [Handler] to its topic and pushes through the socket; the
// socket reports to its owner only through [Hooks]. It imports only transport, transport/phoenix,
// operators and stream.
//
// Where things are, in the order a frame travels:
//
//	session.go    the session lifecycle: dial, open (rejoins, then the offline buffer), end (hand back, poison)
//	read.go       read and decode: one reader per session
//	route.go      route: a reply to its push, a message to its topic's route (Handler, Attach, Topic)
//	deliver.go    deliver: the route's handler, then the topic's stream and the stream of every message
//	outbox.go     what waits for a session: the offline buffer and the control-message rules
//	write.go      queue and write: the session's write queue, the writer, frame limits, poisoned frames
//	reply.go      reply and acknowledgement: refs, the pending table, Push, PushAsync
//	heartbeat.go  heartbeats that detect a dead or half-open connection
//	idle.go       the idle disconnect
//	traffic.go    the opt-in count of messages and bytes by topic and event (the reader's and the writer's)
//	socket.go     the Socket, its Config and Hooks, Start and Close
//
// Reconnecting is one operator: Start runs the connection — a cold stream of messages, one run per
// WebSocket session — under operators.RetryWithBackoff.
package socket
