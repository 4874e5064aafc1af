package source_test

// The hostile-server suite (issue 18): a raw gobwas/ws server
// (source/internal/hostile) that speaks just enough Phoenix to accept a join
// sends what a well-behaved server never would. Each case asserts that the
// process survives, that the heap grows by a bounded multiple of what was
// sent, that the client reports a typed error where one is due, that no
// error or log line carries the API key or the access token (checked for
// every case when its client closes, see newHostile), and that the client
// keeps working: a broadcast on the probe channel still arrives, over the
// same connection or, when the socket had to be failed, after a reconnect
// and rejoin. Deep nesting, which can kill the process, is in
// hostile_deep_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/internal/hostile"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A presence_state of 100,000 keys (4 MB) is decoded into a roster that
// costs a bounded multiple of the frame (issue 18 measured 18-21×). The
// reader applies a presence_state before it reads the next frame, so the
// roster is complete once the probe broadcast after it arrives.
func TestHostileWidePresence(t *testing.T) {
	const keys = 100_000
	e := newHostile(t, nil)
	sc := e.conn(t, 1)
	ch := e.channel(t, "wide", source.WithPresence("me"))
	e.subscribe(t, ch)
	j := joined(t, sc, "realtime:wide")

	var b bytes.Buffer
	b.WriteString(`["` + j.JoinRef + `",null,"realtime:wide","presence_state",{`)
	for i := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"u%06d":{"metas":[{"phx_ref":"F%06d"}]}`, i, i)
	}
	b.WriteString(`}]`)
	frame := b.Bytes()
	require.Less(t, len(frame), transport.DefaultMaxFrameSize)

	heap := watchHeap()
	require.NoError(t, sc.Text(frame))
	e.alive(t, sc)
	assertHeap(t, heap, len(frame), 8, 6)

	state, err := source.PresenceState[map[string]any](ch)
	require.NoError(t, err)
	assert.Len(t, state, keys)
	e.sameConn(t)
}

// hugeText is an error text of n bytes from a server that echoes the
// client's secrets at its start.
func hugeText(n int) string {
	head := "Unauthorized: key " + hostileKey + " token " + hostileToken + " "
	return head + strings.Repeat("x", n-len(head))
}

// hugeLen keeps a huge text and its envelope under the client's frame
// limit.
const hugeLen = transport.DefaultMaxFrameSize - 4096

// assertBoundedRedacted checks an error made from a server's text that
// holds both secrets: it prints a bounded text without them, and field
// (the error's copy of the server's text) has them replaced by
// transport.Redacted.
func assertBoundedRedacted(t *testing.T, err error, field string) {
	t.Helper()
	assert.Less(t, len(err.Error()), 1000, "the error prints a bounded text: %s", transport.Excerpt(err.Error(), 200))
	assert.False(t, leaked(err.Error()), "the error's text carries a secret: %s", transport.Excerpt(err.Error(), 300))
	assert.False(t, leaked(field), "the error's field carries a secret: %s", transport.Excerpt(field, 300))
	assert.Contains(t, field, transport.Redacted, "the secrets in the field are replaced")
}

// Error texts as big as a frame may be (5 MB) give errors that print a
// bounded text and cost a bounded heap; the client carries on.
func TestHostileHugeErrors(t *testing.T) {
	huge := hugeText(hugeLen)
	quoted, err := json.Marshal(huge)
	require.NoError(t, err)

	t.Run("join_refusal", func(t *testing.T) {
		e := newHostile(t, []hostile.Option{hostile.WithJoin(func(j hostile.Join) (string, []byte) {
			if j.Topic == "realtime:huge" {
				return "error", append(append([]byte(`{"reason":`), quoted...), '}')
			}
			return hostile.OK(j)
		})})
		sc := e.conn(t, 1)
		ch := e.channel(t, "huge", source.WithRejoinBackoff(operators.StepBackoff{time.Second}))
		heap := watchHeap()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := ch.Subscribe(ctx)
		var je *source.JoinError
		require.ErrorAs(t, err, &je)
		assertBoundedRedacted(t, je, je.Reason)
		assertHeap(t, heap, len(quoted), 8, 3)
		e.alive(t, sc)
		e.sameConn(t)
	})

	t.Run("reply_error", func(t *testing.T) {
		e := newHostile(t, nil)
		sc := e.conn(t, 1)
		ch := e.channel(t, "huge")
		e.subscribe(t, ch)
		done := make(chan error, 1)
		go func() {
			_, err := ch.Push(context.Background(), "hostile", []byte(`{}`))
			done <- err
		}()
		m, err := sc.Await(waitCtx(t), func(m phoenix.Message) bool { return m.Event == "hostile" })
		require.NoError(t, err)
		heap := watchHeap()
		require.NoError(t, sc.Reply(m, "error", append(append([]byte(`{"reason":`), quoted...), '}')))
		err = <-done
		var re *source.ReplyError
		require.ErrorAs(t, err, &re)
		assertBoundedRedacted(t, re, re.Reason)
		assertHeap(t, heap, len(quoted), 8, 3)
		e.alive(t, sc)
		e.sameConn(t)
	})

	t.Run("system_error", func(t *testing.T) {
		e := newHostile(t, nil)
		sc := e.conn(t, 1)
		ch := e.channel(t, "huge")
		e.subscribe(t, ch)
		j := joined(t, sc, "realtime:huge")
		heap := watchHeap()
		require.NoError(t, sc.Text([]byte(`["`+j.JoinRef+`",null,"realtime:huge","system",{"extension":"postgres_changes","status":"error","channel":"huge","message":`+string(quoted)+`}]`)))
		err := e.errs.wait(t, "a *source.SystemError", func(err error) bool { var se *source.SystemError; return errors.As(err, &se) })
		var se *source.SystemError
		require.ErrorAs(t, err, &se)
		assertBoundedRedacted(t, se, se.Event.Message)
		assertHeap(t, heap, len(quoted), 8, 3)
		e.alive(t, sc)
		e.sameConn(t)
	})

	t.Run("close_reason", func(t *testing.T) {
		e := newHostile(t, nil)
		sc := e.conn(t, 1)
		ch := e.channel(t, "huge")
		statuses := collect(t, ch.Statuses())
		e.subscribe(t, ch)
		j := joined(t, sc, "realtime:huge")
		heap := watchHeap()
		require.NoError(t, sc.Text([]byte(`["`+j.JoinRef+`",null,"realtime:huge","system",{"extension":"system","status":"error","channel":"huge","message":`+string(quoted)+`}]`)))
		require.NoError(t, sc.Send(phoenix.Message{JoinRef: j.JoinRef, Ref: j.JoinRef, Topic: "realtime:huge", Event: phoenix.EventClose, Payload: []byte(`{}`)}))
		ev := statuses.next(t, hostileWait, func(ev source.StatusEvent) bool { return ev.Status == source.StatusClosed })
		var cr *source.CloseReason
		require.ErrorAs(t, ev.Err, &cr)
		assertBoundedRedacted(t, cr, cr.Message)
		assertHeap(t, heap, len(quoted), 8, 3)
		e.alive(t, sc)
		e.sameConn(t)
	})

	t.Run("handshake_body", func(t *testing.T) {
		srv := newHostileServer(t, hostile.WithHandshake(func(hostile.Request) hostile.Answer {
			return hostile.Answer{Status: 401, Body: `{"error":` + string(quoted) + `}`}
		}))
		errs, logs := newErrSink(), newLogSink()
		heap := watchHeap()
		ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
		defer cancel()
		_, err := source.Connect(ctx, srv.URL(), hostileClientOpts(errs, logs)...)
		var he *transport.HandshakeError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, 401, he.StatusCode)
		assert.LessOrEqual(t, len(he.Body), transport.MaxHandshakeBody)
		// The body is cut at MaxHandshakeBody, so it is no longer JSON and
		// Message is empty: the secrets at its start are in Body.
		assertBoundedRedacted(t, err, string(he.Body))
		assertHeap(t, heap, len(quoted), 2, 1)
		errs.assertNoSecrets(t)
		logs.assertNoSecrets(t)
	})
}

// A server that echoes the API key and the access token back (in the
// handshake's refusal, a join refusal, a system message, a close frame's
// reason, a reply) gets them replaced by transport.Redacted in every error
// and log line.
func TestHostileEchoedSecrets(t *testing.T) {
	echo := "echo: key " + hostileKey + " token " + hostileToken
	quoted, err := json.Marshal(echo)
	require.NoError(t, err)

	t.Run("handshake_401", func(t *testing.T) {
		srv := newHostileServer(t, hostile.WithHandshake(func(r hostile.Request) hostile.Answer {
			body, _ := json.Marshal(map[string]any{
				"error":   "API key " + r.Query.Get("apikey") + " does not match token " + hostileToken,
				"query":   r.URI,
				"headers": r.Header,
			})
			return hostile.Answer{Status: 401, Body: string(body)}
		}))
		errs, logs := newErrSink(), newLogSink()
		ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
		defer cancel()
		_, err := source.Connect(ctx, srv.URL(), hostileClientOpts(errs, logs)...)
		var ce *source.ConnectError
		require.ErrorAs(t, err, &ce)
		assert.True(t, ce.Permanent, "a 401 before any session is permanent")
		var he *transport.HandshakeError
		require.ErrorAs(t, err, &he)
		assertBoundedRedacted(t, err, he.Message)
		assert.False(t, leaked(string(he.Body)), "HandshakeError.Body carries a secret: %s", he.Body)
		errs.assertNoSecrets(t)
		logs.assertNoSecrets(t)
	})

	t.Run("handshake_401_on_reconnect", func(t *testing.T) {
		// The server learnt the token from the first session's join, then
		// refuses every later handshake echoing both secrets.
		var e *hostileEnv
		e = newHostile(t, []hostile.Option{hostile.WithHandshake(func(r hostile.Request) hostile.Answer {
			if r.N == 1 {
				return hostile.Answer{}
			}
			return hostile.Answer{Status: 401, Body: `{"error":"key ` + r.Query.Get("apikey") + ` token ` + hostileToken + `"}`}
		})})
		sc := e.conn(t, 1)
		assert.Equal(t, hostileToken, joined(t, sc, "realtime:probe").AccessToken)
		from := e.errs.mark()
		sc.Drop()
		err := e.errs.waitFrom(t, from, "an error with a *transport.HandshakeError", func(err error) bool {
			var he *transport.HandshakeError
			return errors.As(err, &he)
		})
		var he *transport.HandshakeError
		require.ErrorAs(t, err, &he)
		assertBoundedRedacted(t, err, he.Message)
	})

	t.Run("join_refusal", func(t *testing.T) {
		e := newHostile(t, []hostile.Option{hostile.WithJoin(func(j hostile.Join) (string, []byte) {
			if j.Topic == "realtime:refused" {
				return "error", []byte(`{"reason":"Unauthorized: ` + j.AccessToken + ` with ` + hostileKey + `"}`)
			}
			return hostile.OK(j)
		})})
		sc := e.conn(t, 1)
		ch := e.channel(t, "refused", source.WithRejoinBackoff(operators.StepBackoff{time.Second}))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := ch.Subscribe(ctx)
		var je *source.JoinError
		require.ErrorAs(t, err, &je)
		assert.Equal(t, "Unauthorized", je.Code)
		assertBoundedRedacted(t, err, je.Reason)
		assertBoundedRedacted(t, je, je.Message)
		e.alive(t, sc)
	})

	t.Run("system_error", func(t *testing.T) {
		e := newHostile(t, nil)
		sc := e.conn(t, 1)
		ch := e.channel(t, "sys")
		e.subscribe(t, ch)
		j := joined(t, sc, "realtime:sys")
		require.NoError(t, sc.Text([]byte(`["`+j.JoinRef+`",null,"realtime:sys","system",{"extension":"postgres_changes","status":"error","channel":"sys","message":`+string(quoted)+`}]`)))
		err := e.errs.wait(t, "a *source.SystemError", func(err error) bool { var se *source.SystemError; return errors.As(err, &se) })
		var se *source.SystemError
		require.ErrorAs(t, err, &se)
		assertBoundedRedacted(t, se, se.Event.Message)
		e.alive(t, sc)
	})

	t.Run("system_close", func(t *testing.T) {
		e := newHostile(t, nil)
		sc := e.conn(t, 1)
		ch := e.channel(t, "sys")
		statuses := collect(t, ch.Statuses())
		e.subscribe(t, ch)
		j := joined(t, sc, "realtime:sys")
		require.NoError(t, sc.Text([]byte(`["`+j.JoinRef+`",null,"realtime:sys","system",{"extension":"system","status":"error","channel":"sys","message":`+string(quoted)+`}]`)))
		require.NoError(t, sc.Send(phoenix.Message{JoinRef: j.JoinRef, Ref: j.JoinRef, Topic: "realtime:sys", Event: phoenix.EventClose, Payload: []byte(`{}`)}))
		ev := statuses.next(t, hostileWait, func(ev source.StatusEvent) bool { return ev.Status == source.StatusClosed })
		var cr *source.CloseReason
		require.ErrorAs(t, ev.Err, &cr)
		assertBoundedRedacted(t, cr, cr.Message)
		e.alive(t, sc)
	})

	t.Run("close_frame_reason", func(t *testing.T) {
		e := newHostile(t, nil)
		sc := e.conn(t, 1)
		from := e.errs.mark()
		reason := "key " + hostileKey + " token " + hostileToken
		require.LessOrEqual(t, len(reason), 123)
		require.NoError(t, sc.Close(4001, reason))
		err := e.errs.waitFrom(t, from, "a *source.ReconnectError", func(err error) bool { var re *source.ReconnectError; return errors.As(err, &re) })
		var ce *transport.CloseError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, transport.StatusCode(4001), ce.Code)
		assertBoundedRedacted(t, err, ce.Reason)
		e.reconnected(t, 2)
	})

	t.Run("reply_error", func(t *testing.T) {
		e := newHostile(t, nil)
		sc := e.conn(t, 1)
		ch := e.channel(t, "reply")
		e.subscribe(t, ch)
		done := make(chan error, 1)
		go func() {
			_, err := ch.Push(context.Background(), "hostile", []byte(`{}`))
			done <- err
		}()
		m, err := sc.Await(waitCtx(t), func(m phoenix.Message) bool { return m.Event == "hostile" })
		require.NoError(t, err)
		require.NoError(t, sc.Reply(m, "error", []byte(`{"reason":`+string(quoted)+`}`)))
		err = <-done
		var re *source.ReplyError
		require.ErrorAs(t, err, &re)
		assertBoundedRedacted(t, err, re.Reason)
		assert.False(t, leaked(string(re.Response)), "ReplyError.Response carries a secret: %s", re.Response)
		e.alive(t, sc)
	})
}

// Binary frames whose Phoenix lengths (topic, event, metadata, ref sizes)
// lie about the frame, or whose kind is unknown, are malformed frames: a
// *phoenix.DecodeError each, reported and skipped; the socket carries on.
func TestHostileMalformedBinaryFrames(t *testing.T) {
	topic := "realtime:probe"
	frames := []struct {
		name  string
		frame []byte
	}{
		{"kind4_topic_size_past_end", []byte{4, 200, 1, 0, 1, 'r', 'e'}},
		{"kind4_event_size_past_end", append(append([]byte{4, byte(len(topic)), 250, 0, 1}, topic...), 'e')},
		{"kind4_meta_size_past_end", append(append([]byte{4, byte(len(topic)), 4, 250, 1}, topic...), "ping{"...)},
		{"kind4_unknown_encoding", append(append([]byte{4, byte(len(topic)), 4, 0, 7}, topic...), "ping{}"...)},
		{"kind4_header_cut", []byte{4, 14}},
		{"kind2_event_size_past_end", append([]byte{2, byte(len(topic)), 200}, topic...)},
		{"kind1_sizes_past_end", []byte{1, 9, 9, 9, 9, 'x'}},
		{"kind0_sizes_past_end", []byte{0, 9, 9, 9, 'x'}},
		{"kind5", append(append([]byte{5, byte(len(topic)), 4, 0, 1}, topic...), "ping{}"...)},
		{"kind6", []byte{6}},
		{"kind127", []byte{127, 0, 0, 0}},
		{"kind255", []byte{255, 255, 255, 255, 255}},
		{"empty", []byte{}},
	}
	e := newHostile(t, nil)
	sc := e.conn(t, 1)
	for _, f := range frames {
		t.Run(f.name, func(t *testing.T) {
			from := e.errs.mark()
			require.NoError(t, sc.Binary(f.frame))
			err := e.errs.waitFrom(t, from, "a *phoenix.DecodeError", func(err error) bool { var de *phoenix.DecodeError; return errors.As(err, &de) })
			var de *phoenix.DecodeError
			require.ErrorAs(t, err, &de)
			assert.True(t, de.Binary)
			assert.ErrorIs(t, err, phoenix.ErrMalformed)
			e.alive(t, sc)
		})
	}
	e.sameConn(t)
}

// A frame header that announces more than the client's limit (5 MiB by
// default), alone or as the sum of a fragmented message, fails the socket
// with 1009 from the header, before the payload is read or allocated: a
// *transport.FrameTooLargeError as the cause of a *source.ReconnectError.
// The client reconnects and rejoins.
func TestHostileOversizedFrames(t *testing.T) {
	const limit = transport.DefaultMaxFrameSize
	// The client may fail the socket as soon as it has read a header, so
	// the server's writes after it may fail: their errors are ignored.
	cases := []struct {
		name string
		// send writes the oversized frame(s) and returns how many bytes
		// the client may have had to buffer before it could refuse.
		send func(sc *hostile.Conn) (buffered int)
	}{
		{"one_frame", func(sc *hostile.Conn) int {
			_ = sc.WriteHeader(ws.Header{Fin: true, OpCode: ws.OpText, Length: limit + 1}, bytes.Repeat([]byte{' '}, 64<<10))
			return 0
		}},
		{"huge_length", func(sc *hostile.Conn) int {
			_ = sc.WriteHeader(ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 62}, []byte{4})
			return 0
		}},
		{"fragments", func(sc *hostile.Conn) int {
			part := bytes.Repeat([]byte{' '}, 2<<20)
			_ = sc.WriteHeader(ws.Header{OpCode: ws.OpText, Length: int64(len(part))}, part)
			_ = sc.WriteHeader(ws.Header{OpCode: ws.OpContinuation, Length: int64(len(part))}, part)
			_ = sc.WriteHeader(ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: int64(len(part))}, part[:1024])
			return 2 * len(part)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newHostile(t, nil)
			sc := e.conn(t, 1)
			from := e.errs.mark()
			heap := watchHeap()
			sent := tc.send(sc)
			err := e.errs.waitFrom(t, from, "a *source.ReconnectError", func(err error) bool { var re *source.ReconnectError; return errors.As(err, &re) })
			var fe *transport.FrameTooLargeError
			require.ErrorAs(t, err, &fe)
			assert.ErrorIs(t, err, transport.ErrFrameTooLarge)
			assert.Equal(t, int64(limit), fe.Limit)
			assert.Greater(t, fe.Size, int64(limit))
			<-sc.Done()
			var cc *hostile.ClientClose
			if assert.ErrorAs(t, sc.Err(), &cc, "the client closed without a close frame") {
				assert.Equal(t, uint16(ws.StatusMessageTooBig), cc.Code)
			}
			// Nothing of the announced size was allocated: the heap grows
			// by what the client buffered of the fragments at most.
			peak := assertHeap(t, heap, max(sent, 1<<20), 3, 1)
			assert.Less(t, peak, uint64(2*sent+limit/2), "the client allocated for the announced size")
			e.reconnected(t, 2)
		})
	}
}

// WebSocket-level lies and violations fail the socket (1002 for a
// protocol violation, an abnormal closure for a frame cut short) and the
// client reconnects and rejoins.
func TestHostileProtocolViolations(t *testing.T) {
	cases := []struct {
		name     string
		protocol bool // the cause must be a transport.ErrProtocol
		send     func(sc *hostile.Conn) error
	}{
		{"length_longer_than_sent", false, func(sc *hostile.Conn) error {
			if err := sc.WriteHeader(ws.Header{Fin: true, OpCode: ws.OpText, Length: 4 << 20}, []byte(`[null,null,"x"`)); err != nil {
				return err
			}
			return sc.Close(0, "") // the rest of the frame never comes: a close header is read as payload, then EOF
		}},
		{"length_msb_set", true, func(sc *hostile.Conn) error {
			return sc.WriteRaw([]byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 1})
		}},
		{"masked_server_frame", true, func(sc *hostile.Conn) error {
			return sc.WriteHeader(ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 2}, []byte("{}"))
		}},
		{"rsv_bits", true, func(sc *hostile.Conn) error {
			return sc.WriteHeader(ws.Header{Fin: true, Rsv: 7, OpCode: ws.OpText, Length: 2}, []byte("{}"))
		}},
		{"reserved_opcode", true, func(sc *hostile.Conn) error {
			return sc.WriteHeader(ws.Header{Fin: true, OpCode: 0x3, Length: 2}, []byte("{}"))
		}},
		{"fragmented_ping", true, func(sc *hostile.Conn) error {
			return sc.WriteHeader(ws.Header{OpCode: ws.OpPing, Length: 1}, []byte("p"))
		}},
		{"control_frame_too_long", true, func(sc *hostile.Conn) error {
			return sc.WriteFrame(ws.OpPing, bytes.Repeat([]byte{'p'}, 200))
		}},
		{"continuation_without_start", true, func(sc *hostile.Conn) error {
			return sc.WriteHeader(ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: 2}, []byte("{}"))
		}},
		{"data_frame_inside_fragments", true, func(sc *hostile.Conn) error {
			if err := sc.WriteHeader(ws.Header{OpCode: ws.OpText, Length: 1}, []byte("[")); err != nil {
				return err
			}
			return sc.WriteFrame(ws.OpText, []byte("{}"))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newHostile(t, nil)
			sc := e.conn(t, 1)
			from := e.errs.mark()
			require.NoError(t, tc.send(sc))
			err := e.errs.waitFrom(t, from, "a *source.ReconnectError", func(err error) bool { var re *source.ReconnectError; return errors.As(err, &re) })
			if tc.protocol {
				assert.ErrorIs(t, err, transport.ErrProtocol)
			} else {
				var ce *transport.CloseError
				if assert.ErrorAs(t, err, &ce) {
					assert.True(t, ce.Abnormal(), "a frame cut short is an abnormal closure: %v", err)
				}
			}
			e.reconnected(t, 2)
		})
	}
}

// Close frames with any code, valid or not, any body, and a reset
// connection: the client reconnects and rejoins every time, and reports
// why.
func TestHostileCloseFrames(t *testing.T) {
	type closeCase struct {
		name string
		body []byte // the close frame's body; nil: reset the TCP connection instead
		code transport.StatusCode
	}
	code := func(c uint16, reason string) []byte {
		return append([]byte{byte(c >> 8), byte(c)}, reason...)
	}
	cases := []closeCase{
		{"1000", code(1000, ""), 1000},
		{"1001", code(1001, "going away"), 1001},
		{"1011", code(1011, "internal error"), 1011},
		{"1012", code(1012, "service restart"), 1012},
		{"4000", code(4000, "custom"), 4000},
		{"4999", code(4999, ""), 4999},
		{"999_invalid", code(999, "below the range"), 0},
		{"1004_reserved", code(1004, ""), 0},
		{"1005_not_on_wire", code(1005, ""), 0},
		{"1006_not_on_wire", code(1006, ""), 0},
		{"1015_not_on_wire", code(1015, ""), 0},
		{"2999_unassigned", code(2999, ""), 0},
		{"5000_past_range", code(5000, ""), 0},
		{"65535", code(65535, "max"), 0},
		{"empty_body", []byte{}, 0},
		{"one_byte_body", []byte{0x03}, 0},
		{"longest_reason", code(1000, strings.Repeat("r", 123)), 1000},
		{"body_too_long_for_control", code(1000, strings.Repeat("r", 200)), 0},
		{"reason_invalid_utf8", code(1000, "\xff\xfe bad"), 0},
		{"reset", nil, 0},
	}
	e := newHostile(t, nil)
	sc := e.conn(t, 1)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from := e.errs.mark()
			if tc.body == nil {
				sc.Drop()
			} else {
				require.NoError(t, sc.CloseBody(tc.body))
			}
			err := e.errs.waitFrom(t, from, "a *source.ReconnectError", func(err error) bool { var re *source.ReconnectError; return errors.As(err, &re) })
			if tc.code != 0 {
				var ce *transport.CloseError
				if assert.ErrorAs(t, err, &ce) {
					assert.Equal(t, tc.code, ce.Code)
				}
			}
			assert.Less(t, len(err.Error()), 1000)
			sc = e.reconnected(t, i+2)
		})
	}
}

// Floods of 100,000 frames as fast as the socket takes them: broadcasts for
// a consumer that stalled, malformed frames, pings. The heap stays bounded,
// the same connection carries on (heartbeats answered in time), and a
// stalled consumer is reported once.
func TestHostileFloods(t *testing.T) {
	const n = 100_000

	t.Run("broadcasts_to_a_stalled_consumer", func(t *testing.T) {
		e := newHostile(t, nil)
		sc := e.conn(t, 1)
		ch := e.channel(t, "flood")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_ = source.Broadcasts[json.RawMessage](ch, "f").Observe(ctx) // never read
		e.subscribe(t, ch)
		m := broadcastMsg("realtime:flood", "f", `{"i":1}`)
		frame, _, err := hostile.Serializer.Encode(nil, &m)
		require.NoError(t, err)
		heap := watchHeap()
		require.NoError(t, sc.Flood(n, frame, false))
		e.alive(t, sc) // read after the whole flood
		assertHeap(t, heap, n*len(frame), 3, 1)
		e.sameConn(t)
		slow := 0
		for _, err := range e.errs.all() {
			var se *source.SlowConsumerError
			if errors.As(err, &se) && se.Topic == "realtime:flood" {
				slow++
			}
		}
		assert.Equal(t, 1, slow, "one stalled consumer, one report")
		// The consumer holds its mailbox, the message being handed on and
		// its Observe channel's 32; every other broadcast is dropped.
		assert.GreaterOrEqual(t, e.c.Stats().Dropped, uint64(n-(source.DefaultStreamBuffer+1+32)))
	})

	t.Run("malformed_frames", func(t *testing.T) {
		e := newHostile(t, nil)
		sc := e.conn(t, 1)
		before := e.c.Stats().DecodeErrors
		frame := []byte(`{"not":"phoenix"}`)
		heap := watchHeap()
		require.NoError(t, sc.Flood(n, frame, false))
		e.alive(t, sc)
		assertHeap(t, heap, n*len(frame), 4, 1)
		e.sameConn(t)
		assert.Equal(t, uint64(n), e.c.Stats().DecodeErrors-before)
	})

	t.Run("pings", func(t *testing.T) {
		e := newHostile(t, nil)
		sc := e.conn(t, 1)
		heap := watchHeap()
		require.NoError(t, sc.FloodControl(n, ws.OpPing, []byte("ping")))
		e.alive(t, sc)
		assertHeap(t, heap, n*6, 4, 1)
		e.sameConn(t)
	})
}

// Text frames are not checked for UTF-8 (RFC 6455 asks for a 1007 close;
// Realtime itself runs with validate_utf8: false): invalid UTF-8 passes
// through to the payload as it was sent, and the socket stays up.
func TestHostileInvalidUTF8(t *testing.T) {
	e := newHostile(t, nil)
	sc := e.conn(t, 1)
	ch := e.channel(t, "utf8")
	raw := collect(t, source.Broadcasts[json.RawMessage](ch, "u"))
	decoded := collect(t, source.Broadcasts[map[string]any](ch, "u"))
	e.subscribe(t, ch)

	payload := "{\"s\":\"a\xff\xfeb\"}"
	require.NoError(t, sc.Send(broadcastMsg("realtime:utf8", "u", payload)))
	got := raw.next(t, hostileWait, func(source.Broadcast[json.RawMessage]) bool { return true })
	assert.Equal(t, payload, string(got.Payload), "the payload passes through byte for byte")
	dm := decoded.next(t, hostileWait, func(source.Broadcast[map[string]any]) bool { return true })
	assert.Equal(t, "a\ufffd\ufffdb", dm.Payload["s"], "encoding/json replaces invalid bytes")

	// A topic that is not UTF-8 reaches no channel and breaks nothing.
	require.NoError(t, sc.Text([]byte("[null,null,\"realtime:\xff\",\"broadcast\",{\"type\":\"broadcast\",\"event\":\"u\",\"payload\":{}}]")))
	e.alive(t, sc)
	e.sameConn(t)
}

// A server that accepts the TCP connection and never completes the
// upgrade: Connect returns when its ctx ends, with a *source.ConnectError
// that says why (the handshake's own error, not only ctx's).
func TestHostileHandshakeNeverCompletes(t *testing.T) {
	cases := []struct {
		name   string
		answer hostile.Answer
		opts   []source.Option
	}{
		{"silent", hostile.Answer{Stall: true}, nil},
		{"partial_response", hostile.Answer{Stall: true, Partial: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"}, nil},
		{"silent_with_dial_timeout", hostile.Answer{Stall: true}, []source.Option{source.WithDialTimeout(300 * time.Millisecond)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newHostileServer(t, hostile.WithHandshake(func(hostile.Request) hostile.Answer { return tc.answer }))
			errs, logs := newErrSink(), newLogSink()
			const wait = 1500 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			start := time.Now()
			c, err := source.Connect(ctx, srv.URL(), hostileClientOpts(errs, logs, tc.opts...)...)
			elapsed := time.Since(start)
			assert.Nil(t, c)
			assert.Less(t, elapsed, wait+2*time.Second, "Connect returned long after its ctx ended")
			assert.GreaterOrEqual(t, srv.Accepted(), 1, "the client reached the server")
			var ce *source.ConnectError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.GreaterOrEqual(t, ce.Attempts, 1)
			if assert.NotNil(t, ce.Last, "the error says only that ctx ended, not that the server never completed the upgrade: %v", err) {
				var de *transport.DialError
				assert.ErrorAs(t, ce.Last, &de)
			}
			errs.assertNoSecrets(t)
			logs.assertNoSecrets(t)
		})
	}
}
