// Package rest sends Supabase Realtime broadcasts over HTTP, without a
// socket: one message with [Client.Broadcast] (POST
// /api/broadcast/:topic/events/:event, the endpoint realtime-js's httpSend
// uses) or several with [Client.BroadcastBatch] (POST /api/broadcast).
//
// [New] takes the same URL as the socket client, source.New (a project URL
// such as https://<ref>.supabase.co, its /realtime/v1 root, or a socket
// endpoint; see [ParseEndpoint]), the same token provider type
// ([TokenProvider] is source.TokenProvider's function type) and a
// *slog.Logger ([WithLogger]).
//
// Topics are channel names, the part after "realtime:" ("room1" for the
// channel topic "realtime:room1"); a leading "realtime:" is removed, so
// both forms work. Every request carries the apikey header and, when a token
// is configured, Authorization: Bearer <token>.
//
// [Persist] and [PersistTTL] ask the server to store a single message for
// replay on join (private channels only; the query persist=true or
// persist[ttl]=N, as realtime-js's httpSend writes it). The batch endpoint
// does not persist.
//
// The server answers 202 Accepted; anything else becomes a [*StatusError]
// that matches one of the sentinel errors ([ErrUnauthorized],
// [ErrForbidden], [ErrNotFound], [ErrInvalid], [ErrRateLimited],
// [ErrServer]) with errors.Is. Messages the client can tell are wrong
// before sending give a [*MessageError]. The API key and the token never
// appear in an error's text.
package rest
