package benchmarks

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
	rx "github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/stream"
)

// frameBytes is the mean size of the burst's frames (vsn 2.0.0), to size a mailbox in bytes.
const frameBytes = 905

// deliveryPolicies are the ways a plain Observe loop can receive a burst: the client's defaults, Block,
// and the candidates measured before choosing the default (issue 20, item 1).
var deliveryPolicies = []struct {
	name     string
	lossless bool // a run that loses a change fails
	client   []rx.Option
	observe  []stream.ObserveOption
}{
	// The default: a mailbox of 1,024 messages; the reader waits for room, 100 ms at a time, 1 s in all
	// until the consumer catches up.
	{name: "default", lossless: true},
	// The explicit lossless choice: the mailbox grows while the consumer is behind.
	{name: "block", lossless: true, observe: []stream.ObserveOption{stream.Block()}},
	// The old default: a mailbox of 1,024 messages, the reader never waits.
	{name: "nowait", client: []rx.Option{rx.WithConsumerWait(0, 0)}},
	// A mailbox sized like nats.go's pending limit (64 MiB, here in frames of the burst's mean size),
	// the reader never waits.
	{name: "nowait-64MiB", client: []rx.Option{rx.WithConsumerWait(0, 0)},
		observe: []stream.ObserveOption{stream.WithBuffer(64 << 20 / frameBytes)}},
	// The default's mechanism with a tenth of its bounds.
	{name: "wait-10ms", client: []rx.Option{rx.WithConsumerWait(10*time.Millisecond, 100*time.Millisecond)}},
}

// BenchmarkBurstDelivery is a saturating burst (the source writes as fast as the socket takes it) of b.N
// frames to the README's loop — a plain Observe of Changes[Row], nothing else in it — under each delivery
// policy; run it with -benchtime=200000x. It reports msg/s (first change to last), delivered-% and
// dropped, and the peak of the heap in use during the burst. The lossless policies fail on any loss.
//
// Compare throughputs with benchstat -col /policy over interleaved runs (-count).
func BenchmarkBurstDelivery(b *testing.B) {
	src := startSource(b)
	for _, p := range deliveryPolicies {
		b.Run("policy="+p.name, func(b *testing.B) {
			r := workload.RxRealtimeWith("rxrealtime-"+p.name, p.client, p.observe...)
			spec := workload.Spec{Endpoint: src.Endpoint(), Vsn: vsns[1], Frames: b.N}
			burst, err := src.Burst(spec.Vsn, 1)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			peak := peakHeap()
			b.ReportAllocs()
			b.ResetTimer()
			res, err := r.Run(timeout(b), spec)
			b.StopTimer()
			heap := peak()
			if err != nil {
				b.Fatalf("%s: %v", r.Name(), err)
			}
			if res.Msgs+res.Dropped != b.N {
				b.Fatalf("%s: %d delivered and %d dropped of %d", r.Name(), res.Msgs, res.Dropped, b.N)
			}
			if p.lossless {
				if err := workload.Check(spec, burst, res); err != nil {
					b.Fatalf("%s: %v (%d dropped)", r.Name(), err, res.Dropped)
				}
			}
			b.ReportMetric(res.Rate(), "msg/s")
			b.ReportMetric(100*float64(res.Msgs)/float64(b.N), "delivered-%")
			b.ReportMetric(float64(res.Dropped), "dropped")
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
		})
	}
}

// peakHeap samples the heap in use every millisecond until the returned function is called, which
// returns the largest sample.
func peakHeap() func() uint64 {
	var (
		mu   sync.Mutex
		most uint64
	)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			runtime.ReadMemStats(&ms)
			mu.Lock()
			most = max(most, ms.HeapInuse)
			mu.Unlock()
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return most
	}
}

// stallRoundTrips is how many acknowledged round trips one op of BenchmarkStalledConsumerRoundTrip makes.
const stallRoundTrips = 3000

// stallRate is the frames a second the source paces over the two channels of the stall workload.
const stallRate = 40_000

// BenchmarkStalledConsumerRoundTrip is the stall workload (workload.Stall): while channel 0 receives
// 20,000 changes a second, channel 1 makes 3,000 acknowledged broadcast round trips, one after the other;
// channel 0's consumer stops reading (stalled) or reads everything (baseline). One op is one such session.
// It reports the round trips' p50, p99 and max, and how long the socket's reader waited for the stalled
// consumer (waited-ms, from its *SlowConsumerError), against the bound the client was given (bound-ms):
// a consumer that stops delays another channel's round trip once, by at most the bound. A stalled session
// whose consumer was not reported before the last round trip fails: the stall would not have been
// measured.
func BenchmarkStalledConsumerRoundTrip(b *testing.B) {
	src := startSource(b)
	for _, tc := range []struct {
		name   string
		stall  bool
		client []rx.Option
		bound  time.Duration
	}{
		{name: "baseline", bound: rx.DefaultConsumerWait},
		{name: "stalled", stall: true, bound: rx.DefaultConsumerWait},
		{name: "stalled-nowait", stall: true, client: []rx.Option{rx.WithConsumerWait(0, 0)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var rtts []time.Duration
			var waited time.Duration
			for b.Loop() {
				res, err := workload.Stall(timeout(b), workload.StallSpec{Endpoint: src.Endpoint(), Vsn: vsns[1],
					Rate: stallRate, RoundTrips: stallRoundTrips, Stall: tc.stall, Client: tc.client})
				if err != nil {
					b.Fatal(err)
				}
				if tc.stall && res.Slow == 0 {
					b.Fatalf("the stalled consumer was not reported during the %d round trips", stallRoundTrips)
				}
				rtts = append(rtts, res.RTT...)
				waited = max(waited, res.Waited)
			}
			lat := workload.Summarize(slices.Clone(rtts))
			b.ReportMetric(float64(lat.P50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat.P99.Microseconds()), "p99-µs")
			b.ReportMetric(float64(lat.Max.Microseconds())/1000, "max-ms")
			b.ReportMetric(float64(waited.Microseconds())/1000, "waited-ms")
			b.ReportMetric(float64(tc.bound.Milliseconds()), "bound-ms")
		})
	}
}
