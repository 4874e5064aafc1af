package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// series collects one runner's outcomes.
type series struct {
	name     string
	rates    []float64
	allocs   []float64
	bytes    []float64
	rss      []float64 // MiB
	failed   int
	notReady bool
	lastErr  error
	// byRound is every run's msg/s in round order, NaN for a run without
	// a result, so two runners' runs of the same round can be paired.
	byRound []float64
}

func (s *series) add(o outcome) {
	switch {
	case o.notReady:
		s.notReady = true
		s.byRound = append(s.byRound, math.NaN())
		return
	case o.err != nil:
		s.failed++
		s.lastErr = o.err
		s.byRound = append(s.byRound, math.NaN())
		return
	}
	r := o.rep.Result()
	s.rates = append(s.rates, r.Rate())
	s.byRound = append(s.byRound, r.Rate())
	s.rss = append(s.rss, float64(o.rssKiB)/1024)
	if o.rep.Mallocs != nil && r.Msgs > 0 {
		s.allocs = append(s.allocs, float64(*o.rep.Mallocs)/float64(r.Msgs))
		s.bytes = append(s.bytes, float64(*o.rep.AllocBytes)/float64(r.Msgs))
	}
}

// rate returns the median msg/s, or 0 without results.
func (s *series) rate() float64 { return median(s.rates) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	ys := slices.Clone(xs)
	slices.Sort(ys)
	m := len(ys) / 2
	if len(ys)%2 == 1 {
		return ys[m]
	}
	return (ys[m-1] + ys[m]) / 2
}

func printTable(w io.Writer, names []string, results map[string]*series) {
	fmt.Fprintf(w, "| %-20s | %12s | %21s | %10s | %9s | %13s | %6s |\n",
		"runner", "median msg/s", "min – max msg/s", "allocs/msg", "B/msg", "peak RSS MiB", "ok")
	fmt.Fprintf(w, "|%s|%s:|%s:|%s:|%s:|%s:|%s:|\n", strings.Repeat("-", 22), strings.Repeat("-", 13),
		strings.Repeat("-", 22), strings.Repeat("-", 11), strings.Repeat("-", 10), strings.Repeat("-", 14), strings.Repeat("-", 7))
	for _, name := range names {
		s := results[name]
		runs := len(s.rates) + s.failed
		if s.notReady {
			fmt.Fprintf(w, "| %-20s | %12s | %21s | %10s | %9s | %13s | %6s |\n", name, "not yet", "", "", "", "", "")
			continue
		}
		if len(s.rates) == 0 {
			fmt.Fprintf(w, "| %-20s | %12s | %21s | %10s | %9s | %13s | %6s |\n", name, "failed", "", "", "", "", fmt.Sprintf("0/%d", runs))
			continue
		}
		allocs, bytes := "–", "–"
		if len(s.allocs) > 0 {
			allocs = fmt.Sprintf("%.1f", median(s.allocs))
			bytes = fmt.Sprintf("%.0f", median(s.bytes))
		}
		fmt.Fprintf(w, "| %-20s | %12.0f | %21s | %10s | %9s | %13.1f | %6s |\n", name, s.rate(),
			fmt.Sprintf("%.0f – %.0f", slices.Min(s.rates), slices.Max(s.rates)), allocs, bytes,
			median(s.rss), fmt.Sprintf("%d/%d", len(s.rates), runs))
	}
	for _, name := range names {
		if s := results[name]; s.failed > 0 {
			fmt.Fprintf(w, "%s: %d failed run(s), last: %v\n", name, s.failed, s.lastErr)
		}
	}
}

// printSummary prints the source headroom and ends with the three ratio
// lines.
func printSummary(w io.Writer, results map[string]*series) {
	floor := fastestFloor(results)
	fastest := fastestClient(results)
	if src := results["source"]; src != nil && src.rate() > 0 && fastest != nil {
		x := src.rate() / fastest.rate()
		verdict := "ok (≥ 3×)"
		if x < 3 {
			verdict = "TOO LOW: the source may be the bottleneck"
		}
		fmt.Fprintf(w, "source headroom: the source emits %.0f msg/s, %.1f× the fastest client (%s): %s\n",
			src.rate(), x, fastest.name, verdict)
	}
	if floor != nil {
		fmt.Fprintf(w, "floor: %s\n", floor.name)
	}
	rx := results["rxrealtime"]
	peers := []struct{ label, name string }{{"floor", ""}, {"realtime-js", "realtime-js"}, {"phx", "phx"}}
	peerOf := func(name string) *series {
		if name == "" {
			return floor
		}
		return results[name]
	}
	for _, peer := range peers {
		if rs := roundRatios(rx, peerOf(peer.name)); len(rs) > 0 {
			fmt.Fprintf(w, "spread rxrealtime/%s %.2f – %.2f over %d round(s)\n", peer.label, slices.Min(rs), slices.Max(rs), len(rs))
		}
	}
	for _, peer := range peers {
		other := peerOf(peer.name)
		if rx == nil || other == nil || rx.rate() == 0 || other.rate() == 0 {
			fmt.Fprintf(w, "ratio rxrealtime/%s n/a\n", peer.label)
			continue
		}
		fmt.Fprintf(w, "ratio rxrealtime/%s %.2f\n", peer.label, rx.rate()/other.rate())
	}
}

// fastestFloor returns the floor with the highest median msg/s, nil if no
// floor has a result.
func fastestFloor(results map[string]*series) *series {
	var floor *series
	for name, s := range results {
		if strings.HasPrefix(name, "floor/") && s.rate() > 0 && (floor == nil || s.rate() > floor.rate()) {
			floor = s
		}
	}
	return floor
}

// fastestClient returns the runner other than the source probe with the
// highest median msg/s, nil if none has a result.
func fastestClient(results map[string]*series) *series {
	var fastest *series
	for name, s := range results {
		if name != "source" && s.rate() > 0 && (fastest == nil || s.rate() > fastest.rate()) {
			fastest = s
		}
	}
	return fastest
}

// roundRatios pairs a's and b's runs of the same round and returns a/b for
// every round in which both have a result.
func roundRatios(a, b *series) []float64 {
	if a == nil || b == nil {
		return nil
	}
	var out []float64
	for i := 0; i < len(a.byRound) && i < len(b.byRound); i++ {
		if x, y := a.byRound[i], b.byRound[i]; !math.IsNaN(x) && !math.IsNaN(y) && y > 0 {
			out = append(out, x/y)
		}
	}
	return out
}
