// Package phoenix is the Phoenix Channels message model and its wire
// serializers, as spoken by Supabase Realtime.
//
// A [Message] is the envelope of one frame: join_ref, ref, topic, event and a
// payload kept as raw bytes. Decoding parses the envelope only; the payload
// stays undecoded (and, where possible, aliases the frame) until a consumer
// asks for a typed value. This keeps the per-frame cost of routing small.
//
// Two serializers are built in:
//
//   - [V1]: vsn 1.0.0, JSON objects {"topic","event","payload","ref","join_ref"}.
//   - [V2]: vsn 2.0.0, JSON arrays [join_ref, ref, topic, event, payload] in
//     text frames, and the binary frames of kinds 0 (push), 1 (reply),
//     2 (broadcast), 3 (user broadcast push) and 4 (user broadcast).
//
// [V1] and [V2] are ready-made values; [NewV2] builds a V2 serializer with
// options: [WithSide] for the server end of a socket (it decides the layout
// of binary kind 0), and [WithBinaryUserBroadcasts] to send user broadcasts
// as binary frames the way realtime-js does. Users may supply their own
// serializer by implementing [Serializer].
//
// Decoding never decodes the payload: [ParseReply] and [ParseBroadcast]
// read the two payload shapes the socket itself needs (reply status,
// broadcast event) and hand back the rest as raw JSON.
//
// Every error of this package starts with "phoenix: ". Package source wraps
// them: what its user sees starts with "rxrealtime: " and keeps this
// package's text, prefix included, inside.
package phoenix
