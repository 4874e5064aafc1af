package source

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Shared channels (Client.Share): one channel that joins, serving holders. A holder is a *Channel of its
// own — its streams, statuses, Done and Err are its own, fed by the shared channel (Handle, deliverChange,
// onPresence and emitStatus hand each holder what the channel receives) — whose joins and pushes are the
// shared channel's. The shared channel is never handed to a user: it leaves its join when its last holder
// lets go (Channel.Unsubscribe, channel_leave.go).

// newHolder returns a new holder of the shared channel ch, not yet added (addHolder).
func (ch *Channel) newHolder() *Channel {
	h := &Channel{
		name:        ch.name,
		topic:       ch.topic,
		cfg:         ch.cfg,
		wire:        ch.wire,
		host:        ch.host,
		ev:          ch.ev,
		sec:         ch.sec,
		stopping:    ch.stopping,
		pushTimeout: ch.pushTimeout,
		sendBuffer:  ch.sendBuffer,
		maxFrame:    ch.maxFrame,
		decoders:    ch.decoders,
		allChanges:  ch.allChanges,
		multiTable:  ch.multiTable,
		statuses:    newStatusFeed(),
		gone:        make(chan struct{}),
		hold:        &holding{core: ch},
	}
	h.joinRef.Store(&noJoinRef)
	h.changes = hub[*inboundChange](ch.ev, ch.topic)
	h.presence.events = hub[presenceEvent](ch.ev, ch.topic)
	h.msgs = hub[phoenix.Message](ch.ev, ch.topic)
	return h
}

// addHolder makes h a holder of the shared channel ch: from now on it receives what ch receives, starting
// with ch's current status. It fails when ch takes no new holder (dead).
func (ch *Channel) addHolder(h *Channel) bool {
	ch.holdMu.Lock()
	defer ch.holdMu.Unlock()
	if ch.dead {
		return false
	}
	if ev, ok := ch.statuses.current(); ok {
		h.statuses.emit(ev)
	}
	var hs []*Channel
	if p := ch.holders.Load(); p != nil {
		hs = *p
	}
	hs = append(hs[:len(hs):len(hs)], h)
	ch.holders.Store(&hs)
	return true
}

// dropHolder removes h from the holders of the shared channel ch; last reports that none is left. ok is
// false when h was not a holder any more.
func (ch *Channel) dropHolder(h *Channel) (last, ok bool) {
	ch.holdMu.Lock()
	defer ch.holdMu.Unlock()
	p := ch.holders.Load()
	if p == nil {
		return false, false
	}
	i := slices.Index(*p, h)
	if i < 0 {
		return false, false
	}
	hs := slices.Delete(slices.Clone(*p), i, i+1)
	ch.holders.Store(&hs)
	return len(hs) == 0, true
}

// takeHolders removes every holder of the shared channel ch and returns them; dead makes ch take no new
// one (it is closing for good).
func (ch *Channel) takeHolders(dead bool) []*Channel {
	ch.holdMu.Lock()
	defer ch.holdMu.Unlock()
	if dead {
		ch.dead = true
	}
	p := ch.holders.Swap(nil)
	if p == nil {
		return nil
	}
	return *p
}

// holderList returns the live holders of the shared channel ch.
func (ch *Channel) holderList() []*Channel {
	if p := ch.holders.Load(); p != nil {
		return *p
	}
	return nil
}

// closeHolder ends the holder ch: every stream of ch completes with err, its statuses with a final
// CLOSED with err, and Done is closed. err is nil when ch was released, else why its shared channel
// closed for good.
func (ch *Channel) closeHolder(err error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.isGone() {
		return
	}
	ch.goneErr = err
	ch.msgs.Complete(err)
	ch.changes.Complete(err)
	ch.presence.events.Complete(err)
	ch.statuses.emit(StatusEvent{Status: StatusClosed, Err: err})
	ch.statuses.complete()
	close(ch.gone)
}

// configDiff lists the options on which a request (want) differs from the live shared channel's
// configuration (live), each as "<option>: requested <value>, live <value>"; nil when they are the same.
// Both configurations went through channelSetup: bindings deduplicated, the join timeout resolved.
// Bindings are compared as a set (the server's ids are matched by content, see bindingIndex); a rejoin
// backoff by reflect.DeepEqual (a func backoff equals no other, itself included).
func configDiff(want, live *channelConfig) []string {
	var out []string
	differ := func(option, requested, current string) {
		out = append(out, option+": requested "+requested+", live "+current)
	}
	onOff := func(option string, a, b bool) {
		if a != b {
			differ(option, onOffText(a), onOffText(b))
		}
	}
	onOff("WithBroadcastSelf", want.broadcastSelf, live.broadcastSelf)
	onOff("WithBroadcastAck", want.broadcastAck, live.broadcastAck)
	if a, b := replayText(want.replay), replayText(live.replay); a != b {
		differ("WithBroadcastReplay", a, b)
	}
	if a, b := presenceText(want), presenceText(live); a != b {
		differ("WithPresence", a, b)
	}
	if a, b := bindingsText(want), bindingsText(live); a != b {
		differ("WithPostgresChanges", a, b)
	}
	onOff("WithPrivate", want.private, live.private)
	onOff("WithWaitForPostgres", want.waitForPostgres, live.waitForPostgres)
	if want.joinTimeout != live.joinTimeout {
		differ("WithJoinTimeout", want.joinTimeout.String(), live.joinTimeout.String())
	}
	if !reflect.DeepEqual(want.rejoin, live.rejoin) {
		differ("WithRejoinBackoff", backoffText(want), backoffText(live))
	}
	onOff("WithoutRejoinOnTokenExpiry", want.noRejoinOnExpiry, live.noRejoinOnExpiry)
	onOff("WithReplicationReady", want.replicationReady, live.replicationReady)
	if a, b := pgWaitText(want), pgWaitText(live); a != b {
		differ("WithPostgresChangesWait", a, b)
	}
	if want.presenceCalls != live.presenceCalls || want.presenceWindow != live.presenceWindow {
		differ("WithPresenceLimit", fmt.Sprintf("%d per %v", want.presenceCalls, want.presenceWindow),
			fmt.Sprintf("%d per %v", live.presenceCalls, live.presenceWindow))
	}
	onOff("WithGapFreeBroadcasts", want.gapFree, live.gapFree)
	if want.gapMargin != live.gapMargin {
		differ("WithGapFreeMargin", want.gapMargin.String(), live.gapMargin.String())
	}
	return out
}

func onOffText(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func replayText(r *replayConfig) string {
	if r == nil {
		return "off"
	}
	return fmt.Sprintf("since %d ms, limit %d", r.sinceMillis(), r.limit)
}

func presenceText(c *channelConfig) string {
	if !c.presenceEnabled {
		return "off"
	}
	return "key " + strconv.Quote(c.presenceKey)
}

// bindingsText is the set of bindings, sorted, as they are sent.
func bindingsText(c *channelConfig) string {
	if len(c.bindings) == 0 {
		return "none"
	}
	keys := make([]string, len(c.bindings))
	for i, b := range c.bindings {
		k, _ := b.MarshalJSON() // validated by channelSetup
		keys[i] = string(k)
	}
	slices.Sort(keys)
	return "[" + strings.Join(keys, ",") + "]"
}

func backoffText(c *channelConfig) string {
	v := reflect.ValueOf(c.rejoin)
	if v.Kind() == reflect.Func {
		return fmt.Sprintf("%T (a func equals no other backoff)", c.rejoin)
	}
	return fmt.Sprintf("%T%v", c.rejoin, c.rejoin)
}

func pgWaitText(c *channelConfig) string {
	if !c.pgWait {
		return "off"
	}
	return "timeout " + c.pgWaitTimeout.String()
}

// toHolders hands m to the message stream of each holder of a shared channel.
func (ch *Channel) toHolders(m phoenix.Message) {
	if ch.shared {
		ch.eachHolder(func(h *Channel) { h.msgs.Emit(m) })
	}
}

// deliverMsg delivers a message the channel held back (behind a replay): to the topic's stream, and to
// the holders of a shared channel, as Handle's caller and Handle do.
func (ch *Channel) deliverMsg(m phoenix.Message) {
	ch.rt.Hub().Emit(m)
	ch.toHolders(m)
}
