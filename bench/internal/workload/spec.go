package workload

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

// ErrNotReady is returned by a runner whose client cannot run yet.
var ErrNotReady = errors.New("workload: runner not ready")

// ErrMismatch is wrapped by [Check] when a result does not match its spec.
var ErrMismatch = errors.New("workload: result does not match the burst")

// Spec is one run of the receive workloads: workload 1 (one channel),
// workload 3 (routing over Channels channels) and workload 4 (fan-out to
// Pipelines consumers per channel).
type Spec struct {
	// Endpoint is the frame source's socket endpoint
	// ("ws://127.0.0.1:<port>/socket"); clients append "/websocket".
	Endpoint string
	// Vsn is the serializer.
	Vsn frames.Vsn
	// Frames is how many change frames the source sends.
	Frames int
	// Channels is how many channels to join ([frames.Topics]); 0 means 1.
	// The burst starts when all are joined and is spread evenly over them.
	Channels int
	// Pipelines is how many consumers observe each channel; 0 means 1.
	// Each consumer receives every change of its channel.
	Pipelines int
	// Rate, if above 0, makes the source pace the frames at Rate per
	// second, each stamped with the time it is written (the row's
	// created_at): the latency workload. Runners then measure, per change,
	// the time from that write to the change reaching the user's loop, and
	// report it in Result.Latency.
	Rate int
}

// Norm returns s with Channels and Pipelines at least 1.
func (s Spec) Norm() Spec {
	s.Channels = max(s.Channels, 1)
	s.Pipelines = max(s.Pipelines, 1)
	return s
}

// Params returns the query parameters the source reads, except vsn (Phoenix
// clients add vsn themselves).
func (s Spec) Params() url.Values {
	s = s.Norm()
	q := url.Values{}
	q.Set("n", strconv.Itoa(s.Frames))
	q.Set("channels", strconv.Itoa(s.Channels))
	if s.Rate > 0 {
		q.Set("rate", strconv.Itoa(s.Rate))
	}
	return q
}

// URL returns the full WebSocket URL, for clients that dial it directly.
func (s Spec) URL() string {
	q := s.Params()
	q.Set("vsn", s.Vsn.String())
	return s.Endpoint + "/websocket?" + q.Encode()
}

// Result is what a runner reports for one [Spec].
type Result struct {
	// Msgs counts change messages delivered, over all pipelines.
	Msgs int
	// IDSum is the sum of the delivered rows' ids (meaningful if Decoded).
	IDSum int64
	// Decoded reports whether the runner decoded rows (false for the
	// source-capacity probe, which only reads frames).
	Decoded bool
	// Elapsed runs from the first change delivered to the last one, so
	// connecting and joining (10,000 joins for workload 3) stay out of the
	// rate.
	Elapsed time.Duration
	// Latency summarizes, for a paced run (Spec.Rate > 0), the time from
	// the source's write of each change to its delivery; nil otherwise.
	Latency *Latency
	// Dropped counts the changes the client dropped for its consumers (a
	// runner that may lose some, such as RxRealtimeWith's); 0 otherwise.
	Dropped int
}

// Latency is a summary of per-change latencies.
type Latency struct {
	P50, P99, P999, Max time.Duration
}

// Summarize returns the percentiles of samples (which it sorts), or nil if
// there are none.
func Summarize(samples []time.Duration) *Latency {
	if len(samples) == 0 {
		return nil
	}
	slices.Sort(samples)
	at := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(samples)))) - 1
		return samples[min(max(i, 0), len(samples)-1)]
	}
	return &Latency{P50: at(0.50), P99: at(0.99), P999: at(0.999), Max: samples[len(samples)-1]}
}

// Recorder collects per-change latencies of a paced run; the zero
// Recorder (or a nil one) records nothing.
type Recorder struct {
	on      bool
	samples []time.Duration
}

// NewRecorder returns a recorder for s: active if s is paced, with room
// for every change.
func NewRecorder(s Spec) *Recorder {
	if s.Rate <= 0 {
		return &Recorder{}
	}
	return &Recorder{on: true, samples: make([]time.Duration, 0, s.Norm().Frames*s.Norm().Pipelines)}
}

// Add records one change written by the source at sent and delivered now.
// It is not safe for concurrent use.
func (r *Recorder) Add(sent, now time.Time) {
	if r != nil && r.on {
		r.samples = append(r.samples, now.Sub(sent))
	}
}

// Summary returns the latency summary, nil if nothing was recorded.
func (r *Recorder) Summary() *Latency {
	if r == nil || !r.on {
		return nil
	}
	return Summarize(r.samples)
}

// Rate returns delivered messages per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Msgs) / r.Elapsed.Seconds()
}

// Check verifies that r is the result of receiving every frame of s from b:
// Frames×Pipelines messages and, if decoded, the matching id checksum.
func Check(s Spec, b *frames.Burst, r Result) error {
	s = s.Norm()
	want := s.Frames * s.Pipelines
	if r.Msgs != want {
		return fmt.Errorf("%w: %d messages delivered, want %d", ErrMismatch, r.Msgs, want)
	}
	if r.Decoded {
		if sum := b.IDSum(s.Frames) * int64(s.Pipelines); r.IDSum != sum {
			return fmt.Errorf("%w: id checksum %d, want %d", ErrMismatch, r.IDSum, sum)
		}
	}
	return nil
}

// Runner is a client under test for the receive workloads.
type Runner interface {
	// Name identifies the runner in benchmark names and tables.
	Name() string
	// Run connects to s.Endpoint, joins s.Channels channels with a
	// postgres_changes binding (INSERT on public.messages), receives
	// s.Frames change frames decoded into frames.Row, and returns once the
	// source's end-of-burst broadcast arrived and every change has been
	// delivered. It disconnects before returning.
	Run(ctx context.Context, s Spec) (Result, error)
}

// Sender is implemented by runners that can run workload 5.
type Sender interface {
	// Send connects to endpoint, joins one channel ([frames.Topic](0, 1))
	// and sends n broadcasts (event "msg", a small JSON payload) as fast as
	// the client allows. It returns once the client has sent all of them
	// and closed the connection; the benchmark also waits for the source
	// to have counted them.
	Send(ctx context.Context, endpoint string, v frames.Vsn, n int) error
}

// Joiner is implemented by runners that can run workloads 6 and 7.
type Joiner interface {
	// Join connects to endpoint and joins channels channels
	// ([frames.Topics]) with a postgres_changes binding each. It returns a
	// session that keeps them joined: after the connection drops, the
	// session reconnects and rejoins every channel by itself, as soon as
	// it can. Join returns once every channel has been joined.
	Join(ctx context.Context, endpoint string, v frames.Vsn, channels int) (Session, error)
}

// Session is a client holding joined channels; Close disconnects it for
// good and releases everything it holds.
type Session interface {
	Close() error
}
