package benchmarks

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	rx "github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// BenchmarkPool is workload 1 spread over 400 channels, received by one
// logical client: a source.Pool of 1 socket (400 channels on it) or 4
// sockets (100 each, Supabase's default max_channels_per_client). Each op
// is one burst of 120,000 change frames (100 cycles of a 1,200-frame ring,
// frame j on channel j mod 400), every socket written at once by its own
// server goroutine. consumer=socket: one AllChanges consumer per socket;
// consumer=pool: one PoolAllChanges consumer for the whole pool.
//
// framesrv cannot serve a pool (each of its connections must join every
// topic of its burst before it writes), so poolSource below is a minimal
// frame source that sends each connection the frames of the topics it
// joined, pre-encoded by bench/internal/frames like framesrv's.
//
//	go test -run '^$' -bench BenchmarkPool -benchtime 10x -count 5 ./bench/
func BenchmarkPool(b *testing.B) {
	const channels, cycles = 400, 100
	burst, err := frames.NewBurst(frames.V2, channels, frames.DefaultRing)
	if err != nil {
		b.Fatal(err)
	}
	for _, consumer := range []string{"socket", "pool"} {
		for _, sockets := range []int{1, 4} {
			b.Run(fmt.Sprintf("consumer=%s/sockets=%d", consumer, sockets), func(b *testing.B) {
				benchPool(b, burst, channels, sockets, cycles, consumer == "pool")
			})
		}
	}
}

func benchPool(b *testing.B, burst *frames.Burst, channels, sockets, cycles int, pooled bool) {
	src := startPoolSource(b, burst)
	ctx := timeout(b)
	p, err := rx.ConnectPool(ctx, src.endpoint(), rx.WithAPIKey("bench"),
		rx.WithChannelsPerSocket(channels/sockets), rx.WithJoinRate(1e6, channels))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.Close(context.Background()) }()
	chans := make([]*rx.Channel, channels)
	for i := range chans {
		if chans[i], err = p.Channel(frames.SubTopic(i, channels), rx.WithPostgresChanges(poolBinding)); err != nil {
			b.Fatal(err)
		}
	}
	if got := len(p.Sockets()); got != sockets {
		b.Fatalf("%d sockets, want %d", got, sockets)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		msgs, idSum     atomic.Int64
		firstAt, lastAt atomic.Int64
		target          atomic.Int64
		allIn           = make(chan struct{}, 1)
		wg              sync.WaitGroup
	)
	consume := func(s stream.Stream[postgres.Change[frames.Row]]) {
		changes := s.Observe(runCtx, stream.WithBuffer(1<<16))
		wg.Go(func() {
			for chg := range changes {
				now := time.Now().UnixNano()
				firstAt.CompareAndSwap(0, now)
				idSum.Add(chg.New.ID)
				lastAt.Store(now)
				if msgs.Add(1) == target.Load() {
					allIn <- struct{}{}
				}
			}
		})
	}
	if pooled {
		consume(rx.PoolAllChanges[frames.Row](p))
	} else {
		for _, c := range p.Sockets() {
			consume(rx.AllChanges[frames.Row](c))
		}
	}
	errs := make(chan error, channels)
	for _, ch := range chans {
		go func() { errs <- ch.Subscribe(ctx) }()
	}
	for range chans {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // PoolAllChanges picks the sockets up asynchronously

	n := cycles * burst.Len()
	var total int64
	var elapsed time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		msgs.Store(0)
		idSum.Store(0)
		firstAt.Store(0)
		target.Store(int64(n))
		src.send(cycles)
		select {
		case <-allIn:
		case <-time.After(time.Minute):
			b.Fatalf("%d of %d changes", msgs.Load(), n)
		}
		if want := burst.IDSum(n); idSum.Load() != want {
			b.Fatalf("id sum %d, want %d", idSum.Load(), want)
		}
		total += int64(n)
		elapsed += time.Duration(lastAt.Load() - firstAt.Load())
	}
	b.StopTimer()
	if elapsed > 0 {
		b.ReportMetric(float64(total)/elapsed.Seconds(), "msg/s")
	}
	cancel()
	wg.Wait()
}

// poolSource is a loopback Phoenix frame source for BenchmarkPool (vsn
// 2.0.0): it answers joins (echoing postgres_changes bindings with ids, as
// the server does), heartbeats and leaves, and on send writes to each
// connection the ring frames of the topics it joined.
type poolSource struct {
	ln    net.Listener
	burst *frames.Burst
	wg    sync.WaitGroup

	mu    sync.Mutex
	conns map[*poolConn]struct{}
}

type poolConn struct {
	nc     net.Conn
	wmu    sync.Mutex
	mu     sync.Mutex
	topics map[string]bool
}

func startPoolSource(b *testing.B, burst *frames.Burst) *poolSource {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &poolSource{ln: ln, burst: burst, conns: map[*poolConn]struct{}{}}
	s.wg.Go(s.accept)
	b.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			_ = c.nc.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *poolSource) endpoint() string { return "ws://" + s.ln.Addr().String() + "/socket" }

func (s *poolSource) accept() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &poolConn{nc: nc, topics: map[string]bool{}}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() {
			s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		})
	}
}

var (
	poolSer     = phoenix.NewV2()
	poolBinding = postgres.Binding{Event: postgres.Insert, Schema: frames.Schema, Table: frames.Table}
)

func (s *poolSource) serve(c *poolConn) {
	defer c.nc.Close()
	if _, err := ws.Upgrade(c.nc); err != nil {
		return
	}
	r := bufio.NewReader(c.nc)
	for {
		data, op, err := wsutil.ReadClientData(struct {
			io.Reader
			io.Writer
		}{r, (*lockedWriter)(c)}) // control replies (pong, close) take wmu
		if err != nil {
			return
		}
		var m phoenix.Message
		if op != ws.OpText || poolSer.Decode(&m, data, false) != nil {
			continue
		}
		resp := []byte(`{}`)
		switch m.Event {
		case phoenix.EventJoin:
			var jp struct {
				Config struct {
					PostgresChanges []map[string]any `json:"postgres_changes"`
				} `json:"config"`
			}
			_ = json.Unmarshal(m.Payload, &jp)
			bs := jp.Config.PostgresChanges
			if bs == nil {
				bs = []map[string]any{}
			}
			for i, b := range bs {
				b["id"] = frames.BindingID + int64(i)
			}
			resp, _ = json.Marshal(map[string]any{"postgres_changes": bs})
			c.mu.Lock()
			c.topics[m.Topic] = true
			c.mu.Unlock()
		case phoenix.EventHeartbeat, phoenix.EventLeave:
		default:
			continue
		}
		reply := phoenix.Message{JoinRef: m.JoinRef, Ref: m.Ref, Topic: m.Topic, Event: phoenix.EventReply,
			Payload: append(append([]byte(`{"status":"ok","response":`), resp...), '}')}
		frame, _, err := poolSer.Encode(nil, &reply)
		if err != nil {
			return
		}
		c.wmu.Lock()
		err = wsutil.WriteServerText(c.nc, frame)
		c.wmu.Unlock()
		if err != nil {
			return
		}
	}
}

type lockedWriter poolConn

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.nc.Write(p)
}

// send writes cycles ring cycles to every connection, each from its own
// goroutine, and returns once all is written.
func (s *poolSource) send(cycles int) {
	s.mu.Lock()
	conns := make([]*poolConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	topics := s.burst.Topics()
	var wg sync.WaitGroup
	for _, c := range conns {
		c.mu.Lock()
		var wire []byte
		for j := range s.burst.Len() {
			if c.topics[topics[j%len(topics)]] {
				wire = append(wire, s.burst.Wire(j, j+1)...)
			}
		}
		c.mu.Unlock()
		if len(wire) == 0 {
			continue
		}
		wg.Go(func() {
			c.wmu.Lock()
			defer c.wmu.Unlock()
			for range cycles {
				if _, err := c.nc.Write(wire); err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
}
