// Package frames builds the benchmark workload: realistic postgres_changes
// frames carrying a chat-message [Row], in the vsn 1.0.0 (JSON object) and
// 2.0.0 (JSON array) forms the Supabase Realtime server writes, and the
// pre-encoded WebSocket byte stream ([Burst]) the frame source replays.
//
// The frame shape follows the server's postgres_changes fan-out frame:
//
//	[null,null,"realtime:bench","postgres_changes",{"ids":[30636876],"data":{
//	  "schema":"public","table":"messages","commit_timestamp":"2026-08-21T12:00:00.123Z","type":"INSERT",
//	  "columns":[{"name":"id","type":"int8"},...],
//	  "record":{"id":1,"body":"...","meta":{...},...},"errors":null}}]
//
// The record's keys come in jsonb order (shorter keys first, then bytewise),
// as the server builds records with jsonb. Frames average about 900 bytes.
package frames
