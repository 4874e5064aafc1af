package benchmarks

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
)

// presenceKeys is the width of the presence_state of issue 18.
const presenceKeys = 100_000

// BenchmarkPresenceState measures what a wide presence_state (100,000 keys,
// one small meta each, 5.0 MB) costs the client: the peak of the heap
// while the socket's reader handles it, and how long until the reader has
// handled the next frame. One op sends the state and then a broadcast
// (the mark) on the same socket, and ends when the mark is delivered; an
// empty state sent between ops, outside the timer, makes every op the
// channel's first state.
//
//   - unrouted: the same frame on a topic nobody joined, so only reading it
//     off the socket (and the embedded server writing it) counts: the
//     baseline to subtract from the rows below;
//   - state: a channel joined without presence, no presence listener;
//   - listener: a presence listener that decodes metas into a struct, the
//     op also waiting for its sync.
//
// Metrics: peak-MB is the largest growth of the heap's objects over the
// op (sampled every 200 µs, after a GC), peak/frame the same in frames,
// alloc-MB the bytes allocated by the whole process, and ms/frame the wall
// time from sending the state to the mark's delivery.
//
// metas=20000/state is the other shape a server can make expensive: one
// key with 20,000 metas, each op a state whose 20,000 metas are all new
// (20,000 leaves and joins on one key); the states alternate, so no reset.
func BenchmarkPresenceState(b *testing.B) {
	payload := presenceStatePayload(presenceKeys)
	for _, mode := range []string{"unrouted", "state", "listener"} {
		b.Run(fmt.Sprintf("keys=%d/%s", presenceKeys, mode), func(b *testing.B) {
			benchPresenceState(b, mode, []string{payload}, "{}")
		})
	}
	b.Run(fmt.Sprintf("metas=%d/state", presenceMetas), func(b *testing.B) {
		benchPresenceState(b, "state", []string{oneKeyPayload(presenceMetas, "A"), oneKeyPayload(presenceMetas, "B")}, "")
	})
}

// presenceMetas is the metas of one key in metas=N/state.
const presenceMetas = 20_000

type presenceMeta struct {
	N int `json:"n"`
}

// benchPresenceState sends states[i%len(states)] in op i, then reset (if
// any) outside the timer.
func benchPresenceState(b *testing.B, mode string, states []string, reset string) {
	s := realtimetest.NewServer()
	b.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	b.Cleanup(cancel)
	c, err := source.Connect(ctx, s.URL(), source.WithAPIKey("anon-key"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close(context.Background()) })
	ch, err := c.Channel("lobby")
	if err != nil {
		b.Fatal(err)
	}
	marks := make(chan struct{}, 1)
	subCtx, stop := context.WithCancel(ctx)
	var subs []interface{ Done() <-chan struct{} }
	b.Cleanup(func() {
		stop()
		for _, s := range subs {
			<-s.Done()
		}
	})
	subs = append(subs, source.Broadcasts[json.RawMessage](ch, "mark").Subscribe(subCtx,
		func(source.Broadcast[json.RawMessage]) { marks <- struct{}{} }))
	var syncs atomic.Int64
	if mode == "listener" {
		// Block: the listener loses no event (the socket's hub still never
		// waits; the listener's mailbox grows instead).
		subs = append(subs, source.PresenceEvents[presenceMeta](ch).Subscribe(subCtx, func(ev presence.Event[presenceMeta]) {
			if ev.Kind == presence.Sync {
				syncs.Add(1)
			}
		}, stream.Block()))
	}
	if err := ch.Subscribe(ctx); err != nil {
		b.Fatal(err)
	}
	var joinRef string
	for _, f := range s.Frames() {
		if f.Msg.Topic == "realtime:lobby" && f.Msg.Event == "phx_join" {
			joinRef = f.Msg.JoinRef
		}
	}
	topic := "realtime:lobby"
	if mode == "unrouted" {
		topic = "realtime:nobody"
	}
	frames := make([][]byte, len(states))
	for i, p := range states {
		frames[i] = v2Frame(joinRef, topic, "presence_state", p)
	}
	resetFrame := v2Frame(joinRef, topic, "presence_state", reset)
	mark := v2Frame(joinRef, "realtime:lobby", "broadcast", `{"type":"broadcast","event":"mark","payload":{}}`)
	awaitMark := func() {
		select {
		case <-marks:
		case <-time.After(time.Minute):
			b.Fatal("the mark did not arrive")
		}
	}
	awaitSyncs := func(want int64) {
		deadline := time.Now().Add(time.Minute)
		for mode == "listener" && syncs.Load() < want {
			if time.Now().After(deadline) {
				b.Fatal("the listener's sync did not arrive")
			}
			time.Sleep(100 * time.Microsecond)
		}
	}

	awaitSyncs(1) // the listener turned presence on: the server's own (empty) state
	if reset == "" {
		// The states alternate: start from the last one.
		s.Faults().SendRaw(frames[len(frames)-1], false)
		s.Faults().SendRaw(mark, false)
		awaitMark()
	}

	var peak, alloc, elapsed float64
	ops := 0
	b.ResetTimer()
	for b.Loop() {
		state := frames[ops%len(frames)]
		ops++
		b.StopTimer()
		want := syncs.Load() + 1
		runtime.GC()
		base, total0 := heapObjects(), totalAlloc()
		sampler := sampleHeap(200 * time.Microsecond)
		b.StartTimer()

		start := time.Now()
		s.Faults().SendRaw(state, false)
		s.Faults().SendRaw(mark, false)
		awaitMark()
		elapsed += float64(time.Since(start))
		awaitSyncs(want)

		b.StopTimer()
		peak += float64(sampler() - base)
		alloc += float64(totalAlloc() - total0)
		if reset != "" {
			s.Faults().SendRaw(resetFrame, false)
			s.Faults().SendRaw(mark, false)
			awaitMark()
			awaitSyncs(want + 1)
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(peak/n/1e6, "peak-MB")
	b.ReportMetric(peak/n/float64(len(states[0])), "peak/frame")
	b.ReportMetric(alloc/n/1e6, "alloc-MB")
	b.ReportMetric(elapsed/n/1e6, "ms/frame")
}

// presenceStatePayload is a presence_state of n keys with one small meta
// each, 50 bytes a key (5.0 MB for 100,000 keys, as in issue 18).
func presenceStatePayload(n int) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"u%05d":{"metas":[{"phx_ref":"F%07d","n":%d}]}`, i, i, i%10)
	}
	sb.WriteByte('}')
	return sb.String()
}

// oneKeyPayload is a presence_state of one key with n metas, their refs
// prefixed by prefix.
func oneKeyPayload(n int, prefix string) string {
	var sb strings.Builder
	sb.WriteString(`{"crowd":{"metas":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"phx_ref":"%s%07d","n":%d}`, prefix, i, i%10)
	}
	sb.WriteString(`]}}`)
	return sb.String()
}

// v2Frame renders a vsn 2.0.0 text frame without a ref.
func v2Frame(joinRef, topic, event, payload string) []byte {
	return []byte(`["` + joinRef + `",null,"` + topic + `","` + event + `",` + payload + `]`)
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// heapObjects returns the bytes of heap objects, live or not yet swept.
func heapObjects() uint64 {
	metrics.Read(heapSample)
	return heapSample[0].Value.Uint64()
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// sampleHeap samples heapObjects every d until the returned function is
// called, which returns the largest sample.
func sampleHeap(d time.Duration) func() uint64 {
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				metrics.Read(s)
				result <- max(peak, s[0].Value.Uint64())
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-result
	}
}
