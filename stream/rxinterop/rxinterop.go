// Package rxinterop bridges typed streams ([stream.Stream]) and
// github.com/reactivex/rxgo/v2, so any rxgo operator can be used on a typed
// stream without exposing interface{} in the stream API: [ToObservable]
// leaves for rxgo, [FromObservable] comes back.
//
// It is a package of its own so that the core (stream, source, operators,
// transport) does not link rxgo, nor the packages rxgo's own non-test files
// import (testify, yaml.v3, emirpasic/gods, cenkalti/backoff). Import it only
// where rxgo is wanted.
//
// rxgo costs a goroutine hand-off per operator per value, and boxes values
// in interface{}, so the native operators of package operators are the ones
// to use on hot paths (figures: bench/README.md, BenchmarkChain).
package rxinterop

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/reactivex/rxgo/v2"

	"github.com/rxrealtime/rxrealtime/stream"
)

// ToObservable returns a cold rxgo Observable of s: each Observe of it runs s anew (for a Hub stream: a new
// consumer with the given options, as [stream.Stream.Subscribe] takes them), sends every value as rxgo.Of(v)
// and the terminal error, if any, as a last rxgo.Error item, then closes its channel. The run stops when ctx
// ends or when the rxgo context of that Observe (rxgo.WithContext) ends. As with any rxgo source, an observer
// that stops reading without cancelling keeps the producer goroutine blocked: cancel ctx when done.
//
// The Observable remembers s: [FromObservable] given it directly (no rxgo operator in between) returns a
// stream that declares s's Hubs, so Observe and Subscribe on the round trip wait until the consumer is
// registered at them, and a value emitted into them afterwards is not lost.
func ToObservable[T any](ctx context.Context, s stream.Stream[T], opts ...stream.ObserveOption) rxgo.Observable {
	obs := rxgo.Defer([]rxgo.Producer{func(octx context.Context, next chan<- rxgo.Item) {
		// octx is the context rxgo got from the observer; when that observer is the run of a FromObservable
		// stream, it carries that consumer's readiness, which the Hubs of s must report to.
		rctx, cancel := context.WithCancel(stream.Handoff(ctx, octx))
		defer cancel()
		stop := context.AfterFunc(octx, cancel)
		defer stop()
		done := rctx.Done()
		// Subscribe calls the function from its own goroutine, one value at a
		// time, and ends the run once rctx ends; its Err already reads a
		// cancellation of rctx as the end of the stream, not a failure.
		sub := s.Subscribe(rctx, func(v T) {
			select {
			case next <- rxgo.Of(v):
			case <-done:
			}
		}, opts...)
		if err := sub.Wait(); err != nil {
			select {
			case next <- rxgo.Error(err):
			case <-done:
			}
		}
	}})
	// src declares the Hubs of s for FromObservable; it is never run.
	src := stream.Derive(s, func(ctx context.Context, _ func(struct{}) bool) error { return s.Run(ctx, nil) })
	return &sourced{Observable: obs, src: src}
}

// sourced is the Observable of ToObservable: rxgo's, plus a stream declaring the Hub registrations of the
// bridged stream, so that FromObservable can declare them too.
type sourced struct {
	rxgo.Observable
	src stream.Stream[struct{}]
}

// ErrItemType is matched (errors.Is) by an *ItemTypeError.
var ErrItemType = errors.New("rxinterop: rxgo item of the wrong type")

// ItemTypeError ends a FromObservable stream that received an item whose value is not a T.
type ItemTypeError struct {
	Index uint64 // position of the item among the values received (from 0)
	Want  string // the stream's type
	Got   string // the item's dynamic type ("<nil>" for a nil value)
}

// Error describes the mismatch.
func (e *ItemTypeError) Error() string {
	return fmt.Sprintf("rxinterop: rxgo item %d is %s, want %s", e.Index, e.Got, e.Want)
}

// Unwrap returns ErrItemType.
func (e *ItemTypeError) Unwrap() error { return ErrItemType }

// FromObservable returns a stream of the items of obs, typed: each run calls obs.Observe with a context that
// ends with the run. A value that is not a T ends the stream with *ItemTypeError; a nil value becomes the zero
// T when T is a pointer, interface, map, slice, channel or function type, and is a type error otherwise. An
// error item ends the stream with that error. When the consumer stops early, the rest of the rxgo channel is
// drained in the background until rxgo closes it (rxgo operators close it once their context ends).
//
// Readiness: given the Observable of [ToObservable] itself, the stream declares the Hubs of the bridged
// stream (see [stream.Stream.Hubs]), and Observe and Subscribe return once the consumer is registered at
// them, as on the bridged stream. Given any other Observable, including one that rxgo operators built on top
// of ToObservable, it declares none (rxgo's operators do not say what they read): Observe and Subscribe
// return at once, and values that a hot source emits before the rxgo chain has subscribed are not seen.
func FromObservable[T any](obs rxgo.Observable) stream.Stream[T] {
	want := reflect.TypeFor[T]()
	nilable := false
	switch want.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		nilable = true
	}
	run := func(ctx context.Context, emit func(T) bool) error {
		if obs == nil {
			return nil
		}
		octx, cancel := context.WithCancel(ctx)
		ch := obs.Observe(rxgo.WithContext(octx))
		finished := false
		defer func() {
			cancel()
			if !finished {
				go func() {
					for range ch {
					}
				}()
			}
		}()
		var index uint64
		for {
			var item rxgo.Item
			var ok bool
			select {
			case item, ok = <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
			if !ok {
				finished = true
				return nil
			}
			if item.E != nil {
				return item.E
			}
			v, isT := item.V.(T)
			if !isT {
				if item.V != nil || !nilable {
					return &ItemTypeError{Index: index, Want: want.String(), Got: fmt.Sprintf("%T", item.V)}
				}
			}
			index++
			if !emit(v) {
				return nil
			}
		}
	}
	if so, ok := obs.(*sourced); ok {
		// The run passes its ctx (and so the consumer's readiness) to rxgo, which hands it to the producer.
		return stream.Derive(so.src, run)
	}
	return stream.New(run)
}
