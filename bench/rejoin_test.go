package benchmarks

import (
	"testing"

	"github.com/rxrealtime/rxrealtime/bench/internal/framesrv"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

// rejoinChannels is workload 6's channel count.
const rejoinChannels = 1000

// BenchmarkRejoin is workload 6: the source drops the connection and the
// client reconnects and rejoins all 1,000 channels; one op is one drop
// until the source has answered every rejoin.
func BenchmarkRejoin(b *testing.B) {
	src := startSource(b)
	b.Run("floor", func(b *testing.B) { rejoin(b, src, workload.FloorJoiner()) })
	b.Run("rxrealtime", func(b *testing.B) { rejoin(b, src, joiner(b, workload.RxRealtime())) })
}

func rejoin(b *testing.B, src *framesrv.Server, j workload.Joiner) {
	ctx := timeout(b)
	sess, err := j.Join(ctx, src.Endpoint(), vsns[1], rejoinChannels)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	joins := src.Stats().Joins
	b.ResetTimer()
	for b.Loop() {
		if src.DropAll() == 0 {
			b.Fatal("no connection to drop")
		}
		joins += rejoinChannels
		if err := src.WaitJoins(ctx, joins); err != nil {
			b.Fatal(err)
		}
	}
}
