// Command pipeline composes rxrealtime streams with operators, against the
// embedded Realtime-compatible server:
//
//   - search as you type: one client broadcasts every keystroke of a search
//     box; another turns them into searches with Map, DistinctUntilChanged
//     and Debounce, so only the settled query is searched;
//
//   - a live table view of a chat room: postgres_changes of public.messages
//     folded by postgres.LiveTable (a Scan) into the room's current rows.
//
//     go run ./examples/pipeline
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		os.Exit(1)
	}
}

// Keystroke is the payload of "search" broadcasts: the search box's text.
type Keystroke struct {
	Text string `json:"text"`
}

// Message is a row of public.messages.
type Message struct {
	ID     int64  `json:"id"`
	RoomID int64  `json:"room_id"`
	Body   string `json:"body"`
}

// settle is how long the query must stay unchanged before it is searched.
const settle = 150 * time.Millisecond

func run(ctx context.Context, out io.Writer) error {
	srv, err := realtimetest.Start()
	if err != nil {
		return err
	}
	defer srv.Close()

	typist, err := source.Connect(ctx, srv.URL(), source.WithAPIKey("anon-key"))
	if err != nil {
		return err
	}
	defer typist.Close(context.Background())
	searcher, err := source.Connect(ctx, srv.URL(), source.WithAPIKey("anon-key"))
	if err != nil {
		return err
	}
	defer searcher.Close(context.Background())

	if err := searchAsYouType(ctx, out, typist, searcher); err != nil {
		return err
	}
	return liveTable(ctx, out, srv, searcher)
}

func searchAsYouType(ctx context.Context, out io.Writer, typist, searcher *source.Client) error {
	box, err := typist.Channel("search-box")
	if err != nil {
		return err
	}
	watch, err := searcher.Channel("search-box")
	if err != nil {
		return err
	}
	// keystrokes → text → drop repeats → wait until it settles.
	queries := operators.Debounce(
		operators.DistinctUntilChanged(
			operators.Map(source.Broadcasts[Keystroke](watch, "search"),
				func(b source.Broadcast[Keystroke]) string { return strings.TrimSpace(b.Payload.Text) }),
			func(s string) string { return s }),
		settle).Observe(ctx)
	if err := watch.Subscribe(ctx); err != nil {
		return err
	}
	if err := box.Subscribe(ctx); err != nil {
		return err
	}
	for _, text := range []string{"g", "go", "go ", "gop", "goph", "gophe", "gopher"} {
		if err := box.Send(ctx, "search", Keystroke{Text: text}); err != nil {
			return err
		}
		time.Sleep(10 * time.Millisecond) // typing speed, well under settle
	}
	select {
	case q := <-queries:
		fmt.Fprintf(out, "search: %q (7 keystrokes, 1 search)\n", q)
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func liveTable(ctx context.Context, out io.Writer, srv *realtimetest.Server, c *source.Client) error {
	room, err := c.Channel("room-7", source.WithWaitForPostgres(), source.WithPostgresChanges(postgres.Binding{
		Event: postgres.All, Schema: "public", Table: "messages", Filter: postgres.Eq("room_id", 7),
	}))
	if err != nil {
		return err
	}
	views := postgres.LiveTable(source.Changes[Message](room), func(m Message) int64 { return m.ID }, nil).Observe(ctx)
	if err := room.Subscribe(ctx); err != nil {
		return err
	}
	cols := []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "room_id", Type: "int8"}, {Name: "body", Type: "text"}}
	emit := func(typ string, rec, old map[string]any) error {
		_, err := srv.EmitChange(realtimetest.Change{Type: typ, Schema: "public", Table: "messages", Columns: cols, Record: rec, OldRecord: old})
		return err
	}
	steps := []func() error{
		func() error {
			return emit(realtimetest.Insert, map[string]any{"id": 1, "room_id": 7, "body": "hi"}, nil)
		},
		func() error {
			return emit(realtimetest.Insert, map[string]any{"id": 2, "room_id": 8, "body": "other room"}, nil)
		},
		func() error {
			return emit(realtimetest.Insert, map[string]any{"id": 3, "room_id": 7, "body": "hello"}, nil)
		},
		func() error {
			return emit(realtimetest.Update, map[string]any{"id": 1, "room_id": 7, "body": "hi (edited)"}, map[string]any{"id": 1})
		},
		func() error {
			// With REPLICA IDENTITY FULL the old row carries room_id, which the filter needs.
			return emit(realtimetest.Delete, nil, map[string]any{"id": 3, "room_id": 7})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	// Room 8's insert is filtered out by the server: 4 changes reach the view.
	for range 4 {
		select {
		case view := <-views:
			ids := make([]int64, 0, len(view))
			for id := range view {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			var rows []string
			for _, id := range ids {
				rows = append(rows, fmt.Sprintf("%d:%q", id, view[id].Body))
			}
			fmt.Fprintf(out, "room 7: [%s]\n", strings.Join(rows, " "))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
