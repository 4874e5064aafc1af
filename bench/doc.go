// Package benchmarks measures rxrealtime against its floor: how fast a raw
// gobwas/ws client that only decodes JSON into the same Row type can go.
//
//	go test -run '^$' -bench . -benchmem ./bench/...
//
// Workloads (see README.md for the table and the peer comparison):
//
//  1. BenchmarkThroughput: one channel, ~900-byte postgres_changes frames
//     decoded into PostgresChange[Row] for an Observe() consumer (v1, v2).
//  2. BenchmarkFloor: the same frames read with gobwas/ws and decoded with
//     encoding/json or goccy/go-json; no routing. BenchmarkDecode isolates
//     the decode.
//  3. BenchmarkRouting: the burst spread over 1, 100 and 10,000 channels.
//  4. BenchmarkFanout: 1, 10 and 100 pipelines observing one channel.
//  5. BenchmarkBroadcastSend: broadcasts sent on one channel.
//  6. BenchmarkRejoin: reconnect and rejoin of 1,000 channels.
//  7. BenchmarkIdle: memory and goroutines per joined channel at 10,000.
//
// BenchmarkBurstDelivery sends a saturating burst to the README's plain
// Observe loop under each delivery policy (the client's defaults, Block,
// and the candidates measured for issue 20), and
// BenchmarkStalledConsumerRoundTrip measures acknowledged round trips on
// one channel while another channel's consumer stops (README.md, "Delivery
// under a saturating burst").
//
// BenchmarkPresenceState measures a hostile-sized presence_state (100,000
// keys, 5.0 MB, issue 18): the heap's peak while the socket's reader
// handles it and how long the reader takes, against the same frame on a
// topic nobody joined.
//
// BenchmarkSource and BenchmarkSourceHeadroom show that the frame source
// (bench/internal/framesrv) emits several times faster than the fastest
// client, so it is never the bottleneck.
//
// The rxrealtime rows skip with "not yet" until the client is plugged into
// bench/internal/workload (RxRealtime, the seam).
package benchmarks
