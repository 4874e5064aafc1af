package rxinterop_test

import (
	"context"
	"testing"

	"github.com/reactivex/rxgo/v2"

	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/stream/rxinterop"
)

func rxEven(v any) bool                              { return v.(int)%2 == 0 }
func rxTriple(_ context.Context, v any) (any, error) { return v.(int) * 3, nil }

// counter is a cold stream of 0..n-1.
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

// BenchmarkChain runs the Map+Filter chain of stream's BenchmarkChain (ns/op = per source value) through rxgo:
// via the bridge, and plain rxgo from a channel.
func BenchmarkChain(b *testing.B) {
	b.Run("rxgo/bridge", func(b *testing.B) {
		b.ReportAllocs()
		obs := rxinterop.ToObservable(context.Background(), counter(b.N)).Filter(rxEven).Map(rxTriple)
		sum := 0
		_ = rxinterop.FromObservable[int](obs).Run(context.Background(), func(v int) bool { sum += v; return true })
	})
	b.Run("rxgo/plain", func(b *testing.B) {
		b.ReportAllocs()
		ch := make(chan rxgo.Item)
		go func() {
			for i := range b.N {
				ch <- rxgo.Of(i)
			}
			close(ch)
		}()
		sum := 0
		for it := range rxgo.FromChannel(ch).Filter(rxEven).Map(rxTriple).Observe() {
			sum += it.V.(int)
		}
	})
}
