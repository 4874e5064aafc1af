// Package phoenix is the Phoenix Channels message model and its wire
// serializers, as spoken by Supabase Realtime.
//
// A [Message] is the envelope of one frame: join_ref, ref, topic, event and a
// payload kept as raw bytes. Decoding parses the envelope only; the payload
// stays undecoded (and, where possible, aliases the frame) until a consumer
// asks for a typed value. This keeps the per-frame cost of routing small.
//
// Three serializers are built in:
//
//   - [V1]: vsn 1.0.0, JSON objects {"topic","event","payload","ref","join_ref"}.
//   - [V2]: vsn 2.0.0, JSON arrays [join_ref, ref, topic, event, payload] in
//     text frames, and the binary frames of kinds 0 (push), 1 (reply),
//     2 (broadcast), 3 (user broadcast push) and 4 (user broadcast).
//
// Users may supply their own by implementing [Serializer].
package phoenix
