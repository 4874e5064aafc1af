// Package framesrv is the benchmarks' frame source: a small loopback
// Phoenix/Realtime-speaking WebSocket server built for raw speed, not for
// behaviour (source/realtimetest is the behavioural server).
//
// A client connects to [Server.Endpoint] + "/websocket" with the query
// parameters
//
//	vsn=1.0.0|2.0.0   serializer (default 1.0.0, as the real server)
//	n=<frames>        change frames per burst (default: [WithFrames])
//	channels=<m>      channels the burst is spread over (default 1)
//
// and joins the m topics [frames.Topics](m) with phx_join. The source
// answers each join with an ok reply that echoes the postgres_changes
// bindings with ids (the first gets [frames.BindingID]), as the Realtime
// server does, so real Phoenix clients such as nshafer/phx and realtime-js
// reach the joined state. Once all m topics are joined it writes n
// pre-encoded change frames ([frames.Burst]) as fast as the socket takes
// them, then a broadcast with event [frames.DoneEvent] on the first topic.
//
// It also answers heartbeats, phx_leave and acknowledged broadcasts, counts
// joins and broadcasts (text, and on vsn 2.0.0 binary kind 3 user
// broadcasts and kind 0 pushes) for the send and rejoin workloads, and can
// drop every connection at once (for the reconnect workload).
package framesrv
