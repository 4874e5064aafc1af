package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

// The latency workload: the source paces change frames at a steady rate,
// each stamped with the time of its write (the row's created_at), and each
// runner reports p50/p99/p999/max of the time from that write to the
// change reaching the user's loop (rxrealtime: the range over Observe's
// channel; realtime-js: the .on callback; the floor: right after its
// decode). Runs alternate like the throughput rounds.

const defaultLatencyRunners = "floor/goccy,rxrealtime,realtime-js"

type latencyFlags struct {
	rate     int
	duration time.Duration
	rounds   int
	names    []string
}

// frames returns how many frames a paced run sends: rate×duration, at most
// n (so a short -n, as in CI, keeps the workload short too), at least 1.
func (l latencyFlags) frames(n int) int {
	return max(1, min(n, int(float64(l.rate)*l.duration.Seconds())))
}

// latSeries collects one runner's paced runs.
type latSeries struct {
	lats    []workload.Latency
	failed  int
	lastErr error
	skipped string
}

// latencyRun is one serializer's latency workload, for the chart.
type latencyRun struct {
	frames, rate, rounds int
	names                []string
	res                  map[string]*latSeries
}

// runLatency runs the latency workload, prints its table and returns its
// results.
func runLatency(e *env, endpoint string, v frames.Vsn, n int, timeout time.Duration, b *frames.Burst, l latencyFlags) *latencyRun {
	count := l.frames(n)
	fmt.Printf("latency: %d frames per run paced at %d msg/s (%s), vsn %s, %d round(s); from the source's write to the user's loop\n",
		count, l.rate, (time.Duration(count) * time.Second / time.Duration(l.rate)).Round(time.Millisecond), v, l.rounds)
	res := make(map[string]*latSeries, len(l.names))
	for _, name := range l.names {
		res[name] = &latSeries{}
	}
	for round := 1; round <= max(l.rounds, 1); round++ {
		for _, name := range l.names {
			o := runPaced(e, name, endpoint, v, count, l.rate, timeout, b)
			s := res[name]
			switch {
			case o.notReady:
				s.skipped = "not yet"
			case o.err != nil:
				s.failed++
				s.lastErr = o.err
			default:
				s.lats = append(s.lats, *o.rep.Result().Latency)
			}
			fmt.Fprintf(os.Stderr, "latency round %d/%d %-20s %s\n", round, l.rounds, name, latSummary(o))
		}
	}
	printLatency(os.Stdout, l.names, res)
	return &latencyRun{frames: count, rate: l.rate, rounds: max(l.rounds, 1), names: l.names, res: res}
}

func latSummary(o outcome) string {
	if o.notReady || o.err != nil {
		return o.summary()
	}
	lt := o.rep.Result().Latency
	return fmt.Sprintf("p50 %v p99 %v p999 %v max %v", us(lt.P50), us(lt.P99), us(lt.P999), us(lt.Max))
}

// us rounds d for display.
func us(d time.Duration) time.Duration {
	if d >= time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// printLatency prints one row per runner (medians over rounds of each
// percentile) and the p99 ratio line of rxrealtime to realtime-js.
func printLatency(w io.Writer, names []string, res map[string]*latSeries) {
	fmt.Fprintf(w, "| %-20s | %10s | %10s | %10s | %10s | %6s |\n", "runner", "p50", "p99", "p999", "max", "ok")
	fmt.Fprintf(w, "|%s|%s:|%s:|%s:|%s:|%s:|\n", dashes(22), dashes(11), dashes(11), dashes(11), dashes(11), dashes(7))
	p99 := map[string]time.Duration{}
	for _, name := range names {
		s := res[name]
		runs := len(s.lats) + s.failed
		if len(s.lats) == 0 {
			why := "failed"
			if s.skipped != "" {
				why = s.skipped
			}
			fmt.Fprintf(w, "| %-20s | %10s | %10s | %10s | %10s | %6s |\n", name, why, "", "", "", fmt.Sprintf("0/%d", runs))
			if s.lastErr != nil {
				fmt.Fprintf(w, "%s: %v\n", name, s.lastErr)
			}
			continue
		}
		pick := func(f func(workload.Latency) time.Duration) time.Duration {
			xs := make([]time.Duration, len(s.lats))
			for i, l := range s.lats {
				xs[i] = f(l)
			}
			slices.Sort(xs)
			return xs[(len(xs)-1)/2]
		}
		p99[name] = pick(func(l workload.Latency) time.Duration { return l.P99 })
		fmt.Fprintf(w, "| %-20s | %10v | %10v | %10v | %10v | %6s |\n", name,
			us(pick(func(l workload.Latency) time.Duration { return l.P50 })), us(p99[name]),
			us(pick(func(l workload.Latency) time.Duration { return l.P999 })),
			us(pick(func(l workload.Latency) time.Duration { return l.Max })), fmt.Sprintf("%d/%d", len(s.lats), runs))
	}
	if rx, js := p99["rxrealtime"], p99["realtime-js"]; rx > 0 && js > 0 {
		fmt.Fprintf(w, "latency p99 rxrealtime/realtime-js %.2f (target ≤ 1)\n", float64(rx)/float64(js))
	} else {
		fmt.Fprintln(w, "latency p99 rxrealtime/realtime-js n/a")
	}
}

func dashes(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '-'
	}
	return string(b)
}
