package benchmarks

import (
	"context"
	"time"

	"testing"

	"github.com/rxrealtime/rxrealtime/bench/internal/framesrv"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

// BenchmarkBroadcastSend is workload 5: broadcasts sent on one joined
// channel; one op is one broadcast, counted by the source. The source row
// writes one pre-encoded frame over and over: what the source can take in.
// The source runs in-process, so B/op and allocs/op include its reading.
func BenchmarkBroadcastSend(b *testing.B) {
	src := startSource(b)
	b.Run("source", func(b *testing.B) { send(b, src, workload.SourceSender()) })
	b.Run("floor", func(b *testing.B) { send(b, src, workload.FloorSender()) })
	b.Run("rxrealtime", func(b *testing.B) { send(b, src, sender(b, workload.RxRealtime())) })
}

// BenchmarkBroadcastSendAcked is workload 5 with acknowledged broadcasts
// (the channel joins with broadcast ack; each Send waits for the source's
// reply), from one goroutine (a round trip each) and from 64 (the client
// batches what they queue meanwhile). There is no floor row: the floor
// sends without acknowledgement.
func BenchmarkBroadcastSendAcked(b *testing.B) {
	src := startSource(b)
	b.Run("rxrealtime", func(b *testing.B) { send(b, src, workload.RxRealtimeAcked(1)) })
	b.Run("rxrealtime-64", func(b *testing.B) { send(b, src, workload.RxRealtimeAcked(64)) })
}

func send(b *testing.B, src *framesrv.Server, s workload.Sender) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := src.Stats().Broadcasts
	b.ReportAllocs()
	b.ResetTimer()
	if err := s.Send(ctx, src.Endpoint(), vsns[1], b.N); err != nil {
		b.Fatal(err)
	}
	if err := src.WaitBroadcasts(ctx, base+int64(b.N)); err != nil {
		b.Fatalf("source counted %d of %d broadcasts: %v", src.Stats().Broadcasts-base, b.N, err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}
