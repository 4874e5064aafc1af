package benchmarks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/framesrv"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

var vsns = []frames.Vsn{frames.V1, frames.V2}

// fastest is the floor decoder the ratios use: the fastest std-compatible
// decoder in the core module (see BenchmarkDecode).
var fastest = workload.GoccyJSON

// startSource starts a frame source for the benchmark.
func startSource(b *testing.B) *framesrv.Server {
	b.Helper()
	s, err := framesrv.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func timeout(b *testing.B) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	b.Cleanup(cancel)
	return ctx
}

// receive runs r for b.N frames of spec (one op = one change frame),
// checks the result and reports msg/s measured from the first change to
// the last. A runner that is not ready skips the benchmark.
func receive(b *testing.B, src *framesrv.Server, r workload.Runner, spec workload.Spec) workload.Result {
	b.Helper()
	spec.Endpoint = src.Endpoint()
	spec.Frames = b.N
	burst, err := src.Burst(spec.Vsn, max(spec.Channels, 1))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := r.Run(timeout(b), spec)
	b.StopTimer()
	if errors.Is(err, workload.ErrNotReady) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatalf("%s: %v", r.Name(), err)
	}
	if err := workload.Check(spec, burst, res); err != nil {
		b.Fatalf("%s: %v", r.Name(), err)
	}
	b.ReportMetric(res.Rate(), "msg/s")
	return res
}

// receiveBursts runs r once per op, each time for a whole burst of frames
// (after joining spec.Channels channels), and reports msg/s over all the
// bursts, measured from each burst's first change to its last. It suits
// workloads whose setup (10,000 joins) would otherwise swamp b.N frames.
func receiveBursts(b *testing.B, src *framesrv.Server, r workload.Runner, spec workload.Spec, frames int) {
	b.Helper()
	spec.Endpoint = src.Endpoint()
	spec.Frames = frames
	burst, err := src.Burst(spec.Vsn, max(spec.Channels, 1))
	if err != nil {
		b.Fatal(err)
	}
	var msgs int
	var elapsed time.Duration
	b.ReportAllocs()
	for b.Loop() {
		res, err := r.Run(timeout(b), spec)
		if errors.Is(err, workload.ErrNotReady) {
			b.Skip(err)
		}
		if err != nil {
			b.Fatalf("%s: %v", r.Name(), err)
		}
		if err := workload.Check(spec, burst, res); err != nil {
			b.Fatalf("%s: %v", r.Name(), err)
		}
		msgs += res.Msgs
		elapsed += res.Elapsed
	}
	if elapsed > 0 {
		b.ReportMetric(float64(msgs)/elapsed.Seconds(), "msg/s")
	}
}

// sender and joiner return the rxrealtime runner's implementation of the
// optional workload interfaces, or skip.
func sender(b *testing.B, r workload.Runner) workload.Sender {
	s, ok := r.(workload.Sender)
	if !ok {
		b.Skipf("%s: %v: no Sender (workload 5) yet", r.Name(), workload.ErrNotReady)
	}
	return s
}

func joiner(b *testing.B, r workload.Runner) workload.Joiner {
	j, ok := r.(workload.Joiner)
	if !ok {
		b.Skipf("%s: %v: no Joiner (workloads 6, 7) yet", r.Name(), workload.ErrNotReady)
	}
	return j
}
