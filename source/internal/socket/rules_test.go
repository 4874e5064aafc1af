package socket

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Unit tests of the socket's rules; the socket as a whole is tested through package source against the
// embedded test server.

func msg(topic, event string) *phoenix.Message {
	return &phoenix.Message{Topic: topic, Event: event, Payload: EmptyObject}
}

func TestCompactKeepsTheNewestControlMessages(t *testing.T) {
	join1, tok1, push, join2, tok2 := msg("a", phoenix.EventJoin), msg("a", phoenix.EventAccessToken),
		msg("a", "broadcast"), msg("a", phoenix.EventJoin), msg("a", phoenix.EventAccessToken)
	leave, join3 := msg("b", phoenix.EventLeave), msg("b", phoenix.EventJoin)
	kept, stale := compact([]*phoenix.Message{join1, tok1, push, join2, tok2, leave, join3})
	assert.Equal(t, []*phoenix.Message{push, join2, tok2, leave, join3}, kept, "a newer join supersedes older joins and tokens; a leave is never superseded")
	assert.ElementsMatch(t, []*phoenix.Message{join1, tok1}, stale)

	kept, stale = dropControl([]*phoenix.Message{join2, push, leave})
	assert.Equal(t, []*phoenix.Message{push}, kept)
	assert.Equal(t, []*phoenix.Message{join2, leave}, stale)
}

func TestBoundToJoin(t *testing.T) {
	b := msg("a", "broadcast")
	assert.False(t, boundToJoin(b), "a push without a join_ref waits in the offline buffer")
	b.JoinRef = "7"
	assert.True(t, boundToJoin(b), "one with a join_ref goes back to its channel")
	j := msg("a", phoenix.EventJoin)
	j.JoinRef = "7"
	assert.False(t, boundToJoin(j), "a join is a control message")
}

// A close the server made for a frame poisons the frame it was for, among those written since its last
// heartbeat reply; any other end poisons nothing.
func TestPoisonOfAClose(t *testing.T) {
	small, big, bin := msg("a", "s"), msg("a", "big"), msg("a", "bin")
	suspects := []qitem{{m: small, size: 10}, {m: big, size: 6 << 20}, {m: bin, size: 20, binary: true}}
	poisoned := func(cause error) (out []*phoenix.Message) {
		p := poisonOf(cause, suspects, 10) // the server processed a 10-byte frame before
		for _, it := range suspects {
			if p(it) {
				out = append(out, it.m)
			}
		}
		return out
	}
	closeWith := func(code transport.StatusCode) error { return &transport.CloseError{Code: code} }
	assert.Equal(t, []*phoenix.Message{big}, poisoned(closeWith(transport.StatusMessageTooBig)), "1009: the largest")
	assert.Equal(t, []*phoenix.Message{bin}, poisoned(closeWith(transport.StatusUnsupportedData)), "1003: the binary ones")
	assert.Equal(t, []*phoenix.Message{small, big}, poisoned(closeWith(transport.StatusInvalidPayload)), "1007: the text ones")
	assert.Empty(t, poisoned(closeWith(transport.StatusGoingAway)))
	assert.Empty(t, poisoned(errors.New("reset")))
	assert.Empty(t, poisonOf(closeWith(transport.StatusMessageTooBig), nil, 0)(qitem{m: big}))

	onlyText := []qitem{{m: small, size: 10}}
	p := poisonOf(closeWith(transport.StatusUnsupportedData), onlyText, 0)
	assert.True(t, p(onlyText[0]), "no frame fits the code: every suspect is poisoned")
}

// A 1009 is for the first frame over the server's limit, which is unknown but at least the largest frame
// the server processed: every suspect larger than that and than every frame written before it may be the
// one, and is taken for it. With only the largest taken, two large frames in flight (the first the one the
// server closed for, the second a byte larger) sent the first again: the property test found it.
func TestPoisonOfAMessageTooBig(t *testing.T) {
	hb, p1, after, p2, last := msg("phoenix", "heartbeat"), msg("a", "p1"), msg("a", "after"), msg("a", "p2"), msg("a", "last")
	suspects := []qitem{{m: hb, size: 35}, {m: p1, size: 41003}, {m: after, size: 40}, {m: p2, size: 41004}, {m: last, size: 41000}}
	tooBig := &transport.CloseError{Code: transport.StatusMessageTooBig}
	poisoned := func(accepted int) (out []*phoenix.Message) {
		p := poisonOf(tooBig, suspects, accepted)
		for _, it := range suspects {
			if p(it) {
				out = append(out, it.m)
			}
		}
		return out
	}
	assert.Equal(t, []*phoenix.Message{p1, p2}, poisoned(200), "each frame that may have been the first over the limit")
	assert.Equal(t, []*phoenix.Message{p2}, poisoned(41003), "the server processed a frame as large as p1: p1 was not it")
	assert.Equal(t, []*phoenix.Message{p2}, poisoned(50000), "none is larger than what the server processed: the largest")
	assert.Equal(t, []*phoenix.Message{hb, p1, p2}, poisoned(0), "nothing processed yet: every frame larger than those before it")
}

// The largest frame the server has shown it processed is remembered across sessions; it only grows.
func TestAcceptedSizeOnlyGrows(t *testing.T) {
	s := &Socket{}
	s.accepted(100)
	s.accepted(40)
	s.accepted(0)
	assert.EqualValues(t, 100, s.acceptedSize.Load())
	s.accepted(5000)
	assert.EqualValues(t, 5000, s.acceptedSize.Load())
}

// A frame over the limit is refused before it is queued, and the queue is as it was.
func TestEnqueueRefusesFramesOverTheLimit(t *testing.T) {
	s := &Socket{cfg: Config{Serializer: phoenix.V2, MaxFrameSize: 200}}
	ss := &session{s: s}
	ss.wq.init()
	ok := msg("realtime:a", "small")
	require.NoError(t, ss.enqueue(context.Background(), ok, qNoReply, true))
	before := len(ss.wq.q.buf)
	big := msg("realtime:a", "big")
	big.Payload = []byte(`"` + strings.Repeat("x", 300) + `"`)
	err := ss.enqueue(context.Background(), big, qNoReply, true)
	var fe *FrameSizeError
	require.ErrorAs(t, err, &fe)
	assert.Greater(t, fe.Size, 300)
	assert.Equal(t, 200, fe.Limit)
	assert.Len(t, ss.wq.q.items, 1)
	assert.Equal(t, before, len(ss.wq.q.buf), "nothing of the refused frame stays in the queue")
}

// Frames written before a heartbeat the server answered are no longer suspects of a close.
func TestRecentFramesEndAtAnsweredHeartbeats(t *testing.T) {
	var q writeQueue
	a, hb, b := msg("a", "1"), msg("phoenix", phoenix.EventHeartbeat), msg("a", "2")
	q.wrote([]qitem{{m: a}, {m: hb}, {m: b}})
	q.processed(hb)
	require.Len(t, q.recent, 1)
	assert.Same(t, b, q.recent[0].m)

	many := make([]qitem, maxRecent+10)
	for i := range many {
		many[i] = qitem{m: msg("a", "n")}
	}
	q.wrote(many)
	assert.Len(t, q.recent, maxRecent, "bounded")
	assert.Same(t, many[len(many)-1].m, q.recent[maxRecent-1].m, "the newest kept")
}

// A push whose session ended says so once: "connection lost before the reply: <cause>".
func TestLostErrorWrapsOnce(t *testing.T) {
	s := &Socket{}
	cause := &transport.CloseError{Code: transport.StatusMessageTooBig}
	err := s.lostError(cause)
	assert.ErrorIs(t, err, ErrConnectionLost)
	assert.ErrorIs(t, err, cause)
	again := s.lostError(err)
	assert.Equal(t, 1, strings.Count(again.Error(), "connection lost"), again.Error())
	s.closing = true
	assert.Equal(t, ErrClosed, s.lostError(cause), "the owner closed the socket: that is why")
}

func TestPendingTableResolvesOnce(t *testing.T) {
	var tbl pendingTable
	var got []Reply
	tbl.add("1", &pending{done: func(r Reply, err error) { got = append(got, r) }})
	reply := &phoenix.Message{Event: phoenix.EventReply, Ref: "1", Payload: []byte(`{"status":"error","response":{"reason":"x"}}`)}
	tbl.resolve(reply)
	tbl.resolve(reply)
	require.Len(t, got, 1)
	assert.Equal(t, "error", got[0].Status)
	assert.JSONEq(t, `{"reason":"x"}`, string(got[0].Response))
	assert.False(t, tbl.has("1"))
}

// A push waiting for no reply whose write failed goes back for the next session once; if its write fails
// again it is not given a third time (a peer that resets the connection for it, its close frame lost).
func TestAFrameWhoseWriteFailsTwiceIsNotRetried(t *testing.T) {
	s := &Socket{}
	m := msg("realtime:a", "blob")
	reset := errors.New("connection reset by peer")
	handBack := func() (back, poisoned []qitem) {
		ss := &session{s: s}
		ss.wq.init()
		ss.wq.failed = []qitem{{m: m, size: 10, kind: qNoReply}}
		return ss.handBack(reset)
	}
	back, poisoned := handBack()
	require.Len(t, back, 1, "sent again after a first failed write")
	assert.Empty(t, poisoned)
	back, poisoned = handBack()
	assert.Empty(t, back, "not after a second")
	require.Len(t, poisoned, 1)

	// A write that succeeds in between starts the count afresh.
	handBack()
	s.retried.written([]qitem{{m: m}})
	back, _ = handBack()
	assert.Len(t, back, 1)
}
