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
package source
