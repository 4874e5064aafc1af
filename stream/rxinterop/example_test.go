package rxinterop_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/reactivex/rxgo/v2"

	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/stream/rxinterop"
)

func ExampleToObservable() {
	// Use any rxgo operator on a typed stream, and come back to a typed stream.
	obs := rxinterop.ToObservable(context.Background(), stream.Of(1, 2, 3, 4)).
		Filter(func(v any) bool { return v.(int) > 2 })
	for v := range rxinterop.FromObservable[int](obs).All(context.Background()) {
		fmt.Println(v)
	}
	// Output:
	// 3
	// 4
}

func ExampleFromObservable() {
	obs := rxgo.Just("a", 2)()
	err := rxinterop.FromObservable[string](obs).Run(context.Background(), func(v string) bool {
		fmt.Println(v)
		return true
	})
	fmt.Println(errors.Is(err, rxinterop.ErrItemType), err)
	// Output:
	// a
	// true rxinterop: rxgo item 1 is int, want string
}
