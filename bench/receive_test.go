package benchmarks

import (
	"fmt"
	"testing"

	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
	rx "github.com/rxrealtime/rxrealtime/source"
)

// BenchmarkSource measures what the frame source can emit: a client that
// reads every frame and throws it away.
func BenchmarkSource(b *testing.B) {
	src := startSource(b)
	for _, v := range vsns {
		b.Run(v.Short(), func(b *testing.B) {
			receive(b, src, workload.Source(), workload.Spec{Vsn: v})
		})
	}
}

// BenchmarkFloor is workload 2: gobwas/ws reads plus one JSON decode of each
// frame into the Row type, with each decoder. Nothing routes or delivers.
func BenchmarkFloor(b *testing.B) {
	src := startSource(b)
	for _, v := range vsns {
		for _, d := range workload.Decoders {
			b.Run(v.Short()+"/"+d.Name, func(b *testing.B) {
				receive(b, src, workload.Floor(d), workload.Spec{Vsn: v})
			})
		}
	}
}

// BenchmarkSourceHeadroom runs the source probe and then the fastest floor
// on b.N frames each and reports how many times faster the source emits
// ("x-floor"); it must stay at 3 or more. One op is one frame of each.
func BenchmarkSourceHeadroom(b *testing.B) {
	src := startSource(b)
	for _, v := range vsns {
		b.Run(v.Short(), func(b *testing.B) {
			spec := workload.Spec{Endpoint: src.Endpoint(), Vsn: v, Frames: b.N}
			burst, err := src.Burst(v, 1)
			if err != nil {
				b.Fatal(err)
			}
			var rates [2]float64
			for i, r := range []workload.Runner{workload.Source(), workload.Floor(fastest)} {
				res, err := r.Run(timeout(b), spec)
				if err != nil {
					b.Fatalf("%s: %v", r.Name(), err)
				}
				if err := workload.Check(spec, burst, res); err != nil {
					b.Fatalf("%s: %v", r.Name(), err)
				}
				rates[i] = res.Rate()
			}
			b.ReportMetric(rates[0], "source-msg/s")
			b.ReportMetric(rates[1], "floor-msg/s")
			b.ReportMetric(rates[0]/rates[1], "x-floor")
		})
	}
}

// BenchmarkThroughput is workload 1: rxrealtime delivering every frame as a
// typed PostgresChange[Row] to one Observe() consumer; the -traffic rows
// with the count of messages by topic and event on (source.WithTrafficByTopic).
func BenchmarkThroughput(b *testing.B) {
	src := startSource(b)
	for _, v := range vsns {
		b.Run(v.Short(), func(b *testing.B) {
			receive(b, src, workload.RxRealtime(), workload.Spec{Vsn: v})
		})
	}
	traffic := workload.RxRealtimeOptions("rxrealtime-traffic", rx.WithTrafficByTopic(100, 32))
	for _, v := range vsns {
		b.Run(v.Short()+"-traffic", func(b *testing.B) {
			receive(b, src, traffic, workload.Spec{Vsn: v})
		})
	}
}

// routingBurst is how many frames one op of BenchmarkRouting receives.
const routingBurst = 20_000

// BenchmarkRouting is workload 3: bursts of 20,000 frames spread evenly over
// 1, 100 and 10,000 joined channels, received by rxrealtime with one
// consumer per channel (rxrealtime) and with one consumer of every
// channel's changes (rxrealtime-all, source.AllChanges). One op is one connection: join every
// channel, receive the burst; msg/s covers the bursts only. The floor does
// not route; its row shows the cost of the frames alone.
func BenchmarkRouting(b *testing.B) {
	src := startSource(b)
	for _, n := range []int{1, 100, 10_000} {
		for _, r := range []workload.Runner{workload.Floor(fastest), workload.RxRealtime(), workload.RxRealtimeAll()} {
			b.Run(fmt.Sprintf("channels=%d/%s", n, r.Name()), func(b *testing.B) {
				receiveBursts(b, src, r, workload.Spec{Vsn: vsns[1], Channels: n}, routingBurst)
			})
		}
	}
}

// BenchmarkFanout is workload 4: 1, 10 and 100 pipelines observing one
// channel; one op is one frame, delivered to every pipeline.
func BenchmarkFanout(b *testing.B) {
	src := startSource(b)
	for _, p := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("pipelines=%d", p), func(b *testing.B) {
			receive(b, src, workload.RxRealtime(), workload.Spec{Vsn: vsns[1], Pipelines: p})
		})
	}
}
