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
// [Client.Channel] creates a channel; [Channel.Subscribe] joins it.
// [Client.Share] returns a holder of a shared channel instead: every holder
// of a topic made with the same options shares one join. A channel's
// typed streams — [Changes], [Broadcasts], [PresenceEvents],
// [Channel.Statuses], [Channel.Systems], [Channel.Messages] — are derived
// from the channel's topic stream, so they share its guarantees:
//
//   - Ordering: a consumer sees a channel's messages in the order the
//     socket received them. Across channels there is no order.
//   - Readiness: Observe and Subscribe return once the consumer is
//     registered; everything the socket receives afterwards reaches it.
//   - Decoding: payloads are decoded into the consumer's type on the
//     consumer's goroutine (for typed change streams observed with
//     Observe, on decoding goroutines the client's consumers share),
//     never on the socket's reader, and only by consumers that asked for
//     that type.
//   - Completion: a channel's streams complete when the channel is closed
//     for good (Unsubscribe, a server close other than for an expired
//     token, a binding mismatch) or the client closes. A reconnect does not
//     complete them: they resume after the rejoin. The streams of a holder
//     of a shared channel ([Client.Share]) complete when that holder is
//     released, whatever the other holders do.
//   - Errors: a payload that does not decode into the consumer's type is
//     reported on [Client.Errors] (a *PayloadError naming the topic, the
//     table or event, the type and the consumer, once per consumer that
//     failed on it), counted in [Stats].DecodeErrors, and skipped; the
//     stream goes on. Join errors, timeouts and server closes are statuses
//     ([StatusEvent]) with typed errors, not stream failures.
//   - Cancellation: every Observe, Subscribe and iterator stops and frees
//     its goroutines when its context ends.
//
// # Backpressure: lossless for consumers that keep up, bounded for those that stop
//
// One reader goroutine serves every channel, control traffic included
// (heartbeat and join replies, phx_close, phx_error, system messages), so
// no consumer may hold it up for long. Every stream fed by the socket is a
// stream.NeverWait hub with a bounded wait (stream.WaitForRoom): each
// consumer has its own mailbox, [DefaultStreamBuffer] messages (1,024) by
// default, and when a message finds it full the reader waits for room —
// at most 100 ms at a time ([DefaultConsumerWait]) and at most 1 s in all
// ([DefaultConsumerWaitTotal]) until the consumer has caught up (see
// [WithConsumerWait]):
//
//   - A consumer that keeps up on average loses nothing, even under a
//     burst the server writes as fast as the socket takes it: when the
//     reader outruns it for a moment, the reader waits, and TCP slows the
//     server down meanwhile. Nothing is dropped nor reported.
//   - A consumer that stops reading for longer than the wait (100 ms), or
//     is still behind after the total (1 s), is a slow consumer: the reader
//     stops waiting for it until it has caught up, and newer messages are
//     dropped for that consumer only (stream.DropNewest; stream.DropOldest
//     drops the oldest instead, stream.WithBuffer sets the size). Drops are
//     counted exactly (Subscription.Dropped, stream.OnDrop, [Stats].Dropped).
//     A consumer that stops holds at most its mailbox, the message being
//     handed on and, with Observe, the 32 messages its channel buffers:
//     1,057 messages by default (1,025 with Subscribe).
//   - How long the socket waits on a user, exactly: a consumer that stops
//     delays everything else the socket carries (other channels' messages
//     and acknowledged round trips, replies, heartbeats) once, by at most
//     the wait (100 ms), and not again until it has read again and caught
//     up. The reader waits for one consumer at a time: k consumers that
//     stop together cost up to k waits. A consumer that reads, but more
//     slowly than its messages keep coming, makes the reader wait at most
//     the total (1 s) per mailbox-full of messages it takes: one that takes
//     more than about 1,000 messages a second is never dropped for, and
//     slows the whole socket to its pace instead (TCP slows the server, as
//     with realtime-js, whose callbacks run on the socket's reader), so the
//     socket's other traffic waits behind its messages; a slower one is a
//     slow consumer. Both bounds are capped at a
//     quarter of the heartbeat timeout, so waiting for a consumer cannot
//     make a heartbeat time out. WithConsumerWait(0, 0) never waits: a full
//     mailbox makes its consumer slow at once.
//   - stream.Block is available as an explicit choice: such a consumer
//     loses nothing, and once the reader stops waiting for it its mailbox
//     grows past its buffer, without bound, while it is behind. Its cost is
//     that memory; it holds up the socket no longer than any other consumer.
//   - A slow consumer's episode is reported, once, when the reader gives up
//     waiting, as a [*SlowConsumerError] naming the topic, the count and the
//     time waited: on [Client.Errors], to the error handler, in the log at
//     Warn and to [Metrics]. An episode ends when the consumer has caught
//     up: its user has received (or its callback has been called with) a
//     message that arrived after the episode started. A consumer that stops
//     reading is reported once, however long it stays stopped; one that
//     stays behind, at most once per mailbox-full of messages it takes or
//     loses.
//
// The state, error and heartbeat streams drop their oldest events past 64
// by default.
//
// # Every stream ends
//
// Every stream of a channel (Messages, Topic, Changes, per-binding
// streams, Broadcasts, PresenceEvents, Statuses, Systems, and every
// operator over them) completes when the channel is closed for good, and
// every stream of the client (Messages, AllChanges, States, Errors,
// Heartbeats) when the client closes: the channel's route owns its streams
// and completes them all in one place. A range loop over Observe then ends;
// use stream.Stream.All2 to learn why a stream ended: the channel's reason
// (a [*CloseReason], a binding mismatch) after a server-side close, nothing
// after Unsubscribe or Close. An Observe without stream.OnError hands that
// reason to stream's unhandled-error handler (a Warn log by default).
//
// # Every failure says why
//
// [Connect] returns a [*ConnectError] wrapping the last attempt's cause (a
// *transport.HandshakeError with the HTTP status and the server's message,
// a *transport.DialError wrapping the *net.OpError or *net.DNSError) and,
// when ctx ended first, ctx's error. A permanent rejection (an HTTP 4xx
// other than 408 and 429) ends it at once, and so does a token provider
// that fails before the client has a token (a [*TokenError]; one that
// does not return is named as such): the client does not connect as anon
// unless [WithAnonymousFallback] says so. [Channel.Subscribe] whose ctx
// ends before SUBSCRIBED returns ctx's error and the last join error, and
// abandons the join. Every channel status that carries an error is
// reported as a [*ChannelError]; reconnect attempts as [*ReconnectError].
//
// Every error this package returns, publishes on [Client.Errors], gives to
// the error handler or logs starts with "rxrealtime: " and never contains a
// key or token. An error of a package beneath it (transport,
// transport/phoenix, source/postgres, source/presence, source/rest) is
// never handed on bare: it is wrapped, so errors.Is and errors.As find it,
// and its text, which starts with its own package's name ("transport: ",
// "phoenix: "...), says where it came from ("rxrealtime: frame skipped:
// phoenix: malformed text frame ..."). The one exception is ctx's own error,
// returned as it is by a call whose ctx ended first, as the standard
// library does.
//
// # Live queries: rows that never go stale
//
// The server does not replay the postgres_changes a channel missed while
// it was down (a reconnect, a rejoin, an expired token), nor those a slow
// consumer lost. [Live] builds on [postgres.View] (the apply step of
// [postgres.LiveTable]) to keep the rows a binding selects equal to the
// server's table: it loads them through a [Loader] whenever the channel
// becomes SUBSCRIBED and after every gap, applies the changes that arrive
// during and after the load without duplicates and in commit order, and
// emits the view ([LiveQuery.States]) and its differences
// ([LiveQuery.Diffs]) as hot streams that end with the channel.
//
// # Callbacks
//
// The error handler, the logger and [Metrics] run on one observer
// goroutine of the client, never on the socket's reader or writer: one
// that blocks holds up only the notifications queued behind it (at most
// 1,024; more are dropped and counted in [Stats].NotificationsDropped), and
// one that panics is recovered, logged and counted
// ([Stats].CallbackPanics). [Client.Close] returns after the notifications
// queued before it have run.//
// # Where things are
//
// The socket is a package of its own, source/internal/socket, that knows
// nothing of channels; a [Channel] reaches it through six methods (the
// wire interface: Attach, NextRef, Push, PushAsync, Session, Version) and
// its client through a few host services (tokens, join pacing, REST, its
// registry). A frame's path, one file per step:
//
//	read and decode            internal/socket/read.go
//	route (replies, topics)    internal/socket/route.go
//	deliver to the streams     internal/socket/deliver.go, then a channel's
//	                           channel_handler.go and channel_deliver.go
//	queue and write            internal/socket/write.go (offline buffer: outbox.go)
//	reply and acknowledgement  internal/socket/reply.go; what an outcome
//	                           means to the user: client_push.go
//	sessions and reconnects    internal/socket/session.go (the retry operator:
//	                           socket.go Start), heartbeat.go, idle.go
//
// In this package the files stand in layers, each using names only from
// the files below it (TestFilesReferenceOneWay): the parts a channel holds
// (channel_status.go, pushbuffer.go, gapstate.go, inbound.go) at the
// bottom; then channel.go (the Channel type, its wire and host); then a
// file per concern of a channel (share — a shared channel's holders —,
// push, broadcast, presence, system, gap-free, join, postgres, leave,
// subscribe, release, handler); then the client (registry.go, token.go,
// client.go, client_channels.go, client_share.go, client_push.go); and
// pool.go and live.go (live queries, over a channel's bindings and
// statuses) on top.
//
// # Lifecycle rules
//
//   - A message whose frame is larger than the server's limit
//     ([WithMaxFrameSize], 5 MiB by default, as Supabase) is refused before
//     it is queued, with a [*MessageTooLargeError]. A frame the server
//     closed the socket for (1009, 1007, 1003; the client tells which among
//     those written since the server last answered a heartbeat) is never
//     sent again: its push fails with that close as its cause, or, when
//     it waited for no reply, it is reported as an [*UnsentError]. For
//     1009 the client cannot know the server's limit, so it takes each
//     frame that may have been the first over it (larger than any frame
//     the server processed and than those written before it) for the one.
//   - A join refusal is permanent or transient ([JoinError.Permanent]): a
//     permanent one ends [Channel.Subscribe] at once; a transient one keeps
//     it waiting while the channel rejoins (see Subscribe).
//   - A channel's pushes while it is subscribed but not joined (the socket
//     reconnecting, a rejoin on its way) wait in its own buffer and go out
//     under its next join; the socket hands back those it had queued but
//     not written when a session ended. Every cause is wrapped once.
//   - The reconnect backoff starts afresh after a session whose heartbeat
//     made a round trip, not after every dial that worked.
package source
