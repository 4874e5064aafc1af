package source_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rxrealtime/rxrealtime/source"
)

// Close ends what the user waits on at once, with ErrClosed: pushes, acked sends, Track, a Subscribe still
// joining, an acked Send buffered until its join. (Found by a review: they failed with ErrConnectionLost,
// and only when Close's ctx ran out waiting for leave replies that never came.) An unacknowledged Send
// buffered until the join returned at once; Close reports it unsent.
func TestCloseFailsCallsInFlightWithErrClosed(t *testing.T) {
	s := newServer(t)
	c, err := source.Connect(waitCtx(t), s.URL(), fast(source.WithPushTimeout(30*time.Second))...)
	require.NoError(t, err)
	ctx := waitCtx(t)
	joined, err := c.Channel("joined", source.WithBroadcastAck())
	require.NoError(t, err)
	require.NoError(t, joined.Subscribe(ctx))
	s.Faults().DropReplies(true) // nothing will ever be answered
	joining, err := c.Channel("joining", source.WithBroadcastAck())
	require.NoError(t, err)
	var reported reported
	errsDone := make(chan struct{})
	go func() {
		defer close(errsDone)
		for err := range c.Errors().Observe(ctx) {
			reported.add(err)
		}
	}()

	calls := map[string]func() error{
		"Subscribe":    func() error { return joining.Subscribe(ctx) },
		"acked Send":   func() error { return joined.Send(ctx, "e", 1) },
		"Send joining": func() error { return joining.Send(ctx, "e", 1) },
		"Client.Push":  func() error { _, err := c.Push(ctx, joined.Topic(), "x", nil); return err },
		"Channel.Push": func() error { _, err := joined.Push(ctx, "x", nil); return err },
		"Track":        func() error { return joined.Track(ctx, map[string]int{"a": 1}) },
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]error{}
	names := []string{"Subscribe", "acked Send", "Send joining", "Client.Push", "Channel.Push", "Track"}
	for i, name := range names {
		call := calls[name]
		if i == 1 {
			time.Sleep(50 * time.Millisecond) // Subscribe first: "Send joining" waits for that join
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := call()
			mu.Lock()
			results[name] = err
			mu.Unlock()
		}()
	}
	time.Sleep(100 * time.Millisecond) // all in flight
	require.NoError(t, joining.Send(ctx, "unacked", 1, source.NoReply()), "buffered until the join")

	closeCtx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_ = c.Close(closeCtx) // the leaves get no reply: Close may wait for its ctx, the calls must not
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("calls still in flight after Close")
	}
	mu.Lock()
	defer mu.Unlock()
	for name, err := range results {
		assert.ErrorIs(t, err, source.ErrClosed, "%s: %v", name, err)
	}
	assert.Less(t, time.Since(start), time.Second)
	_, err = c.Push(ctx, joined.Topic(), "x", nil)
	assert.ErrorIs(t, err, source.ErrClosed, "after Close")
	<-errsDone // the error stream completes when the client has stopped
	found := false
	for _, e := range reported.all() {
		var unsent *source.UnsentError
		if errors.As(e, &unsent) && unsent.Event == "unacked" {
			found = true
			assert.ErrorIs(t, e, source.ErrClosed)
		}
	}
	assert.True(t, found, "the buffered unacknowledged Send is reported unsent: %v", reported.all())
}

// A closed client sends nothing over REST either, and leaves no HTTP keep-alive goroutine behind.
func TestRESTAfterCloseAndNoLeftoverGoroutines(t *testing.T) {
	s := newServer(t)
	before := goleak.IgnoreCurrent()
	c, err := source.Connect(waitCtx(t), s.URL(), fast()...)
	require.NoError(t, err)
	ctx := waitCtx(t)
	ch, err := c.Channel("room")
	require.NoError(t, err)
	require.NoError(t, ch.Send(ctx, "e", 1, source.ViaRESTIfNotJoined()), "over REST while not joined")
	require.Len(t, s.RESTRequests(), 1)
	require.NoError(t, c.Close(ctx))

	err = ch.Send(ctx, "e", 1, source.ViaRESTIfNotJoined())
	assert.ErrorIs(t, err, source.ErrChannelClosed)
	assert.ErrorIs(t, err, source.ErrClosed)
	_, err = c.REST()
	assert.ErrorIs(t, err, source.ErrClosed)
	assert.Len(t, s.RESTRequests(), 1, "nothing sent after Close")
	assert.NoError(t, goleak.Find(before), "no goroutine of the client, REST keep-alives included, after Close")

	s.Faults().Stop()
	c2, err := source.New(s.URL(), fast()...)
	require.NoError(t, err)
	ch2, err := c2.Channel("room")
	require.NoError(t, err)
	err = ch2.Send(ctx, "e", 1, source.ViaRESTIfNotJoined())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rxrealtime: send \"e\" on \"realtime:room\" over REST", "REST failures say rxrealtime and where")
	require.NoError(t, c2.Close(ctx))
	assert.False(t, errors.Is(err, source.ErrClosed))
}

// A send loop that Close interrupts ends with ErrClosed, never with "call Subscribe before pushing": Close
// leaving the channel is the cause. (Found by a user-style program: the loop's last error blamed the user.)
func TestCloseDuringASendLoopSaysClosed(t *testing.T) {
	for range 20 {
		s := newServer(t)
		c, err := source.Connect(waitCtx(t), s.URL(), fast()...)
		require.NoError(t, err)
		ch, err := c.Channel("room")
		require.NoError(t, err)
		require.NoError(t, ch.Subscribe(waitCtx(t)))
		loop := make(chan error, 1)
		go func() {
			for {
				if err := ch.Send(context.Background(), "e", 1); err != nil {
					loop <- err
					return
				}
			}
		}()
		time.Sleep(5 * time.Millisecond)
		require.NoError(t, c.Close(waitCtx(t)))
		err = <-loop
		require.ErrorIs(t, err, source.ErrClosed)
		assert.NotErrorIs(t, err, source.ErrNotJoined)
	}
}

// Subscribe, Send and Push on a channel of a closed client say the client closed (found by a user-style
// program: Subscribe after Close said only "channel closed").
func TestCallsAfterCloseSayClosed(t *testing.T) {
	s := newServer(t)
	c, err := source.Connect(waitCtx(t), s.URL(), fast()...)
	require.NoError(t, err)
	ch, err := c.Channel("room")
	require.NoError(t, err)
	require.NoError(t, ch.Subscribe(waitCtx(t)))
	require.NoError(t, c.Close(waitCtx(t)))
	calls := map[string]func() error{
		"Subscribe": func() error { return ch.Subscribe(waitCtx(t)) },
		"Send":      func() error { return ch.Send(waitCtx(t), "e", 1) },
		"Push":      func() error { _, err := ch.Push(waitCtx(t), "e", nil); return err },
	}
	for name, call := range calls {
		err := call()
		assert.ErrorIs(t, err, source.ErrClosed, name)
		assert.ErrorIs(t, err, source.ErrChannelClosed, name)
	}
}
