package rxinterop_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/reactivex/rxgo/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/stream/rxinterop"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errBoom = errors.New("boom")

func collect[T any](t *testing.T, s stream.Stream[T]) ([]T, error) {
	t.Helper()
	var got []T
	err := s.Run(t.Context(), func(v T) bool { got = append(got, v); return true })
	return got, err
}

func waitConsumers[T any](t *testing.T, h *stream.Hub[T], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.Consumers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d consumers, want %d", h.Consumers(), n)
		}
		runtime.Gosched()
	}
}

func itemsChan(items ...rxgo.Item) <-chan rxgo.Item {
	ch := make(chan rxgo.Item, len(items))
	for _, it := range items {
		ch <- it
	}
	close(ch)
	return ch
}

func TestRxgoRoundTrip(t *testing.T) {
	obs := rxinterop.ToObservable(t.Context(), stream.Of(1, 2, 3, 4)).
		Filter(func(v any) bool { return v.(int)%2 == 0 }).
		Map(func(_ context.Context, v any) (any, error) { return v.(int) * 10, nil })
	s := rxinterop.FromObservable[int](obs)
	for range 2 { // cold on both sides: re-running works
		got, err := collect(t, s)
		require.NoError(t, err)
		assert.Equal(t, []int{20, 40}, got)
	}
}

func TestRxgoErrors(t *testing.T) {
	// stream error → rxgo error item → stream error
	got, err := collect(t, rxinterop.FromObservable[int](rxinterop.ToObservable(t.Context(),
		stream.New(func(ctx context.Context, emit func(int) bool) error { emit(1); return errBoom }))))
	assert.Equal(t, []int{1}, got)
	assert.ErrorIs(t, err, errBoom)

	tests := []struct {
		name    string
		items   []rxgo.Item
		want    []string
		wantErr error
		got     string
	}{
		{"wrong type", []rxgo.Item{rxgo.Of("a"), rxgo.Of(2)}, []string{"a"}, rxinterop.ErrItemType, "int"},
		{"nil for non-nilable", []rxgo.Item{rxgo.Of(nil)}, nil, rxinterop.ErrItemType, "<nil>"},
		{"error item", []rxgo.Item{rxgo.Of("a"), rxgo.Error(errBoom), rxgo.Of("b")}, []string{"a"}, errBoom, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, rxinterop.FromObservable[string](rxgo.FromChannel(itemsChan(tc.items...))))
			assert.Equal(t, tc.want, got)
			assert.ErrorIs(t, err, tc.wantErr)
			var te *rxinterop.ItemTypeError
			if errors.As(err, &te) {
				assert.Equal(t, "string", te.Want)
				assert.Equal(t, tc.got, te.Got)
				assert.Contains(t, te.Error(), tc.got)
			}
		})
	}

	// nil is the zero value of a pointer type
	ptrs, err := collect(t, rxinterop.FromObservable[*int](rxgo.FromChannel(itemsChan(rxgo.Of(nil)))))
	require.NoError(t, err)
	assert.Equal(t, []*int{nil}, ptrs)
	// interface types accept implementations
	errs, err := collect(t, rxinterop.FromObservable[error](rxgo.FromChannel(itemsChan(rxgo.Of(errBoom)))))
	require.NoError(t, err)
	assert.Equal(t, []error{errBoom}, errs)
	// nil Observable: empty
	none, err := collect(t, rxinterop.FromObservable[int](nil))
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestRxgoEarlyStopAndCancel(t *testing.T) {
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(t.Context())
	s := rxinterop.FromObservable[int](rxinterop.ToObservable(ctx, h.Stream(), stream.DropNewest()).
		Map(func(_ context.Context, v any) (any, error) { return v.(int) + 1, nil }))
	got := make(chan int)
	sub := s.Subscribe(t.Context(), func(v int) { got <- v })
	waitConsumers(t, h, 1)
	h.Emit(1)
	assert.Equal(t, 2, <-got)
	cancel() // the ToObservable context ends the hub consumer
	require.NoError(t, sub.Wait())
	waitConsumers(t, h, 0)

	// Consumer stops early: the rxgo side is cancelled and drained (goleak checks).
	var first []int
	err := rxinterop.FromObservable[int](rxinterop.ToObservable(t.Context(), stream.Of(1, 2, 3, 4, 5)).
		Map(func(_ context.Context, v any) (any, error) { return v, nil })).
		Run(t.Context(), func(v int) bool { first = append(first, v); return false })
	require.NoError(t, err)
	assert.Equal(t, []int{1}, first)
}
