// Command dbchanges streams typed database changes: it starts the embedded
// Realtime-compatible server (source/realtimetest) in place of a
// Supabase project, subscribes a channel to the changes of public.todos in
// one list, writes a few rows through the server, and prints each change as
// a typed Go value as it arrives. It exits once it has seen them.
//
//	go run ./examples/dbchanges
//
// Against a real project, replace the embedded server by the project's
// Realtime URL and API key:
//
//	c, err := source.Connect(ctx, "wss://<ref>.supabase.co/realtime/v1", source.WithAPIKey(key))
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dbchanges:", err)
		os.Exit(1)
	}
}

// Todo is a row of public.todos. int8 columns decode exactly into int64,
// even past 2^53.
type Todo struct {
	ID     int64     `json:"id"`
	ListID int64     `json:"list_id"`
	Title  string    `json:"title"`
	Done   bool      `json:"done"`
	Due    time.Time `json:"due"`
}

// todoColumns describe public.todos, as the server lists them in each
// change.
var todoColumns = []realtimetest.Column{
	{Name: "id", Type: "int8", PrimaryKey: true},
	{Name: "list_id", Type: "int8"},
	{Name: "title", Type: "text"},
	{Name: "done", Type: "bool"},
	{Name: "due", Type: "timestamptz"},
}

// run is the whole example; out receives the printed lines.
func run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx) // ends the observer, read or not
	defer cancel()
	srv, err := realtimetest.Start()
	if err != nil {
		return err
	}
	defer srv.Close()

	c, err := source.Connect(ctx, srv.URL(), source.WithAPIKey("anon-key"))
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(closeCtx)
	}()

	// Every change of the todos of list 1. WithWaitForPostgres makes Subscribe
	// return only once the server's replication subscription is up, so no
	// write made after it is missed.
	ch, err := c.Channel("todos",
		source.WithPostgresChanges(postgres.Binding{Event: postgres.All, Table: "todos", Filter: postgres.Eq("list_id", 1)}),
		source.WithWaitForPostgres())
	if err != nil {
		return err
	}
	// Observe before Subscribe: it returns once the consumer is
	// registered, so nothing is lost.
	changes := source.Changes[Todo](ch).Observe(ctx)
	if err := ch.Subscribe(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "subscribed to", ch.Topic())

	due := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	writes := []realtimetest.Change{
		{Type: realtimetest.Insert, Record: Todo{ID: 9007199254740993, ListID: 1, Title: "buy milk", Due: due}},
		{Type: realtimetest.Insert, Record: Todo{ID: 7, ListID: 2, Title: "not in list 1"}}, // filtered out
		{Type: realtimetest.Update, Record: Todo{ID: 9007199254740993, ListID: 1, Title: "buy milk", Done: true, Due: due},
			OldRecord: map[string]any{"id": int64(9007199254740993)}},
		{Type: realtimetest.Delete, OldRecord: map[string]any{"id": int64(9007199254740993), "list_id": 1}},
	}
	for _, w := range writes {
		w.Schema, w.Table, w.Columns = "public", "todos", todoColumns
		if _, err := srv.EmitChange(w); err != nil {
			return err
		}
	}

	for i := 0; i < 3; i++ {
		var chg postgres.Change[Todo]
		select {
		case chg = <-changes:
		case <-ctx.Done():
			return fmt.Errorf("waiting for change %d: %w", i+1, ctx.Err())
		}
		fmt.Fprintln(out, describe(chg))
	}
	return nil
}

// describe renders a change on one line.
func describe(chg postgres.Change[Todo]) string {
	switch chg.Type {
	case postgres.Insert:
		return fmt.Sprintf("INSERT %s.%s: #%d %q done=%v due=%s", chg.Schema, chg.Table,
			chg.New.ID, chg.New.Title, chg.New.Done, chg.New.Due.Format(time.DateOnly))
	case postgres.Update:
		return fmt.Sprintf("UPDATE %s.%s: #%d %q done=%v (old row: key #%d)", chg.Schema, chg.Table,
			chg.New.ID, chg.New.Title, chg.New.Done, chg.Old.ID)
	default:
		return fmt.Sprintf("DELETE %s.%s: #%d", chg.Schema, chg.Table, chg.Old.ID)
	}
}
