package source_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// A push that waits for no reply returns once queued, and the caller may then reuse its payload buffer. If
// the write fails, the push is sent again on reconnect: with the bytes it was given, not with whatever the
// caller's buffer holds by then. (The queue had encoded a copy; the message sent again was re-encoded from
// the caller's slice.)
func TestResentPushCarriesThePayloadItWasGiven(t *testing.T) {
	for _, how := range []string{"Send []byte", "Send json.RawMessage", "Push NoReply"} {
		t.Run(how, func(t *testing.T) {
			s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000))
			d := &gateDialer{}
			c := chConnect(t, s, source.WithDialer(d.dial))
			ch := chNew(t, c, "room")
			chSubscribe(t, ch)
			g := d.last()
			release := g.stallWrites()
			ctx := chCtx(t)
			event := phoenix.EventBroadcast
			if how == "Push NoReply" {
				event = "custom"
			}
			buf := []byte("0")
			const n = 5
			for i := range n {
				buf[0] = byte('0' + i) // the caller reuses its buffer once the call returned
				var err error
				switch how {
				case "Send []byte":
					err = ch.Send(ctx, "n", buf)
				case "Send json.RawMessage":
					err = ch.Send(ctx, "n", json.RawMessage(buf))
				default:
					_, err = ch.Push(ctx, event, buf, source.NoReply())
				}
				require.NoError(t, err)
			}
			buf[0] = '9'
			g.failWrites(errors.New("injected write failure"))
			release()
			chEventually(t, func() bool { return d.count() > 1 }, "reconnected")
			var got []int
			chEventually(t, func() bool {
				got = got[:0]
				for _, f := range inFrames(s, "realtime:room", event) {
					payload := f.Msg.Payload
					if event == phoenix.EventBroadcast && f.Msg.Kind != phoenix.KindUserBroadcastPush {
						_, p, _, err := phoenix.ParseBroadcast(payload)
						require.NoError(t, err)
						payload = p
					}
					require.Len(t, payload, 1, "%q", payload)
					got = append(got, int(payload[0]-'0'))
				}
				return len(got) >= n
			}, "%d pushes", n)
			time.Sleep(50 * time.Millisecond)
			assert.Equal(t, upTo(n), dedupAscending(got), "server got %v", got)
		})
	}
}

// dedupAscending drops the values not above the last one kept: what a resent batch repeats.
func dedupAscending(got []int) []int {
	var d []int
	for _, v := range got {
		if len(d) == 0 || v > d[len(d)-1] {
			d = append(d, v)
		}
	}
	return d
}
