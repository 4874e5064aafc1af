package stream_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
)

// BenchmarkHubEmit measures one Emit delivered to N consumers (ns/op = per emitted value, including the
// consumers' work of receiving it). Consumers use Block with a 1024 mailbox, so every value is delivered.
func BenchmarkHubEmit(b *testing.B) {
	for _, n := range []int{0, 1, 10, 100} {
		b.Run(fmt.Sprintf("consumers=%d", n), func(b *testing.B) {
			h := stream.NewHub[int]()
			ctx, cancel := context.WithCancel(context.Background())
			subs := make([]*stream.Subscription, n)
			for i := range subs {
				subs[i] = h.Stream().Subscribe(ctx, func(int) {}, stream.WithBuffer(1024))
			}
			for h.Consumers() != n {
				runtime.Gosched()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				h.Emit(i)
			}
			b.StopTimer()
			h.Complete(nil)
			for _, s := range subs {
				<-s.Done()
			}
			cancel()
		})
	}
}

// BenchmarkHubEmitNeverWait is BenchmarkHubEmit at a NeverWait hub (the kind the socket feeds): the
// consumers choose Block, so their slice mailboxes grow instead of dropping, and ns/op covers the emit, the
// consumer's wake-ups and its delivery, up to the last value received. observe is the same path ending in
// an Observe channel read by a range loop, as in a user's program.
func BenchmarkHubEmitNeverWait(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("consumers=%d", n), func(b *testing.B) {
			h := stream.NewHub[int](stream.NeverWait())
			var got atomic.Int64
			subs := make([]*stream.Subscription, n)
			for i := range subs {
				subs[i] = h.Stream().Subscribe(context.Background(), func(int) { got.Add(1) }, stream.Block(), stream.WithBuffer(1024))
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				h.Emit(i)
			}
			for got.Load() != int64(b.N*n) {
				runtime.Gosched()
			}
			b.StopTimer()
			h.Complete(nil)
			for _, s := range subs {
				<-s.Done()
			}
		})
	}
	b.Run("observe", func(b *testing.B) {
		h := stream.NewHub[int](stream.NeverWait())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := h.Stream().Observe(ctx, stream.Block(), stream.WithBuffer(1024))
		done := make(chan int)
		go func() {
			n := 0
			for range out {
				n++
			}
			done <- n
		}()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			h.Emit(i)
		}
		h.Complete(nil)
		if n := <-done; n != b.N {
			b.Fatalf("received %d of %d", n, b.N)
		}
	})
}

// BenchmarkHubEmitDropNewest measures Emit alone: consumers never read (their mailbox is full), so each Emit is
// a failed non-blocking send and a counter increment per consumer.
func BenchmarkHubEmitDropNewest(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("consumers=%d", n), func(b *testing.B) {
			h := stream.NewHub[int]()
			release := make(chan struct{})
			subs := make([]*stream.Subscription, n)
			for i := range subs {
				subs[i] = h.Stream().Subscribe(context.Background(), func(int) { <-release }, stream.DropNewest(), stream.WithBuffer(1))
			}
			for h.Consumers() != n {
				runtime.Gosched()
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				h.Emit(i)
			}
			b.StopTimer()
			close(release)
			h.Complete(nil)
			for _, s := range subs {
				<-s.Done()
			}
		})
	}
}

// BenchmarkHubIdleMemory reports the heap bytes held per idle Hub (10,000 hubs), new and after one consumer
// came and left.
func BenchmarkHubIdleMemory(b *testing.B) {
	const hubs = 10_000
	for _, used := range []bool{false, true} {
		b.Run(fmt.Sprintf("used=%v", used), func(b *testing.B) {
			var perHub float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				keep := make([]*stream.Hub[[]byte], hubs)
				for i := range keep {
					keep[i] = stream.NewHub[[]byte]()
					if used {
						sub := keep[i].Stream().Subscribe(context.Background(), nil)
						for keep[i].Consumers() == 0 {
							runtime.Gosched()
						}
						sub.Stop()
						<-sub.Done()
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perHub = float64(after.HeapAlloc-before.HeapAlloc-uint64(hubs*8)) / hubs
				runtime.KeepAlive(keep)
			}
			b.ReportMetric(perHub, "bytes/hub")
		})
	}
}

func isEven(v int) bool { return v%2 == 0 }
func triple(v int) int  { return v * 3 }

// counter emits 0..n-1.
func counter(n int) stream.Stream[int] {
	return stream.New(func(ctx context.Context, emit func(int) bool) error {
		for i := range n {
			if !emit(i) {
				return nil
			}
		}
		return nil
	})
}

// BenchmarkChain runs a Map+Filter chain natively (ns/op = per source value); stream/rxinterop has the same
// chain through rxgo.
func BenchmarkChain(b *testing.B) {
	b.Run("native/Run", func(b *testing.B) {
		b.ReportAllocs()
		s := operators.Map(operators.Filter(counter(b.N), isEven), triple)
		sum := 0
		_ = s.Run(context.Background(), func(v int) bool { sum += v; return true })
	})
	b.Run("native/Observe", func(b *testing.B) {
		b.ReportAllocs()
		s := operators.Map(operators.Filter(counter(b.N), isEven), triple)
		sum := 0
		for v := range s.Observe(context.Background()) {
			sum += v
		}
	})
	b.Run("native/Hub+Subscribe", func(b *testing.B) {
		b.ReportAllocs()
		h := stream.NewHub[int]()
		sum := 0
		sub := operators.Map(operators.Filter(h.Stream(), isEven), triple).Subscribe(context.Background(), func(v int) { sum += v })
		for h.Consumers() == 0 {
			runtime.Gosched()
		}
		b.ResetTimer()
		for i := range b.N {
			h.Emit(i)
		}
		h.Complete(nil)
		<-sub.Done()
	})
}
