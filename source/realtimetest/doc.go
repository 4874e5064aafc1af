// Package realtimetest provides an in-process Supabase Realtime compatible
// server for tests, in the spirit of net/http/httptest.
//
//	s := realtimetest.NewServer()
//	defer s.Close()
//	// point the client under test at s.URL() (ws://127.0.0.1:port/socket)
//
// The server speaks the Phoenix Channels protocol the way Supabase Realtime
// does, on /socket/websocket and /realtime/v1/websocket, with vsn 1.0.0
// (JSON objects) and 2.0.0 (JSON arrays plus binary user broadcasts):
//
//   - handshake: apikey query parameter or x-api-key header, optional HS256
//     JWT verification ([WithJWTSecret]), the real server's JSON 401, 404 and
//     429 bodies, and a bare 403 for an unknown vsn;
//   - heartbeats on the "phoenix" topic, joins on "realtime:<name>" with the
//     real join replies and "<Code>: <message>" join errors, leaves,
//     duplicate joins, "unmatched topic" for pushes to topics not joined;
//   - broadcast with self and ack, public and private namespaces, binary
//     kind 3 in and kind 4 out, the REST endpoints POST /api/broadcast and
//     POST /api/broadcast/:topic/events/:event, and database broadcasts
//     ([Server.EmitBroadcast]);
//   - presence track and untrack, presence_state and presence_diff;
//   - postgres_changes bindings with the real filter operators, fed by
//     [Server.EmitChange];
//   - access_token refresh and token expiry, the real limits (channels per
//     client, events, joins and users per second, payload size, client
//     presence calls) with the real defaults.
//
// Tests observe the wire through the recorder ([Server.Frames],
// [Server.WaitFor]) and the server state through [Server.Clients], and break
// things on purpose through [Server.Faults]: dropped or half-open sockets,
// delayed or dropped replies, close codes 1001 and 1012, malformed frames,
// rejected joins, crashed or shut down channels, and restarts on the same
// port.
//
// Each connection has one reader goroutine (the HTTP handler's) and one
// writer goroutine draining an unbounded queue, so frames reach each client
// in exactly the order the server produced them and a slow client never
// blocks the others. [Server.Close] stops every goroutine and timer of the
// server.
//
// What the emulator does not do: Row Level Security (private channels are
// authorized for everyone), broadcast replay (accepted, replays nothing),
// JWKS keys and asymmetric algorithms, the legacy join API without
// "config", long polling. Rate limits are averaged over the last minute like
// the real counters, but trip at once instead of on the next 5 s tick. The
// real server's error delays (5 s for joins, 2 s for handshakes) are off
// unless [WithJoinErrorDelay] and [WithConnectErrorDelay] ask for them.
package realtimetest
