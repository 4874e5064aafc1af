package operators

import (
	"context"

	"github.com/rxrealtime/rxrealtime/stream"
)

// Distinct emits the values of s whose key was not seen before in this run. It remembers every key it has
// seen until the run ends: use it on bounded key spaces.
func Distinct[T any, K comparable](s stream.Stream[T], key func(T) K) stream.Stream[T] {
	checkFunc("Distinct", "key", key == nil)
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		seen := make(map[K]struct{})
		return s.Run(ctx, func(v T) bool {
			k := key(v)
			if _, ok := seen[k]; ok {
				return true
			}
			seen[k] = struct{}{}
			return emit(v)
		})
	})
}

// DistinctUntilChanged emits the values of s whose key differs from the key of the previous value (the first
// value is always emitted). It keeps only the last key.
func DistinctUntilChanged[T any, K comparable](s stream.Stream[T], key func(T) K) stream.Stream[T] {
	checkFunc("DistinctUntilChanged", "key", key == nil)
	return stream.Derive(s, func(ctx context.Context, emit func(T) bool) error {
		var last K
		first := true
		return s.Run(ctx, func(v T) bool {
			k := key(v)
			if !first && k == last {
				return true
			}
			first, last = false, k
			return emit(v)
		})
	})
}

// Identity returns its argument: the key function for Distinct and DistinctUntilChanged on comparable values.
func Identity[T comparable](v T) T { return v }
