package source_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func ExampleClient_Channel() {
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

	type Todo struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	}
	ch, _ := c.Channel("todos",
		source.WithPostgresChanges(postgres.Binding{Event: postgres.Insert, Table: "todos"}),
		source.WithWaitForPostgres())
	statuses := ch.Statuses().Observe(ctx)
	changes := source.Changes[Todo](ch).Observe(ctx) // registered when Observe returns
	if err := ch.Subscribe(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println((<-statuses).Status, (<-statuses).Status)

	_, _ = srv.EmitChange(realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos",
		Columns: []realtimetest.Column{{Name: "id", Type: "int8"}, {Name: "title", Type: "text"}},
		Record:  Todo{ID: 1, Title: "write the docs"}})
	chg := <-changes
	fmt.Println(chg.Type, chg.New.ID, chg.New.Title)

	_, err = c.Channel("todos")
	fmt.Println(err)
	_ = ch.Unsubscribe(ctx)
	fmt.Println((<-statuses).Status)
	// Output:
	// JOINING SUBSCRIBED
	// INSERT 1 write the docs
	// rxrealtime: channel already exists for this topic: realtime:todos
	// CLOSED
}

func ExampleBroadcasts() {
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

	type Cursor struct{ X, Y int }
	ch, _ := c.Channel("board", source.WithBroadcastSelf(), source.WithBroadcastAck())
	cursors := source.Broadcasts[Cursor](ch, "cursor").Observe(ctx)
	if err := ch.Subscribe(ctx); err != nil {
		fmt.Println(err)
		return
	}
	// With WithBroadcastAck, Send returns once the server has acknowledged.
	if err := ch.Send(ctx, "cursor", Cursor{X: 3, Y: 4}); err != nil {
		fmt.Println(err)
		return
	}
	b := <-cursors
	fmt.Println(b.Event, b.Payload.X, b.Payload.Y)
	// Output:
	// cursor 3 4
}

func ExampleWithPresenceLimit() {
	// A server that allows 2 presence calls per 300 ms per channel (Supabase's default is 5 per 30 s).
	srv := realtimetest.NewServer(realtimetest.WithClientPresenceLimit(2, 300*time.Millisecond))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := source.Connect(ctx, srv.URL(), source.WithAPIKey("anon-key"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(ctx)

	type Status struct {
		State string `json:"state"`
	}
	ch, _ := c.Channel("room", source.WithPresence("gopher"), source.WithPresenceLimit(2, 300*time.Millisecond))
	events := source.PresenceEvents[Status](ch).Observe(ctx)
	if err := ch.Subscribe(ctx); err != nil {
		fmt.Println(err)
		return
	}
	_ = ch.Track(ctx, Status{State: "online"})
	_ = ch.Track(ctx, Status{State: "typing"}) // the window's budget is spent

	// Two more while the window is closed: the latest wins, the other never goes out.
	typing := make(chan error, 1)
	go func() { typing <- ch.Track(ctx, Status{State: "still typing"}) }()
	time.Sleep(50 * time.Millisecond)
	fmt.Println("idle:", ch.Track(ctx, Status{State: "idle"})) // returns once the server holds it
	fmt.Println("still typing:", <-typing)

	for ev := range events {
		switch ev.Kind {
		case presence.Join:
			fmt.Println("join", ev.Presences[0].Value.State)
		case presence.Update: // realtime-js reports a leave and a join
			fmt.Println("update", ev.Replaced[0].Value.State, "->", ev.Presences[0].Value.State)
		}
		if ev.Kind == presence.Update && ev.Presences[0].Value.State == "idle" {
			break
		}
	}
	// Output:
	// idle: <nil>
	// still typing: rxrealtime: presence value superseded by a later Track or Untrack before it was sent
	// join online
	// update online -> typing
	// update typing -> idle
}
