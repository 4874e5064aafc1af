package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"pgregory.net/rapid"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport"
)

// The network-failure property test: random schedules of server faults interleaved with user operations,
// each run in virtual time (testing/synctest) over the test server's in-memory pipe. After the schedule the
// faults stop, and the invariants of the stream contract must hold:
//
//   - every push and acked send resolves exactly once (reply, error or UnsentError), none past its ctx;
//   - each consumer sees its channel's broadcasts in order, without duplicates;
//   - every channel neither unsubscribed nor closed by the server is SUBSCRIBED again within the backoff
//     bound;
//   - a consumer that stalls delays another channel's traffic once, by the client's consumer wait at most
//     (source.DefaultConsumerWait);
//   - a message larger than the client's frame limit is refused before it is queued (MessageTooLargeError);
//   - a frame the server closed the socket for (1009, 1007 or 1003, by the schedule) is never sent again
//     once the client has that close: a poisoned message reaches the server again only after a session
//     that ended otherwise (a fault that drops or closes the socket can beat the server's close), and
//     never keeps another channel down;
//   - Subscribe ends within its ctx, or at the first permanent refusal (a *JoinError that says so);
//   - Close returns within its ctx; every stream has completed; no goroutine is left (synctest.Test fails
//     if one is still running when the bubble ends).
//
// The number of schedules is rapid's -rapid.checks (200 here unless set), or RXREALTIME_SCHEDULES.

type opKind int

const (
	opSubscribe opKind = iota
	opUnsubscribe
	opSendAck
	opPushNoReply
	opTrack
	opStall
	opResume
	opEmit
	opDrop
	opHalfOpen
	opRestart
	opCloseCode
	opDelayReplies
	opDropReplies
	opRejectJoins
	opCrash
	opShutdown
	opDropMidFlush
	opExpireTokens
	opHeal
	opOversize
	opPoison
	opRejectForGood
	numOps
)

var opNames = [...]string{"subscribe", "unsubscribe", "send-ack", "push-noreply", "track", "stall", "resume",
	"emit", "drop", "half-open", "restart", "close-code", "delay-replies", "drop-replies", "reject-joins",
	"crash", "shutdown", "drop-mid-flush", "expire-tokens", "heal", "oversize", "poison", "reject-for-good"}

type step struct {
	op    opKind
	ch    int           // channel index
	code  int           // close code for opCloseCode
	pause time.Duration // virtual time after the step
}

func (s step) String() string {
	return fmt.Sprintf("%s(ch%d,%d)+%v", opNames[s.op], s.ch, s.code, s.pause)
}

const propChannels = 3

// poisonCodes are the close codes a schedule's server may close a socket with for a frame it will not
// take; one is drawn per schedule.
var poisonCodes = []transport.StatusCode{transport.StatusMessageTooBig, transport.StatusInvalidPayload, transport.StatusUnsupportedData}

func drawSchedule(t *rapid.T) []step {
	n := rapid.IntRange(1, 30).Draw(t, "steps")
	steps := make([]step, n)
	for i := range steps {
		steps[i] = step{
			op:    opKind(rapid.IntRange(0, int(numOps)-1).Draw(t, "op")),
			ch:    rapid.IntRange(0, propChannels-1).Draw(t, "ch"),
			code:  rapid.SampledFrom([]int{1001, 1011, 1012}).Draw(t, "code"),
			pause: time.Duration(rapid.IntRange(0, 3000).Draw(t, "pauseMs")) * time.Millisecond,
		}
	}
	return steps
}

func TestPropertyNetworkFailures(t *testing.T) {
	if f := flag.Lookup("rapid.checks"); f != nil && !isFlagSet("rapid.checks") {
		checks := "200"
		if v := os.Getenv("RXREALTIME_SCHEDULES"); v != "" {
			if _, err := strconv.Atoi(v); err == nil {
				checks = v
			}
		}
		_ = f.Value.Set(checks)
		defer func() { _ = f.Value.Set("100") }()
	}
	rapid.Check(t, func(rt *rapid.T) {
		steps := drawSchedule(rt)
		poison := rapid.SampledFrom(poisonCodes).Draw(rt, "poison")
		var problems []string
		synctest.Test(t, func(t *testing.T) {
			problems = runSchedule(steps, poison)
		})
		if len(problems) > 0 {
			rt.Fatalf("schedule %v:\n%v", steps, problems)
		}
	})
}

// stateLog records a client's connection state changes.
type stateLog struct {
	mu      sync.Mutex
	changes []source.StateChange
}

func recordStates(ctx context.Context, c *source.Client) *stateLog {
	l := &stateLog{}
	go func() {
		for sc := range c.States().Observe(ctx) {
			l.mu.Lock()
			l.changes = append(l.changes, sc)
			l.mu.Unlock()
		}
	}()
	return l
}

// endOfSessionAt returns why the session open at t ended: the cause of the first end after the last
// opening at or before t (nil if it has not ended, or was closed by the user).
func (l *stateLog) endOfSessionAt(t time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	from := 0
	for i, sc := range l.changes {
		if sc.State == source.StateOpen && !sc.At.After(t) {
			from = i + 1
		}
	}
	for _, sc := range l.changes[from:] {
		switch sc.State {
		case source.StateReconnecting, source.StateClosed, source.StateIdle:
			return sc.Cause
		}
	}
	return nil
}

func isFlagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// propChannel is one channel of the schedule and its consumer.
type propChannel struct {
	name     string
	ch       *source.Channel
	left     bool // unsubscribed by the user
	wanted   bool // Subscribe was called
	shut     bool // the server shut it down (the only close for good a schedule may cause)
	seq      int  // next broadcast number the server sends
	stalled  atomic.Bool
	gate     chan struct{} // closed to resume a stalled consumer
	mu       sync.Mutex
	got      []int // broadcast numbers the consumer saw, per channel instance
	consumer chan struct{}
}

// dumpFrames, when set (debugging), is given the server's recorded frames of a failed schedule.
var dumpFrames func([]realtimetest.Frame)

func runSchedule(steps []step, poison transport.StatusCode) (problems []string) {
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	s := realtimetest.NewServer(realtimetest.WithPipe())
	defer s.Close()
	defer func() {
		if len(problems) > 0 && dumpFrames != nil {
			dumpFrames(s.Frames())
		}
	}()
	c, err := source.Connect(context.Background(), s.URL(),
		source.WithAPIKey("anon"), source.WithDialer(s.DialPipe),
		source.WithHeartbeat(time.Second, time.Second),
		source.WithPushTimeout(2*time.Second),
		source.WithMaxFrameSize(64<<10),
		source.WithReconnectBackoff(operators.ExponentialBackoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2, Jitter: operators.FullJitter}))
	if err != nil {
		return []string{"connect: " + err.Error()}
	}
	consumerCtx, stopConsumers := context.WithCancel(context.Background())
	defer stopConsumers()
	states := recordStates(consumerCtx, c)
	var chans []*propChannel
	defer func() { // on an early return too: nothing may be left running
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
		for _, pc := range chans {
			if pc != nil && pc.stalled.Swap(false) {
				pc.mu.Lock()
				close(pc.gate)
				pc.mu.Unlock()
			}
		}
	}()

	var calls sync.WaitGroup // pushes, sends, subscribes in flight
	var outstanding atomic.Int64
	chans = make([]*propChannel, propChannels)
	open := func(i int) {
		pc := &propChannel{name: fmt.Sprintf("p%d", i), gate: make(chan struct{}), consumer: make(chan struct{})}
		ch, err := c.Channel(pc.name, source.WithBroadcastAck(), source.WithPresence(fmt.Sprintf("k%d", i)),
			source.WithRejoinBackoff(operators.StepBackoff{200 * time.Millisecond, time.Second}))
		if err != nil {
			fail("channel %d: %v", i, err)
			return
		}
		pc.ch = ch
		in := source.Broadcasts[int](ch, "n").Observe(consumerCtx, stream.WithBuffer(64))
		go func() {
			defer close(pc.consumer)
			for b := range in {
				if pc.stalled.Load() {
					pc.mu.Lock()
					gate := pc.gate
					pc.mu.Unlock()
					<-gate
				}
				pc.mu.Lock()
				pc.got = append(pc.got, b.Payload)
				pc.mu.Unlock()
			}
		}()
		chans[i] = pc
	}
	for i := range chans {
		open(i)
	}
	call := func(timeout time.Duration, f func(ctx context.Context) error, check func(error)) {
		calls.Add(1)
		outstanding.Add(1)
		go func() {
			defer calls.Done()
			defer outstanding.Add(-1)
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			err := f(ctx)
			if d := time.Since(start); d > timeout+time.Second {
				fail("a call took %v, past its ctx (%v): %v", d, timeout, err)
			}
			check(err)
		}()
	}

	// A half-open connection loses what the server writes; TCP never resumes after losing data, so a
	// half-open fault ends with the connection dropped (what the client's heartbeat would find anyway).
	halfOpen := false
	// The server closes the socket for a "poison" frame, with the schedule's code. A poison message is a
	// text push for 1007 (invalid data: the client takes its text frames for the culprits), a binary
	// broadcast otherwise (1003: its binary ones; 1009: its largest, which a poison message is).
	s.Faults().CloseOn("poison", poison)
	poisonID := 0
	heal := func() {
		s.Faults().Reset()
		s.Faults().CloseOn("poison", poison)
		if halfOpen {
			halfOpen = false
			s.Faults().DropAll()
		}
	}
	for _, st := range steps {
		pc := chans[st.ch]
		switch st.op {
		case opSubscribe:
			if pc == nil || pc.left {
				if pc != nil {
					if pc.stalled.Swap(false) { // a stalled consumer resumes: its loop must see the end
						pc.mu.Lock()
						close(pc.gate)
						pc.gate = make(chan struct{})
						pc.mu.Unlock()
					}
					select {
					case <-pc.consumer: // its streams ended with the channel
					case <-time.After(10 * time.Second):
						fail("channel %d's stream did not end 10 s after Unsubscribe", st.ch)
						return problems
					}
				}
				open(st.ch)
				pc = chans[st.ch]
			}
			if pc != nil {
				pc.wanted = true
				call(5*time.Second, pc.ch.Subscribe, func(err error) {
					var je *source.JoinError
					if errors.As(err, &je) && !je.Permanent && !errors.Is(err, context.DeadlineExceeded) {
						fail("Subscribe ended at a transient refusal before its ctx: %v", err)
					}
				})
			}
		case opUnsubscribe:
			if pc != nil && !pc.left {
				pc.left = true
				call(5*time.Second, pc.ch.Unsubscribe, func(error) {})
			}
		case opSendAck:
			if pc != nil {
				call(3*time.Second, func(ctx context.Context) error {
					return pc.ch.Send(ctx, "ack", map[string]int{"x": 1})
				}, func(error) {})
			}
		case opPushNoReply:
			if pc != nil {
				call(3*time.Second, func(ctx context.Context) error {
					_, err := c.Push(ctx, pc.ch.Topic(), "noreply", nil, source.NoReply())
					return err
				}, func(error) {})
			}
		case opTrack:
			if pc != nil {
				// Three changes of the meta in a row, so that two tracks within 30 s are more presence
				// calls than the server allows (5 per 30 s; past it the channel is shut down, which the
				// checks below catch): the client must hold them back.
				call(3*time.Second, func(ctx context.Context) error {
					for i := range 3 {
						if err := pc.ch.Track(ctx, map[string]int{"v": st.code + i}); err != nil {
							return err
						}
					}
					return nil
				}, func(error) {})
			}
		case opStall:
			if pc != nil {
				pc.stalled.Store(true)
			}
		case opResume:
			if pc != nil && pc.stalled.Swap(false) {
				pc.mu.Lock()
				close(pc.gate)
				pc.gate = make(chan struct{})
				pc.mu.Unlock()
			}
		case opEmit:
			if pc != nil {
				for range 50 {
					_, _ = s.EmitBroadcast(realtimetest.DBBroadcast{Topic: pc.name, Event: "n", Payload: []byte(strconv.Itoa(pc.seq))})
					pc.seq++
				}
			}
		case opDrop:
			s.Faults().DropAll()
		case opHalfOpen:
			s.Faults().SetHalfOpen(true)
			halfOpen = true
		case opRestart:
			halfOpen = false // the restart dropped every connection
			if err := s.Faults().Restart(); err != nil {
				fail("restart: %v", err)
			}
		case opCloseCode:
			s.Faults().CloseAll(transport.StatusCode(st.code))
		case opDelayReplies:
			s.Faults().DelayReplies(500 * time.Millisecond)
		case opDropReplies:
			s.Faults().DropReplies(true)
		case opRejectJoins:
			s.Faults().RejectJoins("ChannelRateLimitReached: Too many channels")
		case opCrash:
			if pc != nil {
				s.Faults().CrashChannels(pc.ch.Topic())
			}
		case opShutdown:
			if pc != nil {
				pc.shut = true
				s.Faults().ShutdownChannels(pc.ch.Topic(), "Too many messages per second")
			}
		case opDropMidFlush:
			s.Faults().DropAfterFrames(1 + st.code%4) // every connection breaks after 1 to 4 frames
		case opExpireTokens:
			if pc != nil {
				s.Faults().ExpireTokens(pc.ch.Topic()) // the channel rejoins, as after a real expiry
			}
		case opHeal:
			heal()
		case opOversize:
			if pc != nil {
				call(3*time.Second, func(ctx context.Context) error {
					return pc.ch.Send(ctx, "big", map[string]string{"pad": strings.Repeat("x", 80<<10)})
				}, func(err error) {
					var mt *source.MessageTooLargeError
					if !errors.As(err, &mt) && !errors.Is(err, source.ErrChannelClosed) && !errors.Is(err, source.ErrNotJoined) {
						fail("a Send over the frame limit: %v, want a MessageTooLargeError", err)
					}
				})
			}
		case opPoison:
			if pc != nil {
				poisonID++
				payload := map[string]any{"id": poisonID, "pad": strings.Repeat("p", 40<<10)} // more than the server reads at once
				// Unacknowledged, with more behind it in the same write: a write that fails when the server
				// closes hands such pushes back for the next session, but not the one it closed for.
				call(3*time.Second, func(ctx context.Context) error {
					var err error
					if poison == transport.StatusInvalidPayload {
						raw, _ := json.Marshal(payload)
						_, err = pc.ch.Push(ctx, "poison", raw, source.NoReply())
					} else {
						err = pc.ch.Send(ctx, "poison", payload, source.NoReply())
					}
					for i := range 3 {
						_, _ = pc.ch.Push(ctx, "after-poison", []byte(strconv.Itoa(i)), source.NoReply())
					}
					return err
				}, func(error) {})
			}
		case opRejectForGood:
			s.Faults().RejectJoins("PrivateOnly: This project only allows private channels")
		}
		time.Sleep(st.pause)
	}

	// Faults stop. Within the backoff bound (reconnect ≤ 2 s, rejoin ≤ 1 s, plus a join timeout and a
	// heartbeat period of detection) every channel still wanted is SUBSCRIBED again.
	heal()
	for _, pc := range chans {
		if pc != nil && pc.stalled.Swap(false) {
			pc.mu.Lock()
			close(pc.gate)
			pc.gate = make(chan struct{})
			pc.mu.Unlock()
		}
	}
	time.Sleep(15 * time.Second)
	synctest.Wait()
	if n := outstanding.Load(); n != 0 {
		fail("%d calls still unresolved 15 s after the faults stopped", n)
	}
	for i, pc := range chans {
		if pc == nil || pc.left || !pc.wanted {
			continue
		}
		select {
		case <-pc.ch.Done(): // closed for good: only a server shutdown may do that
			if !pc.shut {
				fail("channel %d closed for good though nothing shut it down: %v", i, pc.ch.Err())
			} else if pc.ch.Err() == nil {
				fail("channel %d closed for good without a reason", i)
			}
			continue
		default:
		}
		st, ok := pc.ch.Status()
		subscribing := false
		if ok && st.Status == source.StatusClosed && st.Err != nil && errors.Is(st.Err, context.DeadlineExceeded) {
			subscribing = true // its only Subscribe gave up before SUBSCRIBED: abandoned, as documented
		}
		if je := (*source.JoinError)(nil); ok && st.Status == source.StatusClosed && errors.As(st.Err, &je) && je.Permanent {
			subscribing = true // refused for good before it was ever SUBSCRIBED: not rejoined, as documented
		}
		if !subscribing && (!ok || st.Status != source.StatusSubscribed) {
			fail("channel %d not SUBSCRIBED after the faults stopped: %v", i, st)
		}
	}

	// A frame the server closed the socket for is never sent again once the client was told: a poison
	// message reaches the server again only after a session that did not end with the close made for it.
	// That close can lose to another end of the connection (a fault that drops the socket, a close with
	// another code): the client then sees a socket that ended while an unanswered push's write failed,
	// and sends that push once more, as documented.
	seen := map[int]time.Time{}
	for _, f := range s.Frames() {
		if f.Dir != realtimetest.In || f.Msg.Event != "poison" && f.Msg.UserEvent != "poison" {
			continue
		}
		var p struct {
			ID int `json:"id"`
		}
		_ = json.Unmarshal(f.Msg.Payload, &p)
		first, again := seen[p.ID]
		seen[p.ID] = f.Time
		if !again {
			continue
		}
		var ce *transport.CloseError
		if cause := states.endOfSessionAt(first); errors.As(cause, &ce) && ce.Code == poison {
			fail("poison message %d was sent again after the server closed the socket for it (%v)", p.ID, cause)
		}
	}

	// Presence equals the server's: for every SUBSCRIBED channel, the client's synced state has the keys
	// and phx_refs the server holds.
	for i, pc := range chans {
		if pc == nil || pc.left || !subscribed(pc) {
			continue
		}
		state, err := source.PresenceState[map[string]any](pc.ch)
		if err != nil {
			fail("channel %d presence: %v", i, err)
			continue
		}
		mine := map[string][]string{}
		for key, metas := range state {
			for _, m := range metas {
				mine[key] = append(mine[key], m.Ref)
			}
			sort.Strings(mine[key])
		}
		if theirs := s.Presence(pc.name, false); !reflect.DeepEqual(mine, theirs) {
			fail("channel %d presence %v, server has %v", i, mine, theirs)
		}
	}

	// A stalled consumer delays another channel by the consumer wait at most: stall channel 0's consumer,
	// flood it, and a broadcast on channel 1 still arrives within that wait (in virtual time).
	if a, b := chans[0], chans[1]; a != nil && b != nil && subscribed(a) && subscribed(b) {
		a.stalled.Store(true)
		for range 3000 {
			_, _ = s.EmitBroadcast(realtimetest.DBBroadcast{Topic: a.name, Event: "n", Payload: []byte(strconv.Itoa(a.seq))})
			a.seq++
		}
		b.mu.Lock()
		before := len(b.got)
		b.mu.Unlock()
		_, _ = s.EmitBroadcast(realtimetest.DBBroadcast{Topic: b.name, Event: "n", Payload: []byte(strconv.Itoa(b.seq))})
		b.seq++
		time.Sleep(source.DefaultConsumerWait + 10*time.Millisecond)
		synctest.Wait()
		b.mu.Lock()
		if len(b.got) != before+1 {
			fail("channel 1 got %d broadcasts, want %d, while channel 0's consumer was stalled", len(b.got), before+1)
		}
		b.mu.Unlock()
		a.stalled.Store(false)
		a.mu.Lock()
		close(a.gate)
		a.gate = make(chan struct{})
		a.mu.Unlock()
	}

	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := c.Close(closeCtx); err != nil {
		fail("Close: %v after %v", err, time.Since(start))
	}
	callsDone := make(chan struct{})
	go func() { calls.Wait(); close(callsDone) }()
	select {
	case <-callsDone:
	case <-time.After(10 * time.Second):
		fail("calls still unresolved 10 s after Close")
		return problems
	}
	for i, pc := range chans {
		if pc == nil {
			continue
		}
		select {
		case <-pc.consumer:
		case <-time.After(time.Second):
			fail("channel %d's stream did not end after Close", i)
			continue
		}
		pc.mu.Lock()
		for j := 1; j < len(pc.got); j++ {
			if pc.got[j] <= pc.got[j-1] {
				fail("channel %d: broadcast %d after %d (order or duplicate)", i, pc.got[j], pc.got[j-1])
				break
			}
		}
		pc.mu.Unlock()
	}
	stopConsumers()
	return problems
}

func subscribed(pc *propChannel) bool {
	st, ok := pc.ch.Status()
	return ok && st.Status == source.StatusSubscribed
}
