// Command quickstart shows rxrealtime end to end with no Supabase project:
// it starts the embedded Realtime-compatible server (source/realtimetest),
// connects a client, joins a channel that listens to postgres_changes,
// broadcasts and presence, and prints a typed database change, a broadcast
// and a presence join as they flow through the client's streams. It exits
// within seconds.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// Message is a row of public.messages.
type Message struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
}

// Cursor is the payload of "cursor" broadcasts.
type Cursor struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// Status is a presence meta.
type Status struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// run is the whole example; out receives the printed lines.
func run(ctx context.Context, out io.Writer) error {
	srv, err := realtimetest.Start()
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintln(out, "server: listening on", srv.URL())

	client, err := source.Connect(ctx, srv.URL(), source.WithAPIKey("anon-key"))
	if err != nil {
		return err
	}
	defer client.Close(context.Background())

	room, err := client.Channel("quickstart",
		source.WithPostgresChanges(postgres.Binding{Event: postgres.Insert, Schema: "public", Table: "messages"}),
		source.WithBroadcastSelf(), source.WithBroadcastAck(),
		source.WithPresence("gopher"),
		source.WithWaitForPostgres(),
	)
	if err != nil {
		return err
	}

	// Observe before subscribing: hot streams deliver what comes after.
	inserts := source.Changes[Message](room, postgres.Insert).Observe(ctx)
	cursors := operators.Map(source.Broadcasts[Cursor](room, "cursor"),
		func(b source.Broadcast[Cursor]) string {
			return fmt.Sprintf("%s at (%d,%d)", b.Event, b.Payload.X, b.Payload.Y)
		},
	).Observe(ctx)
	joins := operators.Filter(source.PresenceEvents[Status](room),
		func(e presence.Event[Status]) bool { return e.Kind == presence.Join },
	).Observe(ctx)

	if err := room.Subscribe(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "channel:", room.Topic(), "SUBSCRIBED")

	if err := room.Track(ctx, Status{Name: "Gopher", Status: "online"}); err != nil {
		return err
	}
	j, err := recv(ctx, joins)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "presence: %s joined as %s (%s)\n", j.Key, j.Presences[0].Value.Name, j.Presences[0].Value.Status)

	if _, err := srv.EmitChange(realtimetest.Change{
		Type: realtimetest.Insert, Schema: "public", Table: "messages",
		Columns: []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "body", Type: "text"}},
		Record:  map[string]any{"id": 1, "body": "hello from Postgres"},
	}); err != nil {
		return err
	}
	c, err := recv(ctx, inserts)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "postgres_changes: %s %s.%s id=%d body=%q\n", c.Type, c.Schema, c.Table, c.New.ID, c.New.Body)

	if err := room.Send(ctx, "cursor", Cursor{X: 10, Y: 20}); err != nil {
		return err
	}
	fmt.Fprintln(out, "broadcast: sent and acknowledged")
	line, err := recv(ctx, cursors)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "broadcast: received", line)
	fmt.Fprintln(out, "done")
	return nil
}

// recv takes one value from ch.
func recv[T any](ctx context.Context, ch <-chan T) (T, error) {
	select {
	case v, ok := <-ch:
		if !ok {
			var zero T
			return zero, fmt.Errorf("stream ended")
		}
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
