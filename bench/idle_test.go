package benchmarks

import (
	"runtime"
	"testing"

	"github.com/rxrealtime/rxrealtime/bench/internal/framesrv"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

// idleChannels is workload 7's channel count.
const idleChannels = 10_000

// BenchmarkIdle is workload 7: the heap and goroutines each joined channel
// costs while nothing happens, at 10,000 channels on one socket. The
// source runs in the same process, so both rows include its own per-channel
// bookkeeping: the floor row is that baseline, and the client's cost is
// the difference.
func BenchmarkIdle(b *testing.B) {
	src := startSource(b)
	b.Run("floor", func(b *testing.B) { idle(b, src, workload.FloorJoiner()) })
	b.Run("rxrealtime", func(b *testing.B) { idle(b, src, joiner(b, workload.RxRealtime())) })
}

func idle(b *testing.B, src *framesrv.Server, j workload.Joiner) {
	ctx := timeout(b)
	var heap, goroutines float64
	for b.Loop() {
		before, g0 := settle()
		sess, err := j.Join(ctx, src.Endpoint(), vsns[1], idleChannels)
		if err != nil {
			b.Fatal(err)
		}
		after, g1 := settle()
		heap += float64(after) - float64(before)
		goroutines += float64(g1 - g0)
		if err := sess.Close(); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(b.N) * idleChannels
	b.ReportMetric(heap/n, "heapB/channel")
	b.ReportMetric(goroutines/n, "goroutines/channel")
}

// settle collects garbage and returns the live heap and goroutine count.
func settle() (uint64, int) {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, runtime.NumGoroutine()
}
