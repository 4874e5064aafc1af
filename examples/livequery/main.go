// Command livequery keeps a table on screen that never goes stale, across a
// server restart: a live query (source.Live) of a board's cards, against
// the embedded Realtime-compatible server (source/realtimetest), which
// also answers PostgREST reads of its tables.
//
// The query loads the cards once the channel is subscribed, then follows
// their changes. The server is then stopped; while it is down the database
// changes, and nobody is told. When the server is back the channel
// rejoins, the query loads the cards again and reconciles: the screen shows
// exactly the table again, with what changed while it was down.
//
//	go run ./examples/livequery
//
// Against a project, read the rows with the project's PostgREST through
// package source/supabase (its own module), with the socket's key and
// token:
//
//	load, err := supabase.Loader(c, cards) // GET /rest/v1/cards?select=*&board_id=eq.1
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "livequery:", err)
		os.Exit(1)
	}
}

// Card is a row of public.cards.
type Card struct {
	ID      int64  `json:"id"`
	BoardID int64  `json:"board_id"`
	Title   string `json:"title"`
	Column  string `json:"column"`
}

var cardColumns = []realtimetest.Column{
	{Name: "id", Type: "int8", PrimaryKey: true},
	{Name: "board_id", Type: "int8"},
	{Name: "title", Type: "text"},
	{Name: "column", Type: "text"},
}

// Board 1's cards: every change, and a loader of the same rows.
var cards = source.Bind[Card](postgres.Binding{Table: "cards", Filter: postgres.Eq("board_id", 1)})

// run is the whole example; out receives the screens.
func run(ctx context.Context, out io.Writer) error {
	srv, err := realtimetest.Start()
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.SetTable(realtimetest.Table{Schema: "public", Name: "cards", Columns: cardColumns, Rows: []any{
		Card{1, 1, "design the API", "done"},
		Card{2, 1, "write the tests", "doing"},
		Card{3, 1, "ship it", "todo"},
		Card{4, 2, "another board", "todo"},
	}}); err != nil {
		return err
	}
	db := func(typ string, c Card) error { // a write to the database, as the server's replication sees it
		_, err := srv.EmitChange(realtimetest.Change{Type: typ, Schema: "public", Table: "cards", Columns: cardColumns,
			Record: c, OldRecord: map[string]any{"id": c.ID, "board_id": c.BoardID}})
		return err
	}

	// A short reconnect backoff, so that the example does not wait long for
	// the server to come back.
	c, err := source.Connect(ctx, srv.URL(), source.WithAPIKey("anon-key"),
		source.WithReconnectBackoff(operators.ExponentialBackoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}))
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(closeCtx)
	}()
	// A live query needs SUBSCRIBED to mean that changes flow.
	ch, err := c.Channel("board-1", cards.Option(), source.WithWaitForPostgres())
	if err != nil {
		return err
	}
	q, err := source.Live(ctx, ch, cards, func(c Card) int64 { return c.ID }, postgrestLoader(srv.HTTPURL(), "board_id=eq.1"))
	if err != nil {
		return err
	}
	diffs := q.Diffs().Observe(ctx) // registered when Observe returns: from the first load on
	if err := ch.Subscribe(ctx); err != nil {
		return err
	}
	screen := func(title string, want func(source.LiveState[int64, Card]) bool) error {
		for st, err := range q.States().All2(ctx) {
			if err != nil {
				return err
			}
			if want(st) {
				show(out, title, st)
				return nil
			}
		}
		return fmt.Errorf("the live query ended: %w", q.Err())
	}
	synced := func(loads int) func(source.LiveState[int64, Card]) bool {
		return func(st source.LiveState[int64, Card]) bool { return st.Synced && st.Loads == loads }
	}

	if err := screen("loaded", synced(1)); err != nil {
		return err
	}

	if err := db(realtimetest.Update, Card{2, 1, "write the tests", "done"}); err != nil {
		return err
	}
	if err := screen("live: card 2 moved", func(st source.LiveState[int64, Card]) bool {
		return st.Rows[2].Column == "done"
	}); err != nil {
		return err
	}

	srv.Faults().Stop() // every connection closed (1012); nobody can connect
	if err := screen("server down: the last rows, stale", func(st source.LiveState[int64, Card]) bool { return !st.Synced }); err != nil {
		return err
	}
	for _, w := range []struct {
		typ  string
		card Card
	}{
		{realtimetest.Update, Card{3, 1, "ship it", "doing"}},
		{realtimetest.Delete, Card{ID: 1, BoardID: 1}},
		{realtimetest.Insert, Card{5, 1, "write the changelog", "todo"}},
	} {
		if err := db(w.typ, w.card); err != nil { // no channel hears of these
			return err
		}
	}
	if err := srv.Faults().Start(); err != nil {
		return err
	}
	if err := screen("server back: reloaded and reconciled", synced(2)); err != nil {
		return err
	}

	// The differences, in the order the view changed: the first load's 3
	// inserts, card 2's move, then what the reload found (in no particular
	// order: sorted here), with no commit time since no change told of them.
	var found []postgres.Diff[int64, Card]
	for i := range 7 {
		select {
		case d := <-diffs:
			if i >= 4 {
				found = append(found, d)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	slices.SortFunc(found, func(a, b postgres.Diff[int64, Card]) int { return int(a.Key - b.Key) })
	fmt.Fprintln(out, "== found by the reload")
	for _, d := range found {
		switch d.Type {
		case postgres.Insert:
			fmt.Fprintf(out, "   + #%d %s\n", d.Key, d.New.Title)
		case postgres.Update:
			fmt.Fprintf(out, "   ~ #%d %s: %s -> %s\n", d.Key, d.New.Title, d.Old.Column, d.New.Column)
		case postgres.Delete:
			fmt.Fprintf(out, "   - #%d %s\n", d.Key, d.Old.Title)
		}
	}
	return nil
}

// show prints a screen: the cards by id.
func show(out io.Writer, title string, st source.LiveState[int64, Card]) {
	ids := slices.Sorted(func(yield func(int64) bool) {
		for id := range st.Rows {
			if !yield(id) {
				return
			}
		}
	})
	fmt.Fprintf(out, "== %s (synced %v, %d loads)\n", title, st.Synced, st.Loads)
	for _, id := range ids {
		c := st.Rows[id]
		fmt.Fprintf(out, "   #%d %-20s %s\n", c.ID, c.Title, c.Column)
	}
}

// postgrestLoader reads public.cards with filter (PostgREST syntax) from
// the PostgREST API at base.
func postgrestLoader(base, filter string) source.Loader[Card] {
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return func(ctx context.Context) ([]Card, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/rest/v1/cards?select=*&"+filter, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("apikey", "anon-key")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("select cards: %s", resp.Status)
		}
		var rows []Card
		return rows, json.NewDecoder(resp.Body).Decode(&rows)
	}
}
