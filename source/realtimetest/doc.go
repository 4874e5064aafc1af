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
//     real join replies and "<Code>: <message>" join errors, leaves (a
//     leave of an earlier join of the topic is ignored, as Phoenix does),
//     duplicate joins, "unmatched topic" for pushes to topics not joined;
//   - broadcast with self and ack, public and private namespaces, binary
//     kind 3 in and kind 4 out, the REST endpoints POST /api/broadcast and
//     POST /api/broadcast/:topic/events/:event, and database broadcasts
//     ([Server.EmitBroadcast]);
//   - broadcast persistence and replay (below);
//   - presence track and untrack, presence_state and presence_diff;
//   - postgres_changes bindings with the real filter operators, fed by
//     [Server.EmitChange]; postgres_changes_options {"wait","timeout"}
//     holding the join reply until the subscription is up (default 15 s,
//     clamped to 20 s, "PostgresChangesSubscribeTimeout: Timed out after
//     <N>ms waiting for the postgres_changes subscription" past it,
//     "RealtimeDisabledForConfiguration: ..." for bindings that can never
//     subscribe), with [Faults.DelayPostgres] for a slow database;
//   - broadcast.replication_ready: "Replication connection established"
//     after the replay and the postgres_changes message and before
//     presence_state (server.md §2.5), checked every 500 ms while
//     [Faults.SetReplicationDown] holds it back, and the channel shut down
//     with "Replication connection was not established in time" past
//     [WithReplicationReadyTimeout] (realtime_channel.ex
//     handle_info(:notify_replication_ready), start_postgres_subscribe/4
//     and await_postgres_subscribe/2, payloads/postgres_changes_options.ex);
//   - access_token refresh and token expiry, the real limits (channels per
//     client, events, joins and users per second, payload size, client
//     presence calls) with the real defaults.
//
// Beside Realtime, the server answers read-only PostgREST requests on
// GET /rest/v1/<table> from its own copy of the tables (below), so that a
// client that loads rows before it subscribes can be tested offline.
//
// Tests observe the wire through the recorder ([Server.Frames],
// [Server.WaitFor]) and the server state through [Server.Clients] (a
// client's own connection is found by a query parameter the test gives it,
// with [Server.ConnsWithParam]), and break things on purpose through
// [Server.Faults]: dropped or half-open sockets, delayed or dropped replies,
// close codes 1001 and 1012, malformed frames, rejected joins, crashed or
// shut down channels, replays that live broadcasts overtake, and restarts
// on the same port.
//
// Each connection has one reader goroutine (the HTTP handler's) and one
// writer goroutine draining an unbounded queue, so frames reach each client
// in exactly the order the server produced them and a slow client never
// blocks the others. [Server.Close] stops every goroutine and timer of the
// server.
//
// # Persisted broadcasts and replay
//
// The server keeps private broadcasts in an in-memory realtime.messages
// and replays them on join, as the real server does:
//
//   - Stored: database broadcasts on private topics ([Server.EmitBroadcast]
//     with Private, as realtime.send() inserts a row, delivered live with
//     meta {"id":...}); client broadcasts on private channels whose kind 3
//     metadata (or JSON payload) carries "persist": true or
//     {"ttl": seconds}; POST /api/broadcast/:topic/events/:event with
//     ?private=true&persist=true or &persist[ttl]=N (persist without
//     private is a 422 {"errors":{"persist":["can only be used on private
//     channels"]}}); and fixtures from [Server.StoreBroadcast]. Public
//     broadcasts and the batch endpoint store nothing replayable. A
//     persisted client or REST broadcast is delivered live first, without
//     an id, then stored; with broadcast.ack the reply is
//     {"status":"ok","response":{"id":"<uuid>"}}.
//   - Replay: config.broadcast.replay {"since": ms epoch, "limit": n} on a
//     private channel selects the messages of that channel inserted at or
//     after since (and before now + 1 minute), the latest limit of them
//     (absent or null: 25; clamped to 1..25), oldest first. They are pushed
//     right after the join reply: JSON ones as
//     [join_ref,null,topic,"broadcast",{"event":E,"meta":{"id":ID,"replayed":true},"payload":P,"type":"broadcast"}],
//     binary ones as kind 4 with the metadata {"id":ID,"replayed":true} on
//     vsn 2.0.0 and not at all on vsn 1.0.0. A live broadcast whose meta.id
//     the join replayed is not delivered to that channel again.
//     "Replay is not allowed for public channels" and "Replay params are
//     not valid" are the real join errors.
//   - Order: as the real server's query (order by inserted_at descending,
//     the limit, then reversed), messages stored with the same inserted_at
//     — the rows of one transaction, which [Server.EmitBroadcasts] writes and
//     fixtures with one InsertedAt stand for — are replayed in reverse
//     order, and a limit that cuts them keeps the first inserted
//     (supabase/realtime#2201; the replayed meta carries no inserted_at and
//     ids are random, so a client cannot restore the order). Live delivery
//     keeps the order they were sent in.
//   - [Faults.SlowReplay] sends a join's replay late, one message at a time,
//     so that broadcasts overtake it while the channel's own frames (the
//     replies to its pushes, presence_state, system) wait behind it, as on
//     the real server when the channel process is busy.
//
// Where this comes from (github.com/supabase/realtime): on main,
// lib/realtime/messages.ex (replay/5: @hard_limit 25, the query, the
// reversal), lib/realtime_web/channels/realtime_channel.ex
// (maybe_replay_messages/5, handle_info({:replay, ...}), replay/3),
// lib/realtime_web/channels/payloads/broadcast/replay.ex,
// lib/realtime_web/channels/realtime_channel/message_dispatcher.ex
// (already_replayed?/2), lib/realtime_web/socket/v2_serializer.ex (binary
// replays as kind 4), lib/realtime/tenants/replication_connection.ex
// (realtime.send rows with meta id) and test
// realtime_web/channels/realtime_channel_test.exs ("replay messages on
// private topic"). Storing client and REST broadcasts is not on main: it
// is the unmerged branch feat-broadcast-storage (32aadbe4, August 2026):
// Messages.persist/5, realtime_channel/broadcast_handler.ex
// (maybe_persist, the {:ok, %{id: id}} ack), tenants/single_broadcast.ex
// (validate_persist_is_private) and
// controllers/broadcast_single_controller.ex (?persist=true). Two
// differences are the emulator's own: that branch decides what to store
// by a "persistence" RLS policy and a feature flag and ignores the
// client's metadata, while the emulator (which has no RLS) stores what
// the client asks to persist, as realtime-js 2.119.1 sends it; and that
// branch has no TTL (rows live until the 72 h cleanup of
// Messages.delete_old_messages/1) and reads only persist=true, while the
// emulator accepts persist[ttl]=N and {"ttl":N} and stops replaying a
// message once its TTL has passed.
//
// # Table reads
//
// The server keeps a copy of every table [Server.EmitChange] wrote to
// (INSERT adds or replaces a row, UPDATE replaces it, DELETE removes it;
// rows are found by their PrimaryKey columns, or by every field of the old
// record for a table without a key) or [Server.SetTable] set, and serves
// it as PostgREST does on GET (and HEAD) /rest/v1/<table>, schema public
// unless an Accept-Profile header names another:
//
//   - authentication as on the broadcast endpoints: the token is the
//     Authorization bearer, else the apikey header (or, as the API gateway
//     allows, the apikey query parameter); none is a 401 {"message":"No API
//     key found in request"}, and with [WithJWTSecret] a token that fails
//     verification is a 401 PostgREST error, code PGRST303 "JWT expired" or
//     PGRST301 (with a WWW-Authenticate: Bearer error="invalid_token"
//     header);
//   - select=* (or no select) for every column, the table's Columns first,
//     null where a row lacks one, or select=a,b for plain column names;
//   - filters column=[not.]op.value, several ANDed, with the operators and
//     comparisons of postgres_changes filters (eq, neq, lt, lte, gt, gte,
//     in, is, isdistinct, like, ilike, match, imatch; numbers and booleans
//     compared as such when Columns gives their type);
//   - order=col[.asc|.desc][.nullsfirst|.nullslast],... (text compared
//     bytewise, not by collation), limit and offset, a Range: lo-hi header
//     intersected with them, and Prefer: count=exact; the Content-Range
//     header (lo-hi/total, */total when empty, total * without count), 206
//     when counted rows were left out, 416 PGRST103 for an offset past them;
//   - the answer: 200 and a compact JSON array, Content-Type
//     application/json; charset=utf-8. Errors are PostgREST's
//     {"code","details","hint","message"}: 404 PGRST205 for a table the
//     server has no copy of, 400 42703 for an unknown column, and 400
//     PGRST100 for what cannot be parsed, including what the emulator does
//     not serve (embedded resources, renamed or cast columns, JSON paths,
//     or= and and= trees, full-text operators...; the hint then starts
//     "realtimetest serves").
//
// Requests are recorded with the others ([Server.RESTRequests]). The read
// sees no Row Level Security and no rate limit, and [WithTenant] does not
// apply to it; writes (POST, PATCH, DELETE) are not routed (405), and
// Accept: application/vnd.pgrst.object+json (a single object) is not
// honoured.
//
// What the emulator does not do: Row Level Security (private channels are
// authorized for everyone), the 72 h retention of stored messages, JWKS
// keys and asymmetric algorithms, the legacy join API without
// "config", long polling. Rate limits are averaged over the last minute like
// the real counters, but trip at once instead of on the next 5 s tick (the
// emulator counts events in 100 ms steps, so an event leaves the minute at
// most 100 ms late). The real server's error delays (5 s for joins, 2 s for
// handshakes) are off unless [WithJoinErrorDelay] and
// [WithConnectErrorDelay] ask for them.
package realtimetest
