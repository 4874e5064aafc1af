// Command runner runs one client of the peer comparison once and prints a
// report.Report as one JSON line. bench/peers/compare starts it as a
// subprocess per run, so each client's peak RSS is its own.
//
//	runner -runner phx -endpoint ws://127.0.0.1:PORT/socket -vsn 2.0.0 -n 200000
//
// Runners: source, floor/encoding-json, floor/goccy, floor/segmentio,
// rxrealtime, phx. Exit code 3 means the runner is not ready yet.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
	"github.com/rxrealtime/rxrealtime/bench/peers/phxrunner"
	"github.com/rxrealtime/rxrealtime/bench/peers/report"
)

// Runners lists every Go runner by name.
func runners() map[string]workload.Runner {
	m := map[string]workload.Runner{}
	for _, r := range []workload.Runner{
		workload.Source(),
		workload.Floor(workload.StdJSON),
		workload.Floor(workload.GoccyJSON),
		workload.Floor(workload.SegmentioJSON),
		workload.RxRealtime(),
		phxrunner.Runner(),
	} {
		m[r.Name()] = r
	}
	return m
}

func main() {
	all := runners()
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	name := flag.String("runner", "", "runner: "+strings.Join(names, ", "))
	endpoint := flag.String("endpoint", "", "frame source endpoint, ws://127.0.0.1:PORT/socket")
	vsn := flag.String("vsn", "2.0.0", "serializer: 1.0.0 or 2.0.0")
	n := flag.Int("n", 100_000, "change frames to receive")
	channels := flag.Int("channels", 1, "channels to join")
	rate := flag.Int("rate", 0, "paced run (latency workload): frames per second; 0: as fast as possible")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()

	r, ok := all[*name]
	if !ok || *endpoint == "" {
		fmt.Fprintf(os.Stderr, "runner: need -endpoint and -runner, one of %s\n", strings.Join(names, ", "))
		os.Exit(report.ExitFailed)
	}
	v, err := frames.ParseVsn(*vsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		os.Exit(report.ExitFailed)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	spec := workload.Spec{Endpoint: *endpoint, Vsn: v, Frames: *n, Channels: *channels, Rate: *rate}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := r.Run(ctx, spec)
	runtime.ReadMemStats(&after)
	cancel()

	rep := report.FromResult(r.Name(), res)
	mallocs, bytes := after.Mallocs-before.Mallocs, after.TotalAlloc-before.TotalAlloc
	rep.Mallocs, rep.AllocBytes = &mallocs, &bytes
	code := report.ExitOK
	if err != nil {
		rep.Error = err.Error()
		code = report.ExitFailed
		if errors.Is(err, workload.ErrNotReady) {
			rep.NotReady, code = true, report.ExitNotReady
		}
	}
	out, _ := json.Marshal(rep)
	fmt.Println(string(out))
	os.Exit(code)
}
