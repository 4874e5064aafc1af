// Package source is the Supabase Realtime client socket: one WebSocket whose
// incoming messages form a hot stream, routed by topic to per-topic streams,
// kept alive by heartbeats and re-established by a retry-with-backoff
// operator when it drops.
//
// A [Client] owns exactly one goroutine that reads the socket (the
// connection supervisor, which runs each session's read loop) and one that
// sends heartbeats while a session is open. Nothing else runs until a user
// observes a stream. Routing an incoming message to its topic is a map
// lookup, so its cost does not grow with the number of joined topics.
//
// Lifecycle:
//
//	c, err := source.Connect(ctx, "ws://127.0.0.1:4000/socket", source.WithAPIKey(key))
//	...
//	for st := range c.States().Observe(ctx) { ... } // connecting, open, reconnecting, closed
//	...
//	c.Close(ctx) // leaves channels, sends a 1000 close, stops every goroutine
//
// Any close the user did not ask for (server close of any code, network
// drop, heartbeat timeout) reconnects with backoff; [Client.Close] never does.
//
// # Channels and their streams
//
// [Client.Channel] creates a channel; [Channel.Subscribe] joins it. Its
// typed streams — [Changes], [Broadcasts], [PresenceEvents],
// [Channel.Statuses], [Channel.Systems], [Channel.Messages] — are derived
// from the channel's topic stream, so they share its guarantees:
//
//   - Ordering: a consumer sees a channel's messages in the order the
//     socket received them. Across channels there is no order.
//   - Readiness: Observe and Subscribe return once the consumer is
//     registered; everything the socket receives afterwards reaches it.
//   - Decoding: payloads are decoded into the consumer's type on the
//     consumer's goroutine, never on the socket's reader, and only by
//     consumers that asked for that type.
//   - Completion: a channel's streams complete when the channel is closed
//     for good (Unsubscribe, a server close other than for an expired
//     token, a binding mismatch) or the client closes. A reconnect does not
//     complete them: they resume after the rejoin.
//   - Errors: a payload that does not decode into the consumer's type is
//     reported on [Client.Errors] (a *PayloadError) and skipped; the
//     stream goes on. Join errors, timeouts and server closes are statuses
//     ([StatusEvent]) with typed errors, not stream failures.
//   - Cancellation: every Observe, Subscribe and iterator stops and frees
//     its goroutines when its context ends.
//   - Backpressure: each consumer picks its policy (stream.Block, the
//     default of Observe; stream.DropNewest; stream.DropOldest). A blocking
//     consumer whose mailbox is full stalls the socket's reader, heartbeat
//     replies included: one stuck for longer than the heartbeat timeout
//     makes the client reconnect. The state, error and heartbeat streams
//     default to DropOldest so that a forgotten consumer stalls nothing.
package source
