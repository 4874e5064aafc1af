package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	rx "github.com/rxrealtime/rxrealtime/source"
)

// StallSpec is the stalled-consumer workload: one client joins two
// channels, over which the source paces Rate change frames a second (half
// each); channel 0's changes are observed with the client's defaults by a
// consumer that never reads (Stall) or that reads them all; channel 1 is
// joined with broadcast acknowledgements and sends RoundTrips acknowledged
// broadcasts, one after the other, from the moment both channels are
// joined. It measures how long each round trip takes while channel 0's
// consumer stops.
type StallSpec struct {
	Endpoint   string
	Vsn        frames.Vsn
	Rate       int
	RoundTrips int
	Stall      bool
	Client     []rx.Option // added to the client's options
}

// StallResult is what [Stall] measured.
type StallResult struct {
	RTT     []time.Duration // each round trip, in order
	Slow    uint64          // slow-consumer reports (Stats.SlowConsumers)
	Dropped uint64          // changes dropped for the stalled consumer
	// Waited is how long the socket's reader waited for the stalled
	// consumer before it gave up, from its *rx.SlowConsumerError; 0 if none
	// was reported.
	Waited time.Duration
}

// Stall runs the stalled-consumer workload.
func Stall(ctx context.Context, s StallSpec) (StallResult, error) {
	var (
		mu     sync.Mutex
		waited time.Duration
	)
	onError := rx.WithErrorHandler(func(err error) {
		var sce *rx.SlowConsumerError
		if errors.As(err, &sce) {
			mu.Lock()
			waited = max(waited, sce.Waited)
			mu.Unlock()
		}
	})
	// Enough frames for a minute: the client closes the connection long before.
	params := map[string]string{"n": strconv.Itoa(s.Rate * 60), "channels": "2", "rate": strconv.Itoa(s.Rate)}
	c, err := connectClient(ctx, s.Endpoint, s.Vsn, params, append([]rx.Option{onError}, s.Client...)...)
	if err != nil {
		return StallResult{}, err
	}
	defer c.Close(context.Background())
	topics := frames.Topics(2)
	stuck, err := c.Channel(topics[0], rx.WithPostgresChanges(binding))
	if err != nil {
		return StallResult{}, err
	}
	acked, err := c.Channel(topics[1], rx.WithPostgresChanges(binding), rx.WithBroadcastAck())
	if err != nil {
		return StallResult{}, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	changes := rx.Changes[frames.Row](stuck).Observe(runCtx) // the client's defaults
	var wg sync.WaitGroup
	if !s.Stall {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range changes {
			}
		}()
	}
	defer wg.Wait()
	defer cancel()
	if err := subscribeAll(ctx, []*rx.Channel{stuck, acked}); err != nil {
		return StallResult{}, fmt.Errorf("workload: stall: subscribe: %w", err)
	}
	payload := json.RawMessage(`{"body":"hello","n":1}`)
	res := StallResult{RTT: make([]time.Duration, 0, s.RoundTrips)}
	for i := range s.RoundTrips {
		start := time.Now()
		if err := acked.Send(ctx, "msg", payload); err != nil {
			return res, fmt.Errorf("workload: stall: round trip %d: %w", i, err)
		}
		res.RTT = append(res.RTT, time.Since(start))
	}
	st := c.Stats()
	res.Slow, res.Dropped = st.SlowConsumers, st.Dropped
	mu.Lock()
	res.Waited = waited
	mu.Unlock()
	return res, nil
}
