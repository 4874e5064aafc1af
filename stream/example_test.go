package stream_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/rxrealtime/rxrealtime/stream"
)

func ExampleNew() {
	countdown := stream.New(func(ctx context.Context, emit func(int) bool) error {
		for i := 3; i > 0; i-- {
			if !emit(i) {
				return nil // the consumer stopped
			}
		}
		return errors.New("liftoff aborted")
	})
	err := countdown.Run(context.Background(), func(v int) bool {
		fmt.Println(v)
		return true
	})
	fmt.Println("error:", err)
	// Output:
	// 3
	// 2
	// 1
	// error: liftoff aborted
}

func ExampleStream_Observe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // always cancel: it frees the goroutine if you stop reading early
	for v := range stream.Of("a", "b", "c").Observe(ctx) {
		fmt.Println(v)
	}
	// Output:
	// a
	// b
	// c
}

func ExampleStream_Subscribe() {
	hub := stream.NewHub[string]()
	sub := hub.Stream().Subscribe(context.Background(), func(v string) {
		fmt.Println("got", v)
	}, stream.DropOldest(), stream.WithBuffer(16))
	// Subscribe returned: the consumer is registered, nothing emitted from now on is missed.
	hub.Emit("hello")
	hub.Emit("world")
	hub.Complete(errors.New("channel closed"))
	fmt.Println("end:", sub.Wait(), "delivered:", sub.Delivered(), "dropped:", sub.Dropped())
	// Output:
	// got hello
	// got world
	// end: channel closed delivered: 2 dropped: 0
}

func ExampleStream_All() {
	for v := range stream.Of(1, 2, 3, 4).All(context.Background()) {
		if v == 3 {
			break // stops the stream
		}
		fmt.Println(v)
	}
	// Output:
	// 1
	// 2
}

func ExampleStream_All2() {
	failing := stream.New(func(ctx context.Context, emit func(int) bool) error {
		emit(1)
		return errors.New("connection lost")
	})
	for v, err := range failing.All2(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(v)
	}
	// Output:
	// 1
	// error: connection lost
}

func ExampleHub() {
	hub := stream.NewHub[int](stream.OnActive(func(active bool) { fmt.Println("active:", active) }))
	hub.Emit(0) // no consumer: dropped, costs a few nanoseconds

	ctx, cancel := context.WithCancel(context.Background())
	values := hub.Stream().Observe(ctx) // returns once registered (and OnActive told)
	hub.Emit(1)
	hub.Emit(2)
	fmt.Println(<-values, <-values)
	cancel()
	for range values { // closes once the consumer has left
	}
	fmt.Println("consumers:", hub.Consumers())
	// Output:
	// active: true
	// 1 2
	// active: false
	// consumers: 0
}

// Derive builds an operator whose readiness propagates: Observe on the result returns once the consumer is
// registered at the source's Hub, so a value emitted right after Observe returns is received.
func ExampleDerive() {
	double := func(s stream.Stream[int]) stream.Stream[int] {
		return stream.Derive(s, func(ctx context.Context, emit func(int) bool) error {
			return s.Run(ctx, func(v int) bool { return emit(2 * v) })
		})
	}
	hub := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	values := double(hub.Stream()).Observe(ctx)
	hub.Emit(21) // no need to wait for anything: the consumer is registered
	fmt.Println(<-values, double(hub.Stream()).Hubs())
	// Output:
	// 42 1
}
