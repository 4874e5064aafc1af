package workload

import (
	"context"
	"fmt"
)

// RxRealtime returns the runner for the rxrealtime client itself.
//
// ───────────────────────────── SEAM ─────────────────────────────
// The client (package source) is not ready yet, so Run returns
// [ErrNotReady] and every benchmark and comparison row for rxrealtime
// reports "not yet" / "n/a". To plug the client in, implement Run here
// (nothing else changes: package benchmarks and bench/peers/compare already
// call it):
//
//  1. connect to s.Endpoint + "/websocket" with s.Params() as query
//     parameters and vsn s.Vsn (any apikey will do: the source checks none);
//  2. for each of frames.Topics(s.Channels), join with a typed
//     postgres_changes binding (event INSERT, schema public, table
//     messages) decoding into frames.Row, and attach s.Pipelines
//     Observe() consumers to it; each consumer adds 1 to Msgs and
//     change.Record.ID to IDSum per delivered PostgresChange[frames.Row];
//  3. start the clock at the first change delivered, wait for the source's
//     end-of-burst broadcast (event frames.DoneEvent on frames.Topic(0,
//     s.Channels)) and until Msgs == s.Frames*s.Pipelines, stop the clock,
//     disconnect, and return Result{Msgs, IDSum, Decoded: true, Elapsed}.
//
// Implementing [Sender] (workload 5) and [Joiner] (workloads 6 and 7) on
// the same type enables those benchmarks for rxrealtime too.
// ────────────────────────────────────────────────────────────────
func RxRealtime() Runner { return rxRealtime{} }

type rxRealtime struct{}

func (rxRealtime) Name() string { return "rxrealtime" }

func (rxRealtime) Run(context.Context, Spec) (Result, error) {
	return Result{}, fmt.Errorf("%w: rxrealtime client not plugged in yet (bench/internal/workload/rxrealtime.go)", ErrNotReady)
}
