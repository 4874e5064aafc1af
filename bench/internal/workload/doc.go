// Package workload defines what a benchmark client does and how its run is
// reported, so the in-process benchmarks (package benchmarks) and the peer
// comparison (bench/peers/compare) drive every client the same way.
//
// [Runner] is the seam: each client under test (the floor, rxrealtime,
// nshafer/phx, realtime-js through a subprocess) implements it for
// workload 1, receiving [Spec.Frames] change frames from the frame source
// (package framesrv) and reporting a [Result] whose checksum proves every
// frame was decoded into a [frames.Row]. Optional interfaces cover the
// other workloads: [Sender] (broadcast send throughput) and [Joiner]
// (reconnect+rejoin, idle cost per joined channel).
//
// The rxrealtime runner ([RxRealtime]) plugs in here once package source is
// ready; until then it returns [ErrNotReady].
package workload
