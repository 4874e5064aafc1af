package workload

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/framesrv"
	rx "github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/stream"
)

func startSource(t *testing.T) *framesrv.Server {
	t.Helper()
	s, err := framesrv.Start(framesrv.WithRing(64))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestFloorDecodesEveryFrame(t *testing.T) {
	src := startSource(t)
	for _, d := range Decoders {
		for _, v := range []frames.Vsn{frames.V1, frames.V2} {
			for _, ch := range []int{1, 3} {
				spec := Spec{Endpoint: src.Endpoint(), Vsn: v, Frames: 500, Channels: ch}
				r, err := Floor(d).Run(ctxFor(t), spec)
				require.NoError(t, err, "%s %s %d", d.Name, v, ch)
				b, err := src.Burst(v, ch)
				require.NoError(t, err)
				assert.NoError(t, Check(spec, b, r))
				assert.True(t, r.Decoded)
				assert.Positive(t, r.Rate())
			}
		}
	}
	assert.Equal(t, "floor/goccy", Floor(GoccyJSON).Name())
}

func TestSourceProbeCountsWithoutDecoding(t *testing.T) {
	src := startSource(t)
	for _, v := range []frames.Vsn{frames.V1, frames.V2} {
		spec := Spec{Endpoint: src.Endpoint(), Vsn: v, Frames: 1000, Channels: 2}
		r, err := Source().Run(ctxFor(t), spec)
		require.NoError(t, err)
		assert.False(t, r.Decoded)
		assert.Zero(t, r.IDSum)
		b, _ := src.Burst(v, 2)
		assert.NoError(t, Check(spec, b, r))
	}
	assert.Equal(t, "source", Source().Name())
}

func TestClassifyIgnoresPayloadMentions(t *testing.T) {
	reply2 := `["1","1","realtime:bench","phx_reply",{"status":"ok","response":{"postgres_changes":[{"id":1}]}}]`
	sys2 := `["1",null,"realtime:bench","system",{"channel":"bench","extension":"postgres_changes","message":"x"}]`
	assert.Empty(t, classify(frames.V2, []byte(reply2)))
	assert.Empty(t, classify(frames.V2, []byte(sys2)))
	assert.Equal(t, frames.Event, classify(frames.V2, frames.AppendChange(nil, frames.V2, "realtime:bench", &frames.Rows(1)[0])))
	assert.Equal(t, frames.BroadcastEvent, classify(frames.V2, frames.AppendDone(nil, frames.V2, "realtime:bench", 1)))
	reply1 := `{"topic":"realtime:bench","event":"phx_reply","payload":{"status":"ok","response":{"postgres_changes":[]}},"ref":"1"}`
	assert.Empty(t, classify(frames.V1, []byte(reply1)))
	assert.Equal(t, frames.Event, classify(frames.V1, frames.AppendChange(nil, frames.V1, "realtime:bench", &frames.Rows(1)[0])))
	assert.Equal(t, frames.BroadcastEvent, classify(frames.V1, frames.AppendDone(nil, frames.V1, "realtime:bench", 1)))
}

func TestCheckCatchesMissingMessagesAndBadChecksums(t *testing.T) {
	b, err := frames.NewBurst(frames.V2, 1, 8)
	require.NoError(t, err)
	spec := Spec{Frames: 10, Pipelines: 2}
	ok := Result{Msgs: 20, IDSum: 2 * b.IDSum(10), Decoded: true}
	require.NoError(t, Check(spec, b, ok))
	short := ok
	short.Msgs--
	assert.ErrorIs(t, Check(spec, b, short), ErrMismatch)
	bad := ok
	bad.IDSum++
	assert.ErrorIs(t, Check(spec, b, bad), ErrMismatch)
	bad.Decoded = false
	assert.NoError(t, Check(spec, b, bad), "checksum only checked for decoding runners")
	assert.Zero(t, Result{Msgs: 1}.Rate())
}

func TestSpecURL(t *testing.T) {
	s := Spec{Endpoint: "ws://h/socket", Vsn: frames.V2, Frames: 7}
	assert.Equal(t, "ws://h/socket/websocket?channels=1&n=7&vsn=2.0.0", s.URL())
	assert.Equal(t, Spec{Endpoint: "e", Channels: 1, Pipelines: 1}, Spec{Endpoint: "e"}.Norm())
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	src := startSource(t)
	spec := Spec{Endpoint: src.Endpoint(), Vsn: frames.V2, Frames: 0}
	for _, r := range []Runner{Source(), Floor(StdJSON)} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := r.Run(ctx, spec)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "%s: no burst for n=0: the run waits until ctx ends", r.Name())
	}
}

// TestRxRealtimeRunsOrIsNotReady holds whether or not the client is plugged
// in: the runner either says ErrNotReady or delivers every change.
func TestRxRealtimeRunsOrIsNotReady(t *testing.T) {
	src := startSource(t)
	r := RxRealtime()
	assert.Equal(t, "rxrealtime", r.Name())
	for _, v := range []frames.Vsn{frames.V1, frames.V2} {
		spec := Spec{Endpoint: src.Endpoint(), Vsn: v, Frames: 500, Channels: 2, Pipelines: 2}
		res, err := r.Run(ctxFor(t), spec)
		if errors.Is(err, ErrNotReady) {
			t.Skip(err)
		}
		require.NoError(t, err, v)
		b, err := src.Burst(v, 2)
		require.NoError(t, err)
		assert.NoError(t, Check(spec, b, res), v)
	}
}

func TestFloorSenderDeliversEveryBroadcast(t *testing.T) {
	src := startSource(t)
	for i, v := range []frames.Vsn{frames.V1, frames.V2} {
		require.NoError(t, FloorSender().Send(ctxFor(t), src.Endpoint(), v, 300))
		require.NoError(t, src.WaitBroadcasts(ctxFor(t), int64(300*(i+1))))
	}
	assert.Zero(t, src.Stats().BadMessages)
}

func TestFloorJoinerRejoinsAfterDrop(t *testing.T) {
	src := startSource(t)
	sess, err := FloorJoiner().Join(ctxFor(t), src.Endpoint(), frames.V2, 50)
	require.NoError(t, err)
	assert.Equal(t, int64(50), src.Stats().Joins)
	for round := 2; round <= 3; round++ {
		assert.Equal(t, 1, src.DropAll())
		require.NoError(t, src.WaitJoins(ctxFor(t), int64(50*round)))
	}
	require.NoError(t, sess.Close())
	require.NoError(t, sess.Close(), "Close is idempotent")
	assert.Zero(t, src.Stats().BadMessages)
}

func TestAppendMessageIsValidJSON(t *testing.T) {
	v1 := appendMessage(nil, frames.V1, "1", "2", "realtime:a", "phx_join", []byte(joinPayload))
	var o map[string]any
	require.NoError(t, json.Unmarshal(v1, &o))
	assert.Equal(t, "1", o["join_ref"])
	assert.Equal(t, "2", o["ref"])
	hb := appendMessage(nil, frames.V1, "", "3", "phoenix", "heartbeat", []byte(`{}`))
	require.NoError(t, json.Unmarshal(hb, &o))
	var a []any
	require.NoError(t, json.Unmarshal(appendMessage(nil, frames.V2, "", "4", "phoenix", "heartbeat", []byte(`{}`)), &a))
	assert.Equal(t, []any{nil, "4", "phoenix", "heartbeat", map[string]any{}}, a)
}

func TestDecodersAgreeWithEncodingJSON(t *testing.T) {
	for _, v := range []frames.Vsn{frames.V1, frames.V2} {
		b, err := frames.NewBurst(v, 1, 256)
		require.NoError(t, err)
		for _, d := range Decoders {
			for j := range b.Len() {
				if v == frames.V1 {
					var got, want frames.V1Frame
					require.NoError(t, d.Unmarshal(b.Text(j), &got), d.Name)
					require.NoError(t, json.Unmarshal(b.Text(j), &want))
					require.Equal(t, want, got, d.Name)
					continue
				}
				e, err := frames.SplitV2(b.Text(j))
				require.NoError(t, err)
				var got, want frames.Payload
				require.NoError(t, d.Unmarshal(e.Payload, &got), d.Name)
				require.NoError(t, json.Unmarshal(e.Payload, &want))
				require.Equal(t, want, got, d.Name)
			}
		}
	}
}

func TestPacedRunReportsLatencies(t *testing.T) {
	src := startSource(t)
	for _, r := range []Runner{Floor(GoccyJSON), RxRealtime()} {
		for _, v := range []frames.Vsn{frames.V1, frames.V2} {
			spec := Spec{Endpoint: src.Endpoint(), Vsn: v, Frames: 200, Rate: 2000}
			start := time.Now()
			res, err := r.Run(ctxFor(t), spec)
			require.NoError(t, err, "%s %s", r.Name(), v)
			b, err := src.Burst(v, 1)
			require.NoError(t, err)
			require.NoError(t, Check(spec, b, res))
			// 200 frames at 2,000/s take 100 ms: the source paced them.
			assert.GreaterOrEqual(t, time.Since(start), 95*time.Millisecond, r.Name())
			require.NotNil(t, res.Latency, r.Name())
			l := res.Latency
			assert.Positive(t, l.P50)
			assert.True(t, l.P50 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max, "%+v", *l)
			assert.Less(t, l.P50, 5*time.Second, "latencies are measured from the write, not from a fixed stamp")
		}
	}
	res, err := Floor(GoccyJSON).Run(ctxFor(t), Spec{Endpoint: src.Endpoint(), Vsn: frames.V2, Frames: 50})
	require.NoError(t, err)
	assert.Nil(t, res.Latency, "an unpaced run reports no latencies")
}

func TestSummarize(t *testing.T) {
	assert.Nil(t, Summarize(nil))
	xs := make([]time.Duration, 1000)
	for i := range xs {
		xs[len(xs)-1-i] = time.Duration(i+1) * time.Microsecond
	}
	l := Summarize(xs)
	assert.Equal(t, Latency{P50: 500 * time.Microsecond, P99: 990 * time.Microsecond, P999: 999 * time.Microsecond, Max: 1000 * time.Microsecond}, *l)
}

// RxRealtimeWith names itself, delivers with the options it was given, and accounts for what it lost:
// with the defaults every change arrives; with a mailbox of one that never waits, every change arrives or
// is counted as dropped.
func TestRxRealtimeWithAccountsForDrops(t *testing.T) {
	src := startSource(t)
	spec := Spec{Endpoint: src.Endpoint(), Vsn: frames.V2, Frames: 2000}
	b, err := src.Burst(frames.V2, 1)
	require.NoError(t, err)

	r := RxRealtimeWith("defaults", nil)
	assert.Equal(t, "defaults", r.Name())
	res, err := r.Run(ctxFor(t), spec)
	require.NoError(t, err)
	assert.NoError(t, Check(spec, b, res))
	assert.Zero(t, res.Dropped)

	res, err = RxRealtimeWith("tiny", []rx.Option{rx.WithConsumerWait(0, 0)}, stream.WithBuffer(1)).Run(ctxFor(t), spec)
	require.NoError(t, err)
	assert.Equal(t, spec.Frames, res.Msgs+res.Dropped, "every change delivered or dropped")
}

// The stall workload makes every round trip, and a stalled consumer is reported with the time the reader
// waited for it; without the stall nothing is reported.
func TestStallReportsTheStalledConsumer(t *testing.T) {
	src := startSource(t)
	for _, tc := range []struct {
		stall bool
		// 50,000 changes a second fill the stalled consumer's mailbox in about 20 ms, long before the round
		// trips are done; 1,000 a second are few enough for the reading consumer to keep up under -race.
		rate int
	}{{false, 2000}, {true, 100_000}} {
		res, err := Stall(ctxFor(t), StallSpec{Endpoint: src.Endpoint(), Vsn: frames.V2, Rate: tc.rate,
			RoundTrips: 2000, Stall: tc.stall})
		require.NoError(t, err)
		assert.Len(t, res.RTT, 2000)
		if !tc.stall {
			assert.Zero(t, res.Slow, "a consumer that reads is not slow")
			continue
		}
		assert.Equal(t, uint64(1), res.Slow, "one stop, one report")
		assert.Positive(t, res.Waited)
		assert.NotZero(t, res.Dropped)
	}
}
