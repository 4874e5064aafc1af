// Command compare runs workload 1 (one channel of ~900-byte postgres_changes
// frames decoded into the Row type) with every client, alternately, against
// one in-process frame source, and prints a table of median msg/s,
// allocs/msg and peak RSS followed by the ratios of rxrealtime to the floor,
// to realtime-js and to nshafer/phx.
//
// Run it from bench/peers, or through bench/compare.sh from anywhere:
//
//	go run ./compare [-rounds 5] [-n 200000] [-vsn 2.0.0,1.0.0] [-runners source,floor/goccy,...]
//	                 [-latency-rate 10000] [-latency 10s] [-latency-rounds 1] [-latency-runners ...]
//	                 [-svg bench/compare.svg]
//
// Each run is a fresh subprocess (the Go runners are one binary built into
// bench/peers/bin, realtime-js is node js/run.mjs), so peak RSS is the
// client's own (getrusage ru_maxrss of the child). Rounds alternate the
// runners (A B C D A B C D ...) so drift on the machine hits all of them.
//
// Then it runs the latency workload (latency.go): the source paces frames at
// -latency-rate per second for -latency (at most -n frames), and floor/goccy,
// rxrealtime and realtime-js report p50/p99/p999/max from the source's write
// to the user's loop, printed as a table before the ratio lines.
// -latency-rate 0 skips it.
//
// Last, it draws the run as an SVG chart (chart.go): for each serializer,
// every client's median msg/s as a bar with its min–max whisker over the
// rounds, and the latency percentiles as lines, titled with the date, the
// machine and the command line. -svg names the file; by default it is
// bench/compare.svg, and -svg off writes none. A relative -svg path is
// taken from the directory the command was started in (compare.sh passes
// it, since it runs the command from bench/peers).
//
// -vsn lists the serializers to run, in order (default both: 2.0.0, then
// 1.0.0); each gets its own section (table, latency, summary). Each
// section's summary gives the spread of the ratios over the rounds (each
// round's rxrealtime run against the same round's peer run) and ends with
// exactly three lines:
//
//	ratio rxrealtime/floor <x.xx>
//	ratio rxrealtime/realtime-js <x.xx>
//	ratio rxrealtime/phx <x.xx>
//
// where the floor is the fastest floor decoder and each ratio divides median
// msg/s (above 1: rxrealtime is faster). A runner without results prints
// n/a instead of a number: rxrealtime until it is plugged into
// bench/internal/workload/rxrealtime.go.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/framesrv"
)

const defaultRunners = "source,floor/encoding-json,floor/goccy,floor/segmentio,rxrealtime,phx,realtime-js"

func main() {
	rounds := flag.Int("rounds", 5, "rounds; each runs every runner once")
	n := flag.Int("n", 200_000, "change frames per run")
	vsn := flag.String("vsn", "2.0.0,1.0.0", "serializers, comma-separated, each run in its own section: 1.0.0, 2.0.0")
	list := flag.String("runners", defaultRunners, "comma-separated runners, in round order")
	timeout := flag.Duration("timeout", 2*time.Minute, "per-run timeout")
	lat := latencyFlags{}
	flag.IntVar(&lat.rate, "latency-rate", 10_000, "latency workload: frames per second (0: skip the workload)")
	flag.DurationVar(&lat.duration, "latency", 10*time.Second, "latency workload: how long each run is paced (at most -n frames)")
	flag.IntVar(&lat.rounds, "latency-rounds", 1, "latency workload: rounds")
	latList := flag.String("latency-runners", defaultLatencyRunners, "latency workload: comma-separated runners, in round order")
	svg := flag.String("svg", "", "SVG chart of the run (default bench/compare.svg; relative to where the command was started; off: none)")
	flag.Parse()
	lat.names = strings.Split(*latList, ",")
	out := output{svg: *svg, wd: os.Getenv("COMPARE_WD"), command: commandLine(os.Getenv("COMPARE_AS"), os.Args[1:])}
	if err := run(*rounds, *n, strings.Split(*vsn, ","), strings.Split(*list, ","), *timeout, lat, out); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// output says where the chart goes and how the run was started.
type output struct {
	svg     string // the -svg flag
	wd      string // the directory the command was started in, "" for the current one
	command string // the command line, for the chart's title
}

// commandLine is the command line that started the run: as (compare.sh
// passes bench/compare.sh; "go run ./compare" without it) and args.
func commandLine(as string, args []string) string {
	if as == "" {
		as = "go run ./compare"
	}
	if len(args) == 0 {
		return as
	}
	return as + " " + shellJoin(args)
}

// svgPath returns the file the chart goes to, "" for none: bench/compare.svg
// (beside the module directory, bench/peers) without -svg, a relative -svg
// path from wd (or the current directory).
func (o output) svgPath(moduleDir string) string {
	switch {
	case o.svg == "off":
		return ""
	case o.svg == "":
		return filepath.Join(filepath.Dir(moduleDir), "compare.svg")
	case filepath.IsAbs(o.svg) || o.wd == "":
		return o.svg
	}
	return filepath.Join(o.wd, o.svg)
}

func run(rounds, n int, vsnList []string, names []string, timeout time.Duration, lat latencyFlags, out output) error {
	var vsns []frames.Vsn
	for _, s := range vsnList {
		v, err := frames.ParseVsn(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		vsns = append(vsns, v)
	}
	if rounds < 1 || n < 1 {
		return fmt.Errorf("need -rounds ≥ 1 and -n ≥ 1")
	}
	dir, err := moduleDir()
	if err != nil {
		return err
	}
	env, err := prepare(dir, append(slices.Clone(names), lat.names...))
	if err != nil {
		return err
	}
	src, err := framesrv.Start()
	if err != nil {
		return err
	}
	defer src.Close()
	c := chart{when: time.Now(), machine: strings.TrimPrefix(machine(env), "machine: "), load: loadAverage(), command: out.command}
	for i, v := range vsns {
		if i > 0 {
			fmt.Println()
		}
		sec, err := runVsn(env, src, v, rounds, n, names, timeout, lat)
		if err != nil {
			return err
		}
		c.sections = append(c.sections, sec)
	}
	path := out.svgPath(dir)
	if path == "" {
		return nil
	}
	var b strings.Builder
	if err := c.writeSVG(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	fmt.Fprintln(os.Stderr, "chart:", path)
	return nil
}

// runVsn runs one serializer's section: workload 1 for every runner, the
// latency workload, the summary. It returns the section's results for the
// chart.
func runVsn(env *env, src *framesrv.Server, v frames.Vsn, rounds, n int, names []string, timeout time.Duration, lat latencyFlags) (chartSection, error) {
	burst, err := src.Burst(v, 1)
	if err != nil {
		return chartSection{}, err
	}

	fmt.Printf("workload 1: %d postgres_changes frames per run (mean %d bytes, vsn %s), 1 channel, %d rounds\n",
		n, burst.MeanText(), v, rounds)
	fmt.Println(machine(env))
	fmt.Println()

	results := make(map[string]*series, len(names))
	for _, name := range names {
		results[name] = &series{name: name}
	}
	start := time.Now()
	for round := 1; round <= rounds; round++ {
		for _, name := range names {
			res := runOnce(env, name, src.Endpoint(), v, n, timeout, burst)
			results[name].add(res)
			fmt.Fprintf(os.Stderr, "round %d/%d %-20s %s\n", round, rounds, name, res.summary())
		}
	}
	fmt.Fprintf(os.Stderr, "total %s\n", time.Since(start).Round(time.Second))

	printTable(os.Stdout, names, results)
	fmt.Println()
	sec := chartSection{vsn: v.String(), frames: n, meanBytes: burst.MeanText(), rounds: rounds, names: names, results: results}
	if lat.rate > 0 {
		sec.latency = runLatency(env, src.Endpoint(), v, n, timeout, burst, lat)
		fmt.Println()
	}
	printSummary(os.Stdout, results)
	return sec, nil
}
