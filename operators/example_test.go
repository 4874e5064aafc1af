package operators_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
)

func show[T any](s stream.Stream[T]) {
	for v, err := range s.All2(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(v)
	}
}

func ExampleFilter() {
	show(operators.Filter(stream.Of(1, 2, 3, 4), func(v int) bool { return v%2 == 0 }))
	// Output:
	// 2
	// 4
}

func ExampleMap() {
	show(operators.Map(stream.Of(1, 2), func(v int) string { return "#" + strconv.Itoa(v) }))
	// Output:
	// #1
	// #2
}

func ExampleMapErr() {
	show(operators.MapErr(stream.Of("1", "x", "3"), strconv.Atoi))
	// Output:
	// 1
	// error: strconv.Atoi: parsing "x": invalid syntax
}

func ExampleSkipErrors() {
	report := func(err error) { fmt.Println("skipped:", err) }
	show(operators.MapErr(stream.Of("1", "x", "3"), strconv.Atoi, operators.SkipErrors(report)))
	// Output:
	// 1
	// skipped: strconv.Atoi: parsing "x": invalid syntax
	// 3
}

func ExampleScan() {
	show(operators.Scan(stream.Of(1, 2, 3), 0, func(sum, v int) int { return sum + v }))
	// Output:
	// 1
	// 3
	// 6
}

func ExampleReduce() {
	show(operators.Reduce(stream.Of(1, 2, 3), 0, func(sum, v int) int { return sum + v }))
	// Output:
	// 6
}

func ExampleTake() {
	show(operators.Take(stream.Of("a", "b", "c"), 2))
	// Output:
	// a
	// b
}

func ExampleSkip() {
	show(operators.Skip(stream.Of("a", "b", "c"), 2))
	// Output:
	// c
}

func ExampleStartWith() {
	show(operators.StartWith(stream.Of("joined"), "joining"))
	// Output:
	// joining
	// joined
}

func ExampleDistinct() {
	show(operators.Distinct(stream.Of("a", "b", "a", "c"), operators.Identity[string]))
	// Output:
	// a
	// b
	// c
}

func ExampleDistinctUntilChanged() {
	type state struct {
		Name string
		At   int
	}
	states := stream.Of(state{"joining", 1}, state{"joined", 2}, state{"joined", 3}, state{"closed", 4})
	show(operators.DistinctUntilChanged(states, func(s state) string { return s.Name }))
	// Output:
	// {joining 1}
	// {joined 2}
	// {closed 4}
}

func ExampleBufferCount() {
	show(operators.BufferCount(stream.Of(1, 2, 3, 4, 5), 2))
	// Output:
	// [1 2]
	// [3 4]
	// [5]
}

func ExampleConcatMap() {
	show(operators.ConcatMap(stream.Of(1, 2), func(v int) stream.Stream[int] { return stream.Of(v, v*10) }))
	// Output:
	// 1
	// 10
	// 2
	// 20
}

func ExampleMerge() {
	show(operators.Merge(stream.Of("a1", "a2"), stream.Of("b1")))
	// Unordered output:
	// a1
	// a2
	// b1
}

func ExampleFlatMap() {
	show(operators.FlatMap(stream.Of(1, 2), func(v int) stream.Stream[int] { return stream.Of(v, v*10) }))
	// Unordered output:
	// 1
	// 10
	// 2
	// 20
}

func ExampleDebounce() {
	// A burst followed by completion: the last value is flushed when the source ends.
	show(operators.Debounce(stream.Of(1, 2, 3), time.Hour))
	// Output:
	// 3
}

func ExampleThrottle() {
	show(operators.Throttle(stream.Of(1, 2, 3), time.Hour))
	// Output:
	// 1
}

func ExampleSample() {
	show(operators.Sample(stream.Of(1, 2, 3), time.Hour))
	// Output:
	// 3
}

func ExampleBufferTime() {
	show(operators.BufferTime(stream.Of(1, 2, 3), time.Hour))
	// Output:
	// [1 2 3]
}

func ExampleTimeout() {
	silent := stream.New(func(ctx context.Context, emit func(int) bool) error {
		<-ctx.Done()
		return ctx.Err()
	})
	err := operators.Timeout(silent, time.Millisecond).Run(context.Background(), func(int) bool { return true })
	fmt.Println(errors.Is(err, operators.ErrTimeout), err)
	// Output:
	// true operators: no value within 1ms
}

func ExampleRetryWithBackoff() {
	dials := 0
	conn := stream.New(func(ctx context.Context, emit func(string) bool) error {
		dials++
		if dials < 3 {
			return errors.New("connection refused")
		}
		operators.MarkHealthy(ctx) // connected: the next failure restarts the schedule at attempt 1
		emit("connected")
		return nil // closed cleanly by the server
	})
	noWait := operators.BackoffFunc(func(int) time.Duration { return 0 }) // use operators.RealtimeReconnect in real code
	show(operators.RetryWithBackoff(conn, noWait,
		operators.MaxAttempts(3),
		operators.OnRetry(func(attempt int, cause error, delay time.Duration) {
			fmt.Printf("retry %d after %v: %v\n", attempt, delay, cause)
		})))
	// Output:
	// retry 1 after 0s: connection refused
	// retry 2 after 0s: connection refused
	// connected
}

func ExampleRetryOnComplete() {
	dials := 0
	conn := stream.New(func(ctx context.Context, emit func(int) bool) error {
		dials++
		emit(dials)
		return nil // every session ends cleanly, and is re-dialled anyway
	})
	show(operators.RetryWithBackoff(conn, operators.StepBackoff{0}, operators.RetryOnComplete(true), operators.MaxAttempts(2)))
	// Output:
	// 1
	// 2
	// 3
	// error: operators: retries exhausted after 2 attempts: operators: source completed
}

func ExampleStepBackoff() {
	for attempt := 1; attempt <= 5; attempt++ {
		fmt.Print(operators.RealtimeReconnect.Next(attempt), " ")
	}
	fmt.Println()
	// Output:
	// 1s 2s 5s 10s 10s
}

func ExampleExponentialBackoff() {
	b := operators.ExponentialBackoff{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: operators.NoJitter}
	for attempt := 1; attempt <= 6; attempt++ {
		fmt.Print(b.Next(attempt), " ")
	}
	fmt.Println()
	// Output:
	// 100ms 200ms 400ms 800ms 1s 1s
}

func ExampleTap() {
	logged := operators.Tap(stream.Of("a", "b"), func(v string) { fmt.Println("saw", v) })
	show(operators.Map(logged, strings.ToUpper))
	// Output:
	// saw a
	// A
	// saw b
	// B
}

func ExampleTakeUntil() {
	// Values flow until the notifier emits (here: a hub fed after two values).
	values := stream.NewHub[int]()
	stop := stream.NewHub[struct{}]()
	out := operators.TakeUntil(values.Stream(), stop.Stream()).Observe(context.Background())
	values.Emit(1)
	values.Emit(2)
	fmt.Println(<-out, <-out)
	stop.Emit(struct{}{})
	_, open := <-out
	fmt.Println("open:", open)
	// Output:
	// 1 2
	// open: false
}

func ExampleTakeUntilContext() {
	ctx, cancel := context.WithCancel(context.Background())
	values := stream.NewHub[int]()
	out := operators.TakeUntilContext(values.Stream(), ctx).Observe(context.Background())
	values.Emit(7)
	fmt.Println(<-out)
	cancel()
	_, open := <-out
	fmt.Println("open:", open)
	// Output:
	// 7
	// open: false
}

func ExampleIdentity() {
	show(operators.DistinctUntilChanged(stream.Of(1, 1, 2, 2, 1), operators.Identity[int]))
	// Output:
	// 1
	// 2
	// 1
}
