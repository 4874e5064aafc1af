package operators_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/stream"
)

type intCase struct {
	name    string
	s       stream.Stream[int]
	want    []int
	wantErr error
}

func runIntCases(t *testing.T, cases []intCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, tc.s)
			assert.Equal(t, tc.want, got)
			if tc.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantErr)
			}
			// Re-running gives the same result: no state leaks between runs.
			got2, err2 := collect(t, tc.s)
			assert.Equal(t, got, got2)
			assert.Equal(t, err == nil, err2 == nil)
		})
	}
}

func even(v int) bool { return v%2 == 0 }

func TestSyncOperators(t *testing.T) {
	errMap := errors.New("map failed")
	var skipped []error
	runIntCases(t, []intCase{
		{"Filter", operators.Filter(stream.Of(1, 2, 3, 4), even), []int{2, 4}, nil},
		{"Filter error", operators.Filter(then(errBoom, 1, 2), even), []int{2}, errBoom},
		{"Map", operators.Map(stream.Of(1, 2), func(v int) int { return v * 10 }), []int{10, 20}, nil},
		{"Map error", operators.Map(then(errBoom, 1), func(v int) int { return -v }), []int{-1}, errBoom},
		{"MapErr ok", operators.MapErr(stream.Of(1, 2), func(v int) (int, error) { return v + 1, nil }), []int{2, 3}, nil},
		{"MapErr fails", operators.MapErr(stream.Of(1, 2, 3), func(v int) (int, error) {
			if v == 2 {
				return 0, errMap
			}
			return v, nil
		}), []int{1}, errMap},
		{"MapErr skip", operators.MapErr(stream.Of(1, 2, 3), func(v int) (int, error) {
			if v == 2 {
				return 0, errMap
			}
			return v, nil
		}, operators.SkipErrors(func(err error) { skipped = append(skipped, err) })), []int{1, 3}, nil},
		{"MapErr source error", operators.MapErr(then(errBoom, 1), func(v int) (int, error) { return v, nil }), []int{1}, errBoom},
		{"Scan", operators.Scan(stream.Of(1, 2, 3), 0, func(a, v int) int { return a + v }), []int{1, 3, 6}, nil},
		{"Scan error", operators.Scan(then(errBoom, 1, 2), 10, func(a, v int) int { return a + v }), []int{11, 13}, errBoom},
		{"Reduce", operators.Reduce(stream.Of(1, 2, 3), 0, func(a, v int) int { return a + v }), []int{6}, nil},
		{"Reduce empty", operators.Reduce(stream.Empty[int](), 7, func(a, v int) int { return a + v }), []int{7}, nil},
		{"Reduce error", operators.Reduce(then(errBoom, 1, 2), 0, func(a, v int) int { return a + v }), nil, errBoom},
		{"Take", operators.Take(stream.Of(1, 2, 3), 2), []int{1, 2}, nil},
		{"Take more", operators.Take(stream.Of(1, 2), 5), []int{1, 2}, nil},
		{"Take zero", operators.Take(stream.Fail[int](errBoom), 0), nil, nil},
		{"Take stops before error", operators.Take(then(errBoom, 1, 2), 2), []int{1, 2}, nil},
		{"Take error", operators.Take(then(errBoom, 1), 2), []int{1}, errBoom},
		{"Skip", operators.Skip(stream.Of(1, 2, 3), 2), []int{3}, nil},
		{"Skip all", operators.Skip(stream.Of(1, 2), 5), nil, nil},
		{"Skip error", operators.Skip(then(errBoom, 1, 2), 1), []int{2}, errBoom},
		{"StartWith", operators.StartWith(stream.Of(3), 1, 2), []int{1, 2, 3}, nil},
		{"StartWith error", operators.StartWith(stream.Fail[int](errBoom), 1), []int{1}, errBoom},
		{"Distinct", operators.Distinct(stream.Of(1, 2, 1, 3, 2), operators.Identity[int]), []int{1, 2, 3}, nil},
		{"Distinct key", operators.Distinct(stream.Of(1, 2, 3, 4), func(v int) bool { return v%2 == 0 }), []int{1, 2}, nil},
		{"Distinct error", operators.Distinct(then(errBoom, 1, 1), operators.Identity[int]), []int{1}, errBoom},
		{"DistinctUntilChanged", operators.DistinctUntilChanged(stream.Of(1, 1, 2, 2, 1, 3), operators.Identity[int]), []int{1, 2, 1, 3}, nil},
		{"DistinctUntilChanged zero first", operators.DistinctUntilChanged(stream.Of(0, 0, 1), operators.Identity[int]), []int{0, 1}, nil},
		{"DistinctUntilChanged error", operators.DistinctUntilChanged(then(errBoom, 1, 1), operators.Identity[int]), []int{1}, errBoom},
		{"Tap", operators.Tap(stream.Of(1, 2), func(int) {}), []int{1, 2}, nil},
		{"ConcatMap", operators.ConcatMap(stream.Of(1, 2), func(v int) stream.Stream[int] { return stream.Of(v, v*10) }), []int{1, 10, 2, 20}, nil},
		{"ConcatMap inner error", operators.ConcatMap(stream.Of(1, 2), func(v int) stream.Stream[int] { return then(errBoom, v) }), []int{1}, errBoom},
		{"ConcatMap outer error", operators.ConcatMap(then(errBoom, 1), func(v int) stream.Stream[int] { return stream.Of(v) }), []int{1}, errBoom},
	})
	assert.Len(t, skipped, 2, "SkipErrors reported the error on each of the two runs")
}

// Every operator stops its source as soon as the consumer stops.
func TestSyncOperatorsConsumerStop(t *testing.T) {
	id := func(v int) int { return v }
	ops := map[string]func(stream.Stream[int]) stream.Stream[int]{
		"Filter": func(s stream.Stream[int]) stream.Stream[int] {
			return operators.Filter(s, func(int) bool { return true })
		},
		"Map": func(s stream.Stream[int]) stream.Stream[int] { return operators.Map(s, id) },
		"MapErr": func(s stream.Stream[int]) stream.Stream[int] {
			return operators.MapErr(s, func(v int) (int, error) { return v, nil })
		},
		"Scan": func(s stream.Stream[int]) stream.Stream[int] {
			return operators.Scan(s, 0, func(_, v int) int { return v })
		},
		"Take":      func(s stream.Stream[int]) stream.Stream[int] { return operators.Take(s, 100) },
		"Skip":      func(s stream.Stream[int]) stream.Stream[int] { return operators.Skip(s, 0) },
		"StartWith": func(s stream.Stream[int]) stream.Stream[int] { return operators.StartWith(s) },
		"Distinct":  func(s stream.Stream[int]) stream.Stream[int] { return operators.Distinct(s, operators.Identity[int]) },
		"DUC":       func(s stream.Stream[int]) stream.Stream[int] { return operators.DistinctUntilChanged(s, id) },
		"Tap":       func(s stream.Stream[int]) stream.Stream[int] { return operators.Tap(s, func(int) {}) },
		"ConcatMap": func(s stream.Stream[int]) stream.Stream[int] {
			return operators.ConcatMap(s, func(v int) stream.Stream[int] { return stream.Of(v) })
		},
		"Merge": func(s stream.Stream[int]) stream.Stream[int] { return operators.Merge(s, stream.Empty[int]()) },
		"FlatMap": func(s stream.Stream[int]) stream.Stream[int] {
			return operators.FlatMap(s, func(v int) stream.Stream[int] { return stream.Of(v) })
		},
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			produced := 0
			src := stream.New(func(ctx context.Context, emit func(int) bool) error {
				for i := 0; i < 1000; i++ {
					produced++
					if !emit(i) {
						return nil
					}
				}
				return errBoom
			})
			var got []int
			err := op(src).Run(t.Context(), func(v int) bool { got = append(got, v); return len(got) < 3 })
			require.NoError(t, err)
			if name == "FlatMap" {
				// Inner streams run concurrently: values arrive in any order, and the source may run ahead of
				// the consumer by a scheduling-dependent number of values (FlatMap has no concurrency bound).
				assert.Len(t, got, 3)
				assert.Less(t, produced, 1000, "source stopped before its end")
				return
			}
			assert.Equal(t, []int{0, 1, 2}, got)
			bound := 4
			if name == "Merge" { // the source runs in its own goroutine: one more value may be in flight
				bound = 5
			}
			assert.LessOrEqual(t, produced, bound, "source stopped promptly")
		})
	}
}

func TestMapTypes(t *testing.T) {
	got, err := collect(t, operators.Map(stream.Of(1, 22), strconv.Itoa))
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "22"}, got)
	_, err = collect(t, operators.MapErr(stream.Of("1", "x"), strconv.Atoi))
	var numErr *strconv.NumError
	assert.ErrorAs(t, err, &numErr, "MapErr returns f's error as is")
}
