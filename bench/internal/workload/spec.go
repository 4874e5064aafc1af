package workload

import (
	"context"
	"errors"
	"fmt"
	"net/url"
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
