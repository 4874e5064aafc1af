package source

import (
	"encoding/json"

	"github.com/rxrealtime/rxrealtime/source/internal/socket"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A join's replay, delivered whole and before the join's live broadcasts. The server replays a join's
// stored broadcasts from the channel process after the join has returned, while it writes live
// broadcasts to the socket without the channel process (realtime_channel.ex join/3 subscribes the socket
// to the topic during the join; handle_info({:replay, ...}) pushes the replay later), so a live broadcast
// can reach the client before or among the replayed ones although it is newer than all of them (the
// replay's query ran before the subscription). The channel process handles its messages in order, so the
// reply to a push the channel makes after the join comes after the last replayed message: after a join
// that asked for a replay, the channel sends such a push (the fence, a presence push without an event,
// which the server answers and otherwise ignores) and holds the live broadcasts that arrive until its
// reply. The replayed ones are delivered as they arrive, in the server's order.

// openReplay starts holding live broadcasts after the accepted join ref, if it asked for a replay, and
// sends the fence, off the reader (a push may wait for room in the write queue).
func (ch *Channel) openReplay(ref string) {
	fence := ch.replay.open(ref, ch.topic, ch.deliverMsg)
	if fence == nil {
		return
	}
	go ch.wire.PushAsync(fence, ch.pushTimeout, func(socket.Reply, error) {
		// Answered (the replay is all here), timed out, or lost with its session: deliver what waited.
		ch.replay.release(ref, ch.deliverMsg)
	})
}

// holdLive runs on the reader for a broadcast the channel delivers: it reports false for a live one held
// until the current join's replay is all here.
func (ch *Channel) holdLive(m *phoenix.Message) bool {
	if !ch.replay.active.Load() {
		return true
	}
	_, _, meta, _, err := splitBroadcast(m)
	if err != nil {
		return true // the typed streams report it
	}
	var bm broadcastMeta
	if len(meta) > 0 {
		_ = json.Unmarshal(meta, &bm)
	}
	if bm.Replayed {
		return true
	}
	return !ch.replay.hold(m, ch.deliverMsg)
}
