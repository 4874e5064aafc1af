package source

import (
	"strconv"
	"testing"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// BenchmarkDispatch measures the routing step of every incoming message:
// reply lookup, topic lookup, the channel's state machine and the emit to
// the topic's stream, with 1, 100 and 10,000 joined channels on the
// socket. The cost per message must not depend on the channel count.
func BenchmarkDispatch(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run("channels="+strconv.Itoa(n), func(b *testing.B) {
			c, err := New("ws://127.0.0.1:1/socket")
			if err != nil {
				b.Fatal(err)
			}
			msgs := make([]phoenix.Message, n)
			for i := range n {
				ch, err := c.Channel("room-" + strconv.Itoa(i))
				if err != nil {
					b.Fatal(err)
				}
				msgs[i] = phoenix.Message{Topic: ch.Topic(), Event: phoenix.EventPostgres, Payload: []byte(`{}`)}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				c.sock.Dispatch(&msgs[i%n])
			}
		})
	}
}
