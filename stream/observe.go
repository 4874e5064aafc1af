package stream

import (
	"context"
	"errors"
)

// Observe runs the stream in a new goroutine and returns a channel of its values, for range loops. The
// channel closes when the stream ends or ctx ends; the goroutine ends with it. opts set this consumer's
// backpressure policy and mailbox at every Hub of the stream (default: the hub's [WithDefaults], else Block
// and DefaultBuffer), and OnError
// receives the terminal error. Without OnError, a terminal error goes to the unhandled-error handler (by
// default a Warn log; see [SetUnhandledErrorHandler]) before the channel closes; the end of the stream
// because ctx ended is not an error. A consumer that stops reading without cancelling ctx keeps its
// goroutine: always cancel ctx when done.
//
// Observe returns once the consumer is registered at every Hub the stream declares (see [Stream.Hubs]), or
// the stream has ended, or ctx has ended: a value emitted into those Hubs after Observe returns is received.
// A stream that declares no Hub (cold streams, New) is not waited for.
//
// The returned channel is buffered: it holds up to min(WithBuffer's size,
// 32) values that have already left the consumer's mailbox, so a drop
// policy no longer applies to them. A consumer that stops reading thus
// holds at most n values in its mailbox at each Hub (n set by WithBuffer),
// the one value being handed to the channel, and min(n, 32) in the
// channel, plus what operators of the stream hold.
func (s Stream[T]) Observe(ctx context.Context, opts ...ObserveOption) <-chan T {
	cfg := newConfig(opts)
	if s.pooled != nil {
		if out := s.pooled.observe(ctx, cfg); out != nil {
			return out
		}
	}
	// A buffered channel lets the pump run ahead of the reader instead of
	// handing over every value in lock step: measured in bench/compare.sh
	// (workload 1), 0.68x -> 0.81x the floor's throughput.
	out := make(chan T, min(cfg.buffer, maxObserveBuffer))
	cfg.pending = func() int { return len(out) }
	ctx, cancel := context.WithCancel(ctx)
	ctx = withConfig(ctx, cfg)
	ctx, ready := withReadiness(ctx, s.hubs)
	go func() {
		defer close(out)
		defer cancel()
		done := ctx.Done()
		err := s.Run(ctx, func(v T) bool {
			select {
			case out <- v:
				return true
			case <-done:
				return false
			}
		})
		ready.release()
		if err = terminal(ctx, err); err != nil {
			if cfg.onError != nil {
				cfg.onError(err)
			} else {
				reportUnhandled(err)
			}
		}
	}()
	ready.wait(ctx)
	return out
}

// maxObserveBuffer bounds the buffer of the channel Observe returns.
const maxObserveBuffer = 32

// terminal maps the error returned by a run to the consumer's view: a context error after the consumer's own
// context ended is a cancellation, not a failure.
func terminal(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return nil
	}
	return err
}

// Subscription is a running consumer started by Subscribe.
type Subscription struct {
	cancel   context.CancelFunc
	done     chan struct{}
	err      error
	counters counters
}

// Subscribe runs the stream in a new goroutine and calls next for each value, in order, from that goroutine.
// opts set this consumer's backpressure policy and mailbox at every Hub of the stream (default: the hub's
// [WithDefaults], else Block and DefaultBuffer); OnError, if set, is called with the terminal error before
// Done closes. The subscription ends when the stream ends, when ctx ends or when Stop is called.
//
// Like Observe, Subscribe returns once the consumer is registered at every Hub the stream declares (see
// [Stream.Hubs]), or the stream has ended, or ctx has ended; next may already have been called by then.
func (s Stream[T]) Subscribe(ctx context.Context, next func(T), opts ...ObserveOption) *Subscription {
	cfg := newConfig(opts)
	sub := &Subscription{done: make(chan struct{})}
	cfg.counters = &sub.counters
	ctx, sub.cancel = context.WithCancel(ctx)
	ctx = withConfig(ctx, cfg)
	ctx, ready := withReadiness(ctx, s.hubs)
	go func() {
		defer close(sub.done)
		defer sub.cancel()
		done := ctx.Done()
		err := s.Run(ctx, func(v T) bool {
			select {
			case <-done:
				return false
			default:
			}
			if next != nil {
				next(v)
			}
			sub.counters.delivered.Add(1)
			return true
		})
		ready.release()
		sub.err = terminal(ctx, err)
		if sub.err != nil && cfg.onError != nil {
			cfg.onError(sub.err)
		}
	}()
	ready.wait(ctx)
	return sub
}

// Stop ends the subscription. It does not wait: use Done or Wait for that. After Stop returns, next is not
// called again, except for a call already in progress. Stop is idempotent and may be called from next.
func (s *Subscription) Stop() { s.cancel() }

// Done returns a channel closed when the subscription has ended and its goroutine has returned.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns the terminal error of the stream once Done is closed: nil when the stream completed or the
// subscription was stopped or cancelled. Before Done is closed it returns nil.
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Wait blocks until the subscription has ended and returns Err.
func (s *Subscription) Wait() error {
	<-s.done
	return s.err
}

// Dropped returns how many values the subscription's drop policy has discarded so far, over all the Hubs
// its stream reads.
func (s *Subscription) Dropped() uint64 { return s.counters.dropped.Load() }

// Delivered returns how many values have been passed to next so far.
func (s *Subscription) Delivered() uint64 { return s.counters.delivered.Load() }
