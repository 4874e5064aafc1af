// Package presence implements Phoenix presence synchronisation, as Supabase
// Realtime channels use it, typed by the user's meta type M.
//
// The server sends a presence_state message (the full state) after a join
// and presence_diff messages (joins and leaves) as clients track, update and
// untrack. [SyncState] and [SyncDiff] are the pure merge functions of
// phoenix.js's Presence.syncState and Presence.syncDiff, with the same
// phx_ref-based reconciliation of metas; [Tracker] wraps them with
// phoenix.js's handling of message order: diffs that arrive before the
// first state, or after a rejoin before that join's state, are held and
// applied after the state.
//
// # Differences from phoenix.js
//
// A client that tracks again with another meta replaces its meta: the
// server sends a join of the new meta, whose phx_ref_prev names the old
// one, and a leave of the old one, in one diff. phoenix.js (and so
// realtime-js) reports that as a join and a leave; here it is one [Update]
// event, whose Replaced metas are the old ones. A join whose phx_ref_prev
// names no meta leaving in the same message stays a Join. The state is the
// same either way.
//
// Go maps have no order, so the events of one call are reported in key
// order (all joins and updates first, then all leaves, as in phoenix.js),
// and a [State]'s keys are unordered. The final state does not depend on
// this order. Each meta of a key keeps its place as in phoenix.js.
//
// The events carry copies: modifying them, or a [Tracker.State] snapshot,
// does not change the tracker. The M values themselves are copied by value;
// if M holds maps, slices or pointers, those are shared. The exception is
// [Tracker.HandleStateFunc] and [Tracker.HandleDiffFunc], for callers that
// pass events on: their events share the tracker's slices, read-only.
//
// # Payloads from a hostile server
//
// [DecodeState] and [DecodeDiff] (and the Tracker methods that take
// payloads) refuse a payload nested deeper than [phoenix.MaxDepth] with a
// [*DecodeError] wrapping [phoenix.ErrTooDeep], before anything is
// decoded: no decoder recurses more deeply than that. The tracker works in
// place, so a diff costs what the diff holds whatever the size of the
// state, and with [RawMeta] metas and events passed on a state costs about
// four times its payload (see [Tracker.HandleStateFunc]).
package presence
