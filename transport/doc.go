// Package transport is the WebSocket layer of rxrealtime: it dials (or, for
// test servers, accepts) a WebSocket and moves whole frames in and out of it,
// built on github.com/gobwas/ws's low-level frame API.
//
// # Reading
//
// One goroutine calls [Conn.ReadFrame] in a loop. Each call returns the next
// text or binary message in a freshly allocated slice that the caller owns:
// the payload is read with one io.ReadFull straight into a slice of exactly
// the frame's size, so decoded messages may alias it without any copy. Pings
// are answered, pongs recorded, fragmented messages reassembled, and frames
// larger than [WithMaxFrameSize] rejected from their header, before any
// allocation.
//
// A text frame's payload is not checked for valid UTF-8. RFC 6455 (§5.6,
// §8.1) has an endpoint fail the connection with 1007 for one that is not;
// this package lets it through instead, on purpose: the check would be a
// second pass over every frame on the reader, the one goroutine every
// channel shares, while nothing downstream needs it — the Phoenix decoder
// reads bytes, JSON decoders replace invalid sequences with U+FFFD
// (encoding/json) or keep the bytes, and a topic that is not valid UTF-8
// names no channel. What a frame can cost is bounded by [WithMaxFrameSize]
// and, for JSON, phoenix.MaxDepth. (Tested against a hostile server:
// source's TestHostileInvalidUTF8.)
//
// # Writing
//
// [Conn.WriteFrame] and [Conn.Ping] may be called from any goroutine; frames
// never interleave. Client frames are masked in the connection's write buffer,
// never in the caller's slice. Every write is bounded by the context deadline
// and [WithWriteTimeout].
//
// # Ending
//
// Every error is terminal and tells who ended the connection:
//   - errors.Is(err, [ErrClosed]): this side called [Conn.Close] or
//     [Conn.CloseNow];
//   - errors.As(err, &ce) with ce a [*CloseError] and !ce.Abnormal(): the
//     peer sent a close frame with ce.Code and ce.Reason;
//   - a [*CloseError] with ce.Abnormal() (code 1006): the connection dropped
//     without a close frame; ce.Err (also reachable with errors.Is) says why;
//   - errors.Is(err, [ErrFrameTooLarge]) or errors.Is(err, [ErrProtocol]): the
//     peer misbehaved and this side failed the connection (1009 / 1002).
//
// # Error texts
//
// Every error of this package starts with "transport: ". Package source
// wraps them: what its user sees starts with "rxrealtime: " and keeps this
// package's text, prefix included, inside.
//
// # Secrets
//
// Realtime URLs carry the API key (and sometimes a JWT) in the query string.
// No error of this package prints a query string, user info or header value:
// URLs appear as scheme://host/path only. Text the peer sends — a rejected
// handshake's body, a close reason — may echo a secret: what the dial sent
// (query and header values), what [WithSecrets] names, and anything shaped
// like a JWT are removed from it ([Redact]).
package transport
