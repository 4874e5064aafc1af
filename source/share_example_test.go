package source_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

func ExampleClient_Share() {
	srv := realtimetest.NewServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := source.Connect(ctx, srv.URL(), source.WithAPIKey("anon-key"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(ctx)

	// Two parts of a program want the same room, with the same options: one join serves both.
	type Note struct {
		Text string `json:"text"`
	}
	list, _ := c.Share("room", source.WithBroadcastAck())
	badge, _ := c.Share("room", source.WithBroadcastAck())
	listNotes := source.Broadcasts[Note](list, "note").Observe(ctx)
	badgeNotes := source.Broadcasts[Note](badge, "note").Observe(ctx)
	for _, holder := range []*source.Channel{list, badge} {
		if err := holder.Subscribe(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	_, _ = srv.EmitBroadcast(realtimetest.DBBroadcast{Topic: "room", Event: "note", Payload: []byte(`{"text":"hi"}`)})
	fmt.Println((<-listNotes).Payload.Text, (<-badgeNotes).Payload.Text)
	joins := 0
	for _, f := range srv.Frames() {
		if f.Dir == realtimetest.In && f.Msg.Event == phoenix.EventJoin {
			joins++
		}
	}
	fmt.Println("joins:", joins)

	// Other options do not share the join, and the error says which differ.
	_, err = c.Share("room")
	fmt.Println(err)

	// The badge lets go: its stream ends, and the list goes on, on the same join.
	_ = badge.Unsubscribe(ctx)
	_, open := <-badgeNotes
	fmt.Println("badge stream open:", open)
	_, _ = srv.EmitBroadcast(realtimetest.DBBroadcast{Topic: "room", Event: "note", Payload: []byte(`{"text":"still here"}`)})
	fmt.Println((<-listNotes).Payload.Text)
	_ = list.Unsubscribe(ctx) // the last holder leaves the join
	// Output:
	// hi hi
	// joins: 1
	// rxrealtime: shared channel "realtime:room" is live with another configuration: WithBroadcastAck: requested off, live on
	// badge stream open: false
	// still here
}
