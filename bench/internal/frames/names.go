package frames

import "strconv"

// Names shared by the frame source and every client.
const (
	// Schema and Table name the changed table.
	Schema = "public"
	Table  = "messages"
	// Event is the Phoenix event of every change frame.
	Event = "postgres_changes"
	// BroadcastEvent is the Phoenix event of the end-of-burst message.
	BroadcastEvent = "broadcast"
	// DoneEvent is the broadcast event the source sends after the last
	// change frame of a burst; its payload is {"n":<frames sent>}.
	DoneEvent = "bench_done"
	// BindingID is the id the source gives the first postgres_changes
	// binding of every join (further bindings get BindingID+1, ...); every
	// change frame lists it in "ids".
	BindingID int64 = 30636876
)

// Topic returns the topic of channel i out of n: "realtime:bench" when n is
// 1, "realtime:bench-<i>" otherwise.
func Topic(i, n int) string {
	if n <= 1 {
		return "realtime:bench"
	}
	return "realtime:bench-" + strconv.Itoa(i)
}

// SubTopic returns [Topic] without its "realtime:" prefix: the name
// realtime-js and other clients take in channel(name).
func SubTopic(i, n int) string { return Topic(i, n)[len("realtime:"):] }

// Topics returns the topics of n channels, in order.
func Topics(n int) []string {
	if n < 1 {
		n = 1
	}
	out := make([]string, n)
	for i := range out {
		out[i] = Topic(i, n)
	}
	return out
}
