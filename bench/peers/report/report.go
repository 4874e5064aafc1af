// Package report is the one-line JSON result every comparison runner
// (bench/peers/cmd/runner and js/run.mjs) prints on stdout.
package report

import (
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

// Exit codes of a runner process.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitNotReady = 3 // the runner's client is not available yet
)

// Report is one runner's result.
type Report struct {
	Runner    string `json:"runner"`
	Msgs      int    `json:"msgs"`
	IDSum     int64  `json:"id_sum"`
	Decoded   bool   `json:"decoded"`
	ElapsedNS int64  `json:"elapsed_ns"`
	// Mallocs and AllocBytes are the Go heap allocations during the run
	// (runtime.MemStats deltas); absent for non-Go runners.
	Mallocs    *uint64 `json:"mallocs,omitempty"`
	AllocBytes *uint64 `json:"alloc_bytes,omitempty"`
	// LatencyNS is [p50, p99, p999, max] of a paced run, in nanoseconds.
	LatencyNS []int64 `json:"latency_ns,omitempty"`
	NotReady  bool    `json:"not_ready,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// FromResult fills a report from a workload result.
func FromResult(name string, r workload.Result) Report {
	rep := Report{Runner: name, Msgs: r.Msgs, IDSum: r.IDSum, Decoded: r.Decoded, ElapsedNS: int64(r.Elapsed)}
	if l := r.Latency; l != nil {
		rep.LatencyNS = []int64{int64(l.P50), int64(l.P99), int64(l.P999), int64(l.Max)}
	}
	return rep
}

// Result returns the workload result the report describes.
func (r Report) Result() workload.Result {
	res := workload.Result{Msgs: r.Msgs, IDSum: r.IDSum, Decoded: r.Decoded, Elapsed: time.Duration(r.ElapsedNS)}
	if l := r.LatencyNS; len(l) == 4 {
		res.Latency = &workload.Latency{P50: time.Duration(l[0]), P99: time.Duration(l[1]), P999: time.Duration(l[2]), Max: time.Duration(l[3])}
	}
	return res
}
