// Package phxrunner runs the benchmark's receive workload with
// github.com/nshafer/phx, the most complete Go Phoenix Channels client, as a
// Go team would use it for Supabase Realtime today (see
// /work/shared/notes/go-peers.md): connect, join, On("postgres_changes"),
// and turn each payload into a frames.Row by hand.
package phxrunner

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nshafer/phx"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

// ErrPayload is returned when a postgres_changes payload does not have the
// shape of a frames.Row change.
var ErrPayload = errors.New("phxrunner: unexpected postgres_changes payload")

// Runner returns the nshafer/phx runner.
//
// phx v0.2.0 takes join params as map[string]string, so it cannot send the
// nested postgres_changes config; the frame source delivers the burst
// anyway. phx decodes every message into map[string]any with encoding/json
// and calls each callback in a goroutine of its own, so callbacks race and
// arrive out of order; the runner counts atomically and converts each
// payload to a frames.Row with the cheapest hand-written conversion (type
// switches, no re-marshalling). Pipelines is not supported (1 is assumed).
func Runner() workload.Runner { return runner{} }

type runner struct{}

func (runner) Name() string { return "phx" }

func (runner) Run(ctx context.Context, s workload.Spec) (workload.Result, error) {
	s = s.Norm()
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		return workload.Result{}, fmt.Errorf("phxrunner: endpoint: %w", err)
	}
	u.RawQuery = s.Params().Encode()
	sock := phx.NewSocket(u)
	if s.Vsn == frames.V1 {
		sock.Serializer = phx.NewJSONSerializerV1()
	}
	if err := sock.Connect(); err != nil {
		return workload.Result{}, fmt.Errorf("phxrunner: connect: %w", err)
	}
	defer sock.Disconnect()

	c := &counter{want: int64(s.Frames), done: make(chan struct{})}
	var joinErr atomic.Value
	for i := range s.Channels {
		ch := sock.Channel(frames.Topic(i, s.Channels), nil)
		ch.On(frames.Event, c.change)
		if i == 0 {
			ch.On(frames.BroadcastEvent, func(any) { c.sentinel() })
		}
		join, err := joinWhenConnected(ctx, ch)
		if err != nil {
			return workload.Result{}, err
		}
		join.Receive("error", func(r any) { joinErr.Store(fmt.Errorf("phxrunner: join refused: %v", r)) })
		join.Receive("timeout", func(any) { joinErr.Store(errors.New("phxrunner: join timed out")) })
	}
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-c.done:
			if err := c.failed(); err != nil {
				return workload.Result{}, err
			}
			return c.result(), nil
		case <-ctx.Done():
			return c.result(), ctx.Err()
		case <-ticker.C:
			if err, _ := joinErr.Load().(error); err != nil {
				return c.result(), err
			}
		}
	}
}

// joinWhenConnected joins once phx accepts it (Join fails until the
// socket is at least connecting).
func joinWhenConnected(ctx context.Context, ch *phx.Channel) (*phx.Push, error) {
	for {
		join, err := ch.Join()
		if err == nil {
			return join, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("phxrunner: join: %w (%v)", ctx.Err(), err)
		case <-time.After(time.Millisecond):
		}
	}
}

// counter collects changes from concurrent callbacks.
type counter struct {
	want    int64
	msgs    atomic.Int64
	idSum   atomic.Int64
	first   atomic.Int64 // unix nanos of the first change
	last    atomic.Int64 // unix nanos of the change that completed the count
	gotDone atomic.Bool
	err     atomic.Value
	once    sync.Once
	done    chan struct{}
}

func (c *counter) change(payload any) {
	row, err := rowOf(payload)
	if err != nil {
		c.err.CompareAndSwap(nil, err)
		c.finish()
		return
	}
	now := time.Now().UnixNano()
	c.first.CompareAndSwap(0, now)
	c.idSum.Add(row.ID)
	if c.msgs.Add(1) == c.want {
		c.last.Store(now)
		if c.gotDone.Load() {
			c.finish()
		}
	}
}

func (c *counter) sentinel() {
	c.gotDone.Store(true)
	if c.msgs.Load() >= c.want {
		if c.last.Load() == 0 {
			c.last.Store(time.Now().UnixNano())
		}
		c.finish()
	}
}

func (c *counter) finish() { c.once.Do(func() { close(c.done) }) }

func (c *counter) failed() error {
	err, _ := c.err.Load().(error)
	return err
}

func (c *counter) result() workload.Result {
	r := workload.Result{Msgs: int(c.msgs.Load()), IDSum: c.idSum.Load(), Decoded: true}
	if first, last := c.first.Load(), c.last.Load(); first != 0 && last >= first {
		r.Elapsed = time.Duration(last - first)
	}
	return r
}

// rowOf converts a decoded postgres_changes payload to a frames.Row.
func rowOf(payload any) (frames.Row, error) {
	var r frames.Row
	p, _ := payload.(map[string]any)
	data, _ := p["data"].(map[string]any)
	rec, ok := data["record"].(map[string]any)
	if !ok {
		return r, fmt.Errorf("%w: no data.record", ErrPayload)
	}
	id, ok1 := rec["id"].(float64)
	likes, ok2 := rec["likes"].(float64)
	var ok3, ok4, ok5, ok6, ok7 bool
	r.RoomID, ok3 = rec["room_id"].(string)
	r.AuthorID, ok4 = rec["author_id"].(string)
	r.Body, ok5 = rec["body"].(string)
	r.Pinned, ok6 = rec["pinned"].(bool)
	created, ok7 := rec["created_at"].(string)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return r, fmt.Errorf("%w: record fields", ErrPayload)
	}
	r.ID, r.Likes = int64(id), int32(likes)
	var err error
	if r.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return r, fmt.Errorf("%w: created_at: %v", ErrPayload, err)
	}
	meta, ok := rec["meta"].(map[string]any)
	if !ok {
		return r, fmt.Errorf("%w: meta", ErrPayload)
	}
	r.Meta.Client, _ = meta["client"].(string)
	r.Meta.Edited, _ = meta["edited"].(bool)
	mentions, _ := meta["mentions"].([]any)
	r.Meta.Mentions = make([]string, 0, len(mentions))
	for _, m := range mentions {
		s, ok := m.(string)
		if !ok {
			return r, fmt.Errorf("%w: mentions", ErrPayload)
		}
		r.Meta.Mentions = append(r.Meta.Mentions, s)
	}
	return r, nil
}
