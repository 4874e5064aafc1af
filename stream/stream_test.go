package stream_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/stream"
)

var errBoom = errors.New("boom")

func collect[T any](t *testing.T, s stream.Stream[T]) ([]T, error) {
	t.Helper()
	var got []T
	err := s.Run(t.Context(), func(v T) bool { got = append(got, v); return true })
	return got, err
}

func TestColdConstructors(t *testing.T) {
	ch := make(chan int, 3)
	ch <- 7
	ch <- 8
	close(ch)
	tests := []struct {
		name    string
		s       stream.Stream[int]
		want    []int
		wantErr error
	}{
		{"zero", stream.Stream[int]{}, nil, nil},
		{"empty", stream.Empty[int](), nil, nil},
		{"nil run", stream.New[int](nil), nil, nil},
		{"of", stream.Of(1, 2, 3), []int{1, 2, 3}, nil},
		{"slice", stream.FromSlice([]int{4, 5}), []int{4, 5}, nil},
		{"fail", stream.Fail[int](errBoom), nil, errBoom},
		{"chan", stream.FromChan(ch), []int{7, 8}, nil},
		{"new", stream.New(func(ctx context.Context, emit func(int) bool) error {
			emit(1)
			return errBoom
		}), []int{1}, errBoom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, tc.s)
			assert.Equal(t, tc.want, got)
			assert.ErrorIs(t, err, tc.wantErr)
			if tc.wantErr == nil {
				assert.NoError(t, err)
			}
		})
	}
}

func TestStopAndCancel(t *testing.T) {
	var got []int
	err := stream.Of(1, 2, 3).Run(t.Context(), func(v int) bool { got = append(got, v); return v < 2 })
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, got)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = stream.Of(1, 2).Run(ctx, func(int) bool { t.Fatal("emitted after cancel"); return true })
	assert.ErrorIs(t, err, context.Canceled)

	ch := make(chan int)
	ctx, cancel = context.WithCancel(t.Context())
	go cancel()
	err = stream.FromChan(ch).Run(ctx, func(int) bool { return true })
	assert.ErrorIs(t, err, context.Canceled)
}

func TestAllAndAll2(t *testing.T) {
	var got []int
	for v := range stream.Of(1, 2, 3, 4).All(t.Context()) {
		if v == 3 {
			break
		}
		got = append(got, v)
	}
	assert.Equal(t, []int{1, 2}, got)

	// A misbehaving run that keeps emitting after false must not make the range loop panic.
	bad := stream.New(func(ctx context.Context, emit func(int) bool) error {
		for i := range 5 {
			emit(i)
		}
		return errBoom
	})
	got = nil
	for v := range bad.All(t.Context()) {
		got = append(got, v)
		if v == 1 {
			break
		}
	}
	assert.Equal(t, []int{0, 1}, got)
	for v, err := range bad.All2(t.Context()) {
		if v == 1 {
			break
		}
		require.NoError(t, err)
	}

	var errs []error
	got = nil
	for v, err := range stream.New(func(ctx context.Context, emit func(int) bool) error {
		emit(1)
		emit(2)
		return errBoom
	}).All2(t.Context()) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, v)
	}
	assert.Equal(t, []int{1, 2}, got)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], errBoom)

	n := 0
	for _, err := range stream.Of(1, 2).All2(t.Context()) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 2, n)
}

func TestObserve(t *testing.T) {
	var gotErr error
	var got []int
	for v := range stream.New(func(ctx context.Context, emit func(int) bool) error {
		emit(1)
		emit(2)
		return errBoom
	}).Observe(t.Context(), stream.OnError(func(err error) { gotErr = err })) {
		got = append(got, v)
	}
	assert.Equal(t, []int{1, 2}, got)
	assert.ErrorIs(t, gotErr, errBoom) // the channel closes after OnError returned

	// Cancelling ctx closes the channel and ends the goroutine (goleak in TestMain checks it).
	h := stream.NewHub[int]()
	ctx, cancel := context.WithCancel(t.Context())
	called := false
	ch := h.Stream().Observe(ctx, stream.OnError(func(error) { called = true }))
	waitConsumers(t, h, 1)
	h.Emit(5)
	assert.Equal(t, 5, <-ch)
	cancel()
	for range ch {
	}
	assert.False(t, called, "cancellation is not an error")
	waitConsumers(t, h, 0)
}

func TestSubscribe(t *testing.T) {
	var got []int
	sub := stream.Of(1, 2, 3).Subscribe(t.Context(), func(v int) { got = append(got, v) })
	require.NoError(t, sub.Wait())
	assert.Equal(t, []int{1, 2, 3}, got)
	assert.Equal(t, uint64(3), sub.Delivered())
	assert.Equal(t, uint64(0), sub.Dropped())

	var onErr error
	sub = stream.Fail[int](errBoom).Subscribe(t.Context(), nil, stream.OnError(func(err error) { onErr = err }))
	<-sub.Done()
	assert.ErrorIs(t, sub.Err(), errBoom)
	assert.ErrorIs(t, onErr, errBoom)

	// Stop from inside next: no further call, Err nil.
	h := stream.NewHub[int]()
	var n int
	var s2 *stream.Subscription
	started := make(chan struct{})
	s2 = h.Stream().Subscribe(t.Context(), func(v int) {
		n++
		if v == 2 {
			s2.Stop()
		}
	})
	go func() { waitConsumers(t, h, 1); close(started) }()
	<-started
	for i := 1; i <= 10; i++ {
		h.Emit(i)
	}
	require.NoError(t, s2.Wait())
	assert.Equal(t, 2, n)
	assert.Equal(t, uint64(2), s2.Delivered())
	assert.Nil(t, s2.Err())
	waitConsumers(t, h, 0)
}

func TestSubscriptionErrBeforeDone(t *testing.T) {
	h := stream.NewHub[int]()
	sub := h.Stream().Subscribe(t.Context(), func(int) {})
	assert.Nil(t, sub.Err())
	h.Complete(errBoom)
	assert.ErrorIs(t, sub.Wait(), errBoom)
}
