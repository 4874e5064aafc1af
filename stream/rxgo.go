package stream

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/reactivex/rxgo/v2"
)

// ToObservable returns a cold rxgo Observable of s: each Observe of it runs s anew (for a Hub stream: a new
// consumer with the given options), sends every value as rxgo.Of(v) and the terminal error, if any, as a last
// rxgo.Error item, then closes its channel. The run stops when ctx ends or when the rxgo context of that
// Observe (rxgo.WithContext) ends. As with any rxgo source, an observer that stops reading without cancelling
// keeps the producer goroutine blocked: cancel ctx when done.
func ToObservable[T any](ctx context.Context, s Stream[T], opts ...ObserveOption) rxgo.Observable {
	cfg := newConfig(opts)
	return rxgo.Defer([]rxgo.Producer{func(octx context.Context, next chan<- rxgo.Item) {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(octx, cancel)
		defer stop()
		rctx = withConfig(rctx, cfg)
		done := rctx.Done()
		err := s.Run(rctx, func(v T) bool {
			select {
			case next <- rxgo.Of(v):
				return true
			case <-done:
				return false
			}
		})
		if err = terminal(rctx, err); err != nil {
			select {
			case next <- rxgo.Error(err):
			case <-done:
			}
		}
	}})
}

// ErrItemType is matched (errors.Is) by an *ItemTypeError.
var ErrItemType = errors.New("stream: rxgo item of the wrong type")

// ItemTypeError ends a FromObservable stream that received an item whose value is not a T.
type ItemTypeError struct {
	Index uint64 // position of the item among the values received (from 0)
	Want  string // the stream's type
	Got   string // the item's dynamic type ("<nil>" for a nil value)
}

// Error describes the mismatch.
func (e *ItemTypeError) Error() string {
	return fmt.Sprintf("stream: rxgo item %d is %s, want %s", e.Index, e.Got, e.Want)
}

// Unwrap returns ErrItemType.
func (e *ItemTypeError) Unwrap() error { return ErrItemType }

// FromObservable returns a stream of the items of obs, typed: each run calls obs.Observe with a context that
// ends with the run. A value that is not a T ends the stream with *ItemTypeError; a nil value becomes the zero
// T when T is a pointer, interface, map, slice, channel or function type, and is a type error otherwise. An
// error item ends the stream with that error. When the consumer stops early, the rest of the rxgo channel is
// drained in the background until rxgo closes it (rxgo operators close it once their context ends).
func FromObservable[T any](obs rxgo.Observable) Stream[T] {
	want := reflect.TypeFor[T]()
	nilable := false
	switch want.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		nilable = true
	}
	return New(func(ctx context.Context, emit func(T) bool) error {
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
	})
}
