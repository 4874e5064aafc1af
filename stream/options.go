package stream

import (
	"context"
	"sync/atomic"
)

// DefaultBuffer is the mailbox size of a Hub consumer that did not choose one with WithBuffer.
const DefaultBuffer = 64

type policy uint8

const (
	policyBlock policy = iota
	policyDropNewest
	policyDropOldest
)

// ObserveOption configures one consumer: its backpressure policy, its mailbox size and its callbacks. The
// options given to Observe or Subscribe reach every Hub that the consumer's stream runs, through any chain of
// operators, via the context.
type ObserveOption func(*observeConfig)

type observeConfig struct {
	buffer    int
	policy    policy
	bufferSet bool
	policySet bool
	onError   func(error)
	onDrop    func(n uint64)
	counters  *counters // shared by every mailbox of one Subscribe; nil for Observe
	// pending, set by Observe, tells how many values wait in its channel: values that the consumer has
	// handed on but its user has not taken yet (see SlowConsumer).
	pending func() int
}

type counters struct {
	dropped   atomic.Uint64
	delivered atomic.Uint64
}

// WithBuffer sets the mailbox size of the consumer at each Hub (default: the hub's [WithDefaults], else
// DefaultBuffer). Values below 1 are
// raised to 1. A consumer holds at most n queued values per Hub plus the one it is processing (its
// callback's, or the one being handed to Observe's channel, which buffers min(n, 32) more). At a
// [NeverWait] hub the values that the consumer's goroutine has taken from its mailbox count among the n
// until it begins to hand them on.
func WithBuffer(n int) ObserveOption {
	if n < 1 {
		n = 1
	}
	return func(c *observeConfig) { c.buffer, c.bufferSet = n, true }
}

// Block makes a full mailbox block the producer (Hub.Emit) until the consumer makes room. It is the default
// of a Hub built without [WithDefaults]; a hub with defaults of its own may default to another policy (the
// streams of package source default to DropNewest, after a bounded wait for room). At a [NeverWait] hub,
// Emit waits no longer than [WaitForRoom] allows: the mailbox grows past its size instead, and nothing is
// lost. A consumer that leaves never blocks Emit again.
func Block() ObserveOption {
	return func(c *observeConfig) { c.policy, c.policySet = policyBlock, true }
}

// DropNewest makes a full mailbox drop the value being emitted, for this consumer only; drops are counted.
func DropNewest() ObserveOption {
	return func(c *observeConfig) { c.policy, c.policySet = policyDropNewest, true }
}

// DropOldest makes a full mailbox drop its oldest queued value to make room for the new one, for this
// consumer only; drops are counted.
func DropOldest() ObserveOption {
	return func(c *observeConfig) { c.policy, c.policySet = policyDropOldest, true }
}

// OnError sets a callback that receives the terminal error of the stream run by Observe (or Subscribe), in
// the consumer's goroutine, after the last value. It is not called when the stream completes or when the
// consumer's own context ends. Without it, Observe passes the terminal error to the unhandled-error handler
// (see [SetUnhandledErrorHandler]); Subscribe keeps it in [Subscription.Err] in any case.
func OnError(fn func(error)) ObserveOption {
	return func(c *observeConfig) { c.onError = fn }
}

// OnDrop sets a callback told how many values this consumer lost to its drop policy. It is called from the
// consumer's goroutine, in order: before delivering the first value that follows a gap (n = size of the gap
// at that Hub) and when the consumer ends with unreported drops.
func OnDrop(fn func(n uint64)) ObserveOption {
	return func(c *observeConfig) { c.onDrop = fn }
}

func newConfig(opts []ObserveOption) *observeConfig {
	c := &observeConfig{buffer: DefaultBuffer}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return c
}

type configKey struct{}

func withConfig(ctx context.Context, c *observeConfig) context.Context {
	return context.WithValue(ctx, configKey{}, c)
}

func configFrom(ctx context.Context) *observeConfig {
	c, _ := ctx.Value(configKey{}).(*observeConfig)
	return c
}

// merge returns the settings of consumer c, with the hub defaults d for what c did not set.
func merge(c, d *observeConfig) (buffer int, p policy, onDrop func(uint64), ctr *counters) {
	buffer, p = DefaultBuffer, policyBlock
	if d != nil {
		buffer, p, onDrop = d.buffer, d.policy, d.onDrop
	}
	if c != nil {
		if c.bufferSet {
			buffer = c.buffer
		}
		if c.policySet {
			p = c.policy
		}
		if c.onDrop != nil {
			onDrop = c.onDrop
		}
		ctr = c.counters
	}
	return buffer, p, onDrop, ctr
}
