package phoenix_test

import (
	"fmt"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func ExampleV2Serializer_Encode() {
	heartbeat := phoenix.Message{Topic: phoenix.TopicPhoenix, Event: phoenix.EventHeartbeat, Ref: "8", Payload: []byte(`{}`)}
	frame, binary, err := phoenix.V2.Encode(nil, &heartbeat)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(frame), binary)
	// Output: [null,"8","phoenix","heartbeat",{}] false
}

func ExampleV2Serializer_Decode() {
	frame := []byte(`[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1}}]`)
	var m phoenix.Message
	if err := phoenix.V2.Decode(&m, frame, false); err != nil {
		panic(err)
	}
	fmt.Printf("join_ref=%q ref=%q topic=%s event=%s\n", m.JoinRef, m.Ref, m.Topic, m.Event)

	// The payload is still raw JSON; read the broadcast without decoding it.
	event, payload, _, err := phoenix.ParseBroadcast(m.Payload)
	if err != nil {
		panic(err)
	}
	fmt.Println(event, string(payload))
	// Output:
	// join_ref="" ref="" topic=realtime:room1 event=broadcast
	// cursor {"x":1}
}

func ExampleV2Serializer_Decode_binary() {
	// A kind 4 user broadcast, as Supabase Realtime sends it (client.md §2.4).
	frame := append([]byte{4, 14, 6, 0, 1}, `realtime:room1cursor{"y":2}`...)
	var m phoenix.Message
	if err := phoenix.V2.Decode(&m, frame, true); err != nil {
		panic(err)
	}
	fmt.Println(m.Kind, m.Topic, m.Event, m.UserEvent, string(m.Payload), m.Binary)
	// Output: user_broadcast realtime:room1 broadcast cursor {"y":2} false
}

func ExampleNewV2() {
	// Send user broadcasts as binary kind 3 frames, like realtime-js.
	s := phoenix.NewV2(phoenix.WithBinaryUserBroadcasts(true))
	m := phoenix.Message{JoinRef: "6", Ref: "7", Topic: "realtime:room1", Event: phoenix.EventBroadcast,
		UserEvent: "cursor", Payload: []byte(`{"x":5}`)}
	frame, binary, err := s.Encode(nil, &m)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%v %x\n", binary, frame)
	// Output: true 0301010e06000136377265616c74696d653a726f6f6d31637572736f727b2278223a357d
}

func ExampleParseReply() {
	status, response, err := phoenix.ParseReply([]byte(`{"status":"ok","response":{"postgres_changes":[]}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(status, string(response))
	// Output: ok {"postgres_changes":[]}
}

func ExampleV1Serializer_Encode() {
	m := phoenix.Message{JoinRef: "6", Ref: "7", Topic: "realtime:send", Event: phoenix.EventBroadcast,
		UserEvent: "ev", Payload: []byte(`{"a":1}`)}
	frame, _, err := phoenix.V1.Encode(nil, &m)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(frame))
	// Output: {"topic":"realtime:send","event":"broadcast","payload":{"type":"broadcast","event":"ev","payload":{"a":1}},"ref":"7","join_ref":"6"}
}

// V1Lazy finds the payload without checking it (its consumer's JSON parser
// does): here the payload's end is read from the members after it.
func ExampleV1Serializer_Decode_lazy() {
	frame := []byte(`{"event":"postgres_changes","payload":{"ids":[1],"data":{}},"ref":null,"topic":"realtime:room1"}`)
	var m phoenix.Message
	if err := phoenix.V1Lazy.Decode(&m, frame, false); err != nil {
		panic(err)
	}
	fmt.Println(m.Topic, m.Event, string(m.Payload))
	// Output: realtime:room1 postgres_changes {"ids":[1],"data":{}}
}
