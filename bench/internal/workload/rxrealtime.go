package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/operators"
	rx "github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// RxRealtime returns the runner for the rxrealtime client itself: a
// rx.Client, one rx.Channel per topic with a postgres_changes
// binding, and Spec.Pipelines Observe() consumers of
// rx.Changes[frames.Row] per channel, each ranging over its Go channel.
// It is also a [Sender] and a [Joiner].
func RxRealtime() Runner { return rxRealtime{} }

// RxRealtimeAll is RxRealtime with Spec.Pipelines consumers of
// source.AllChanges (every channel's changes in one stream) instead of
// consumers per channel: how a service watching many channels consumes
// them. With one channel it is the same work as RxRealtime.
func RxRealtimeAll() Runner { return rxRealtime{all: true} }

// RxRealtimeWith returns the RxRealtime runner under name, with the client
// built with client options and its changes observed with observe options
// instead of stream.Block: none is the README's plain loop, on the
// client's defaults. Such a runner may lose changes: once the end of the
// burst has arrived and every change is either delivered or counted in the
// client's Stats.Dropped, it returns what was delivered, with Result.Dropped
// set, instead of waiting for every change.
func RxRealtimeWith(name string, client []rx.Option, observe ...stream.ObserveOption) Runner {
	return rxRealtime{name: name, client: client, observe: observe, partial: true}
}

// RxRealtimeOptions is RxRealtime whose client is made with client options too, under name, consuming
// as RxRealtime does (lossless): to measure what an option costs.
func RxRealtimeOptions(name string, client ...rx.Option) Runner {
	return rxRealtime{name: name, client: client}
}

type rxRealtime struct {
	all     bool
	name    string
	client  []rx.Option
	observe []stream.ObserveOption
	partial bool // RxRealtimeWith
}

func (r rxRealtime) Name() string {
	switch {
	case r.name != "":
		return r.name
	case r.all:
		return "rxrealtime-all"
	}
	return "rxrealtime"
}

// observeOptions are the options the runner's change consumers use.
func (r rxRealtime) observeOptions() []stream.ObserveOption {
	if r.partial {
		return r.observe
	}
	return lossless
}

// lossless is how the receive workloads consume unless told otherwise:
// stream.Block, the explicit choice of a consumer that must see every
// change whatever happens, which the figures in bench/README.md were
// measured with. With the client's defaults a consumer that keeps up loses
// nothing either, at the same speed (BenchmarkBurstDelivery): the socket's
// reader waits a little for it when its mailbox is full. Before it did,
// the default lost about 6 % of a 200,000-frame burst (workload 1, vsn 2).
var lossless = []stream.ObserveOption{stream.Block()}

var binding = postgres.Binding{Event: postgres.Insert, Schema: frames.Schema, Table: frames.Table}

func serializer(v frames.Vsn) phoenix.Serializer {
	if v == frames.V1 {
		return phoenix.V1Lazy // what source.WithSerializer recommends for vsn 1.0.0
	}
	return phoenix.NewV2(phoenix.WithLazyPayloads()) // the client's default
}

func connectClient(ctx context.Context, endpoint string, v frames.Vsn, params map[string]string, extra ...rx.Option) (*rx.Client, error) {
	opts := append([]rx.Option{rx.WithAPIKey("bench"), rx.WithSerializer(serializer(v))}, extra...)
	for k, val := range params {
		opts = append(opts, rx.WithParam(k, val))
	}
	return rx.Connect(ctx, endpoint, opts...)
}

// subscribeAll joins every channel concurrently and waits for all.
func subscribeAll(ctx context.Context, chans []*rx.Channel) error {
	errs := make(chan error, len(chans))
	for _, ch := range chans {
		go func() { errs <- ch.Subscribe(ctx) }()
	}
	var first error
	for range chans {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (r rxRealtime) Run(ctx context.Context, s Spec) (Result, error) {
	s = s.Norm()
	params := map[string]string{}
	for k, v := range s.Params() {
		params[k] = v[0]
	}
	c, err := connectClient(ctx, s.Endpoint, s.Vsn, params, r.client...)
	if err != nil {
		return Result{}, err
	}
	defer c.Close(context.Background())

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		msgs, idSum atomic.Int64
		firstAt     atomic.Int64 // unix nanos of the first delivered change
		lastAt      atomic.Int64
		want        = int64(s.Frames * s.Pipelines)
		allIn       = make(chan struct{})
		allOnce     sync.Once
		wg          sync.WaitGroup
	)
	var recs []*Recorder // one per consumer goroutine
	consume := func(changes <-chan postgres.Change[frames.Row]) {
		wg.Add(1)
		rec := NewRecorder(s)
		recs = append(recs, rec)
		go func() {
			defer wg.Done()
			for chg := range changes {
				t := time.Now()
				now := t.UnixNano()
				rec.Add(chg.New.CreatedAt, t)
				firstAt.CompareAndSwap(0, now)
				idSum.Add(chg.New.ID)
				lastAt.Store(now)
				if msgs.Add(1) == want {
					allOnce.Do(func() { close(allIn) })
				}
			}
		}()
	}
	chans := make([]*rx.Channel, 0, s.Channels)
	for _, t := range frames.Topics(s.Channels) {
		ch, err := c.Channel(t, rx.WithPostgresChanges(binding))
		if err != nil {
			return Result{}, err
		}
		chans = append(chans, ch)
		if !r.all {
			for range s.Pipelines {
				consume(rx.Changes[frames.Row](ch).Observe(runCtx, r.observeOptions()...))
			}
		}
	}
	if r.all {
		for range s.Pipelines {
			consume(rx.AllChanges[frames.Row](c).Observe(runCtx, r.observeOptions()...))
		}
	}
	// The end-of-burst broadcast is consumed losslessly too: a Broadcasts
	// stream filters its channel's messages on its own goroutine, so its
	// mailbox holds every change of the burst as well, and with the default
	// policy the broadcast itself was dropped in about 1 run in 10.
	done := rx.Broadcasts[json.RawMessage](chans[0], frames.DoneEvent).Observe(runCtx, lossless...)
	if err := subscribeAll(ctx, chans); err != nil {
		return Result{}, fmt.Errorf("workload: rxrealtime: subscribe: %w", err)
	}
	stuck := func(stage string) error {
		st := c.Stats()
		return fmt.Errorf("workload: rxrealtime: %s: %w (%d of %d changes delivered; client: %d frames in, %d dropped, %d slow-consumer episodes, %d reconnects, state %v)",
			stage, ctx.Err(), msgs.Load(), want, st.FramesIn, st.Dropped, st.SlowConsumers, st.Reconnects, st.State)
	}
	finish := func() Result {
		cancel()
		wg.Wait()
		r := Result{Msgs: int(msgs.Load()), IDSum: idSum.Load(), Decoded: true, Dropped: int(c.Stats().Dropped)}
		if f := firstAt.Load(); f != 0 {
			r.Elapsed = time.Duration(lastAt.Load() - f)
		}
		if s.Rate > 0 {
			var all []time.Duration
			for _, rec := range recs {
				all = append(all, rec.samples...)
			}
			r.Latency = Summarize(all)
		}
		return r
	}
	select {
	case <-done:
	case <-ctx.Done():
		err := stuck("waiting for the end of the burst")
		return finish(), err
	}
	if r.partial {
		// Every change is delivered or dropped (the end-of-burst broadcast is consumed with Block).
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for msgs.Load()+int64(c.Stats().Dropped) < want {
			select {
			case <-tick.C:
			case <-ctx.Done():
				err := stuck("waiting for every change to be delivered or dropped")
				return finish(), err
			}
		}
		return finish(), nil
	}
	select {
	case <-allIn:
	case <-ctx.Done():
		err := stuck("waiting for every change")
		return finish(), err
	}
	return finish(), nil
}

// Send is workload 5: n unacknowledged broadcasts on one channel.
func (rxRealtime) Send(ctx context.Context, endpoint string, v frames.Vsn, n int) error {
	c, err := connectClient(ctx, endpoint, v, nil)
	if err != nil {
		return err
	}
	ch, err := c.Channel(frames.Topic(0, 1))
	if err != nil {
		return errors.Join(err, c.Close(ctx))
	}
	if err := ch.Subscribe(ctx); err != nil {
		return errors.Join(err, c.Close(ctx))
	}
	payload := json.RawMessage(`{"body":"hello","n":1}`)
	for i := range n {
		if err := ch.Send(ctx, "msg", payload); err != nil {
			return errors.Join(fmt.Errorf("workload: send %d: %w", i, err), c.Close(ctx))
		}
	}
	return c.Close(ctx)
}

// Join is workloads 6 and 7: channels joined channels kept joined by the
// client's own reconnect and rejoin logic.
//
// The reconnect waits no backoff here, like the floor's: workload 6
// measures the rejoin itself. With the default backoff (full jitter, first
// delay under 1 s) a real client adds that wait.
func (rxRealtime) Join(ctx context.Context, endpoint string, v frames.Vsn, channels int) (Session, error) {
	c, err := connectClient(ctx, endpoint, v, nil, rx.WithReconnectBackoff(operators.StepBackoff{0}))
	if err != nil {
		return nil, err
	}
	chans := make([]*rx.Channel, 0, channels)
	for _, t := range frames.Topics(channels) {
		ch, err := c.Channel(t, rx.WithPostgresChanges(binding))
		if err != nil {
			return nil, errors.Join(err, c.Close(ctx))
		}
		chans = append(chans, ch)
	}
	if err := subscribeAll(ctx, chans); err != nil {
		return nil, errors.Join(err, c.Close(ctx))
	}
	return rxSession{c}, nil
}

type rxSession struct{ c *rx.Client }

func (s rxSession) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.c.Close(ctx)
}

// RxRealtimeAcked returns workload 5 with acknowledged broadcasts: the
// channel joins with rx.WithBroadcastAck and each Send waits for the
// source's reply. senders goroutines send concurrently (n split between
// them): with one, every broadcast costs a round trip; with more, the
// client's writer batches the broadcasts queued meanwhile.
func RxRealtimeAcked(senders int) Sender { return rxAcked{senders: max(senders, 1)} }

type rxAcked struct{ senders int }

func (r rxAcked) Send(ctx context.Context, endpoint string, v frames.Vsn, n int) error {
	c, err := connectClient(ctx, endpoint, v, nil)
	if err != nil {
		return err
	}
	ch, err := c.Channel(frames.Topic(0, 1), rx.WithBroadcastAck())
	if err != nil {
		return errors.Join(err, c.Close(ctx))
	}
	if err := ch.Subscribe(ctx); err != nil {
		return errors.Join(err, c.Close(ctx))
	}
	payload := json.RawMessage(`{"body":"hello","n":1}`)
	var next atomic.Int64
	errs := make(chan error, r.senders)
	for range r.senders {
		go func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					errs <- nil
					return
				}
				if err := ch.Send(ctx, "msg", payload); err != nil {
					errs <- fmt.Errorf("workload: acked send %d: %w", i, err)
					return
				}
			}
		}()
	}
	var first error
	for range r.senders {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return errors.Join(first, c.Close(ctx))
}
