package operators_test

import (
	"context"
	"testing"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
)

// counter emits 0..n-1 synchronously.
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

var sink int

// BenchmarkOperator measures each operator on b.N values (ns/op and allocs/op are per source value);
// "Source" is the bare source for reference.
func BenchmarkOperator(b *testing.B) {
	id := func(v int) int { return v }
	ops := []struct {
		name string
		op   func(stream.Stream[int]) stream.Stream[int]
	}{
		{"Source", func(s stream.Stream[int]) stream.Stream[int] { return s }},
		{"Filter", func(s stream.Stream[int]) stream.Stream[int] {
			return operators.Filter(s, func(v int) bool { return v&1 == 0 })
		}},
		{"Map", func(s stream.Stream[int]) stream.Stream[int] { return operators.Map(s, id) }},
		{"MapErr", func(s stream.Stream[int]) stream.Stream[int] {
			return operators.MapErr(s, func(v int) (int, error) { return v, nil })
		}},
		{"Tap", func(s stream.Stream[int]) stream.Stream[int] { return operators.Tap(s, func(int) {}) }},
		{"Scan", func(s stream.Stream[int]) stream.Stream[int] {
			return operators.Scan(s, 0, func(a, v int) int { return a + v })
		}},
		{"Take", func(s stream.Stream[int]) stream.Stream[int] { return operators.Take(s, 1<<62) }},
		{"Skip", func(s stream.Stream[int]) stream.Stream[int] { return operators.Skip(s, 1) }},
		{"DistinctUntilChanged", func(s stream.Stream[int]) stream.Stream[int] {
			return operators.DistinctUntilChanged(s, operators.Identity[int])
		}},
		{"Distinct", func(s stream.Stream[int]) stream.Stream[int] {
			return operators.Distinct(s, func(v int) int { return v & 1023 })
		}},
		{"Throttle", func(s stream.Stream[int]) stream.Stream[int] { return operators.Throttle(s, time.Nanosecond) }},
		{"Timeout", func(s stream.Stream[int]) stream.Stream[int] { return operators.Timeout(s, time.Hour) }},
		{"TakeUntilContext", func(s stream.Stream[int]) stream.Stream[int] {
			return operators.TakeUntilContext(s, context.Background())
		}},
		{"BufferCount16", func(s stream.Stream[int]) stream.Stream[int] {
			return operators.Map(operators.BufferCount(s, 16), func(b []int) int { return len(b) })
		}},
		{"ConcatMap", func(s stream.Stream[int]) stream.Stream[int] {
			return operators.ConcatMap(s, func(v int) stream.Stream[int] { return stream.Of(v) })
		}},
		{"Debounce", func(s stream.Stream[int]) stream.Stream[int] { return operators.Debounce(s, time.Hour) }},
		{"Sample", func(s stream.Stream[int]) stream.Stream[int] { return operators.Sample(s, time.Hour) }},
		{"BufferTime", func(s stream.Stream[int]) stream.Stream[int] {
			return operators.Map(operators.BufferTime(s, time.Hour), func(b []int) int { return len(b) })
		}},
		{"TakeUntil", func(s stream.Stream[int]) stream.Stream[int] { return operators.TakeUntil(s, stream.Empty[int]()) }},
		{"Merge2", func(s stream.Stream[int]) stream.Stream[int] { return operators.Merge(s, stream.Empty[int]()) }},
		{"FlatMap", func(s stream.Stream[int]) stream.Stream[int] {
			return operators.FlatMap(s, func(v int) stream.Stream[int] { return stream.Of(v) })
		}},
	}
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			b.ReportAllocs()
			s := o.op(counter(b.N))
			b.ResetTimer()
			_ = s.Run(context.Background(), func(v int) bool { sink += v; return true })
		})
	}
}

// BenchmarkPipeline compares a 4-operator pipeline (Filter → Map → DistinctUntilChanged → Scan) with a
// hand-written loop doing the same work on the same source (ns/op per source value).
func BenchmarkPipeline(b *testing.B) {
	b.Run("operators", func(b *testing.B) {
		b.ReportAllocs()
		s := operators.Scan(
			operators.DistinctUntilChanged(
				operators.Map(
					operators.Filter(counter(b.N), func(v int) bool { return v%3 != 0 }),
					func(v int) int { return v / 2 }),
				operators.Identity[int]),
			0, func(a, v int) int { return a + v })
		b.ResetTimer()
		_ = s.Run(context.Background(), func(v int) bool { sink = v; return true })
	})
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		src := counter(b.N)
		b.ResetTimer()
		acc, last, first := 0, 0, true
		_ = src.Run(context.Background(), func(v int) bool {
			if v%3 == 0 {
				return true
			}
			v /= 2
			if !first && v == last {
				return true
			}
			first, last = false, v
			acc += v
			sink = acc
			return true
		})
	})
}
