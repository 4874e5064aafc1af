package source

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func bufMsgs(vs ...int) []bufferedPush {
	out := make([]bufferedPush, len(vs))
	for i, v := range vs {
		out[i] = bufferedPush{m: &phoenix.Message{Payload: []byte(strconv.Itoa(v))}}
	}
	return out
}

func bufOrder(b *pushBuffer) []string {
	var out []string
	for _, it := range b.items {
		out = append(out, string(it.m.Payload))
	}
	return out
}

// The buffer keeps the order pushes were made in whatever the socket hands back and whenever a flush puts
// back the push it held: a hand-back goes first, the held push after what was handed back since it was
// taken, then the rest. (TestUnhappySendLoopThroughDrops found pushes reordered across drops when the put
// back push went first, or after an older hand-back.)
func TestPushBufferKeepsTheOrder(t *testing.T) {
	var b pushBuffer
	b.items = bufMsgs(5, 6, 7) // buffered while the channel was down
	held, since := b.take()    // a flush takes 5...
	b.handBack(bufMsgs(3, 4))  // ...the session ends: 3 and 4 were queued, not written
	b.putBack(held, since)     // 5 could not be queued
	assert.Equal(t, []string{"3", "4", "5", "6", "7"}, bufOrder(&b))

	// The next flush takes 3; before it fails, another hand-back brings 1 and 2; then 3 goes back.
	held, since = b.take()
	b.handBack(bufMsgs(1, 2))
	b.putBack(held, since)
	assert.Equal(t, []string{"1", "2", "3", "4", "5", "6", "7"}, bufOrder(&b), "an older hand-back's pushes stay behind the held one")

	// A put-back with no hand-back since goes first.
	held, since = b.take()
	b.putBack(held, since)
	assert.Equal(t, "1", bufOrder(&b)[0])
}
