package source

import (
	"encoding/json"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Gap-free broadcasts (WithGapFreeBroadcasts): on every rejoin the channel
// asks the server to replay the stored broadcasts since the last one it
// delivered, drops what it already delivered, and reports when the replay
// may not have covered the whole outage.

// WithGapFreeBroadcasts makes the channel's broadcasts survive reconnects
// and rejoins, as far as the server stores them: on every rejoin it asks
// for a replay (broadcast.replay, up to 25 messages) since the last
// broadcast it delivered, minus a safety margin ([WithGapFreeMargin]) for
// clock skew between this host and the database; every broadcast it has
// already delivered is dropped, by message id (meta.id) or, for a
// persisted client broadcast that was delivered live without an id, by
// event and payload. So each stored broadcast is delivered once: each
// join's new replayed ones in the server's order, before that join's live
// ones (see [WithBroadcastReplay] for that order and its one exception,
// the messages of one transaction). When a replay comes back full with nothing already delivered in
// it, the outage may have outlasted it: a [*GapError] is reported on
// [Client.Errors].
//
// It needs a private channel ([WithPrivate]): the server replays only
// those. Only stored broadcasts can be replayed: database broadcasts
// (realtime.send) and client or REST broadcasts sent with persist
// ([Persist]). The first join keeps [WithBroadcastReplay]'s since and
// limit if given, and replays nothing otherwise. Duplicates are dropped
// before any stream sees them, [Channel.Messages] included; replayed
// messages are marked [Broadcast.Replayed].
//
// A stored broadcast older than one already delivered but never delivered
// itself (left out by the first join's replay limit, say) is delivered
// when a rejoin's replay window reaches it, after newer ones.
//
// Two messages with the same event and payload, one delivered live
// without an id and the other stored while the channel was away, within
// the margin, are taken for one: give such messages distinct payloads
// (or send them as database broadcasts, which carry ids).
func WithGapFreeBroadcasts() ChannelOption { return func(c *channelConfig) { c.gapFree = true } }

// WithGapFreeMargin sets how far before the last delivered broadcast a
// gap-free rejoin's replay starts (default [DefaultGapFreeMargin]). The
// server compares it with the messages' inserted_at, the database's clock:
// the margin must exceed the skew between the clocks and the delivery
// latency. A larger one only replays more duplicates, which are dropped.
func WithGapFreeMargin(d time.Duration) ChannelOption {
	return func(c *channelConfig) { c.gapMargin = d }
}

// gapReplay is the replay the join that is going out asks for: the gap
// replay on a rejoin, the user's otherwise (nil: none). ref is that
// join's join_ref.
func (ch *Channel) gapReplay(ref string) *joinReplay {
	cfg := &ch.cfg
	var user *joinReplay
	if cfg.replay != nil {
		user = &joinReplay{Since: cfg.replay.sinceMillis(), Limit: cfg.replay.limit}
	}
	if !cfg.gapFree {
		return user
	}
	g := ch.gap
	g.mu.Lock()
	defer g.mu.Unlock()
	g.joinRef, g.replayed, g.firstKnown, g.firstID = "", 0, false, ""
	if !g.joined {
		return user
	}
	g.joinRef = ref
	g.since = g.mark.Add(-cfg.gapMargin)
	return &joinReplay{Since: g.since.UnixMilli(), Limit: gapReplayLimit}
}

// gapJoined records a successful join of a gap-free channel.
func (ch *Channel) gapJoined() {
	if !ch.cfg.gapFree {
		return
	}
	g := ch.gap
	g.mu.Lock()
	if !g.joined {
		g.joined = true
		if g.mark.IsZero() {
			g.mark = time.Now()
		}
	}
	g.mu.Unlock()
}

// gapFilter runs on the reader goroutine for every broadcast of a
// gap-free channel; it returns false for one already delivered.
func (ch *Channel) gapFilter(m *phoenix.Message) bool {
	event, payload, meta, binary, err := splitBroadcast(m)
	if err != nil {
		return true // the typed streams report it
	}
	var bm broadcastMeta
	if len(meta) > 0 {
		_ = json.Unmarshal(meta, &bm)
	}
	now := time.Now()
	deliver, gapErr := ch.gap.filter(ch.topic, ch.cfg.gapMargin, event, payload, binary, bm.ID, bm.Replayed, now)
	if gapErr != nil {
		ch.ev.report(gapErr)
	}
	return deliver
}
