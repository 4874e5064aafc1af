package source_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func ExampleLive() {
	srv := realtimetest.NewServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	type Todo struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	}
	columns := []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "title", Type: "text"}}
	_ = srv.SetTable(realtimetest.Table{Schema: "public", Name: "todos", Columns: columns,
		Rows: []any{Todo{ID: 1, Title: "write the docs"}}})

	c, err := source.Connect(ctx, srv.URL(), source.WithAPIKey("anon-key"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(ctx)
	todos := source.Bind[Todo](postgres.Binding{Table: "todos"})
	ch, _ := c.Channel("todos", todos.Option(), source.WithWaitForPostgres())

	// The loader reads the rows the binding selects: here from the server's
	// PostgREST select (package source/supabase has a loader for a project).
	load := func(ctx context.Context) ([]Todo, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.HTTPURL()+"/rest/v1/todos?select=*", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("apikey", "anon-key")
		req.Close = true // no idle connection left behind
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var rows []Todo
		return rows, json.NewDecoder(resp.Body).Decode(&rows)
	}
	q, err := source.Live(ctx, ch, todos, func(t Todo) int64 { return t.ID }, load)
	if err != nil {
		fmt.Println(err)
		return
	}
	diffs := q.Diffs().Observe(ctx)
	if err := ch.Subscribe(ctx); err != nil {
		fmt.Println(err)
		return
	}
	st, _ := q.WaitSynced(ctx)
	fmt.Println(len(st.Rows), "row, loaded:", st.Rows[1].Title)

	_, _ = srv.EmitChange(realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos",
		Columns: columns, Record: Todo{ID: 2, Title: "ship it"}})
	for range 2 {
		d := <-diffs
		fmt.Println(d.Type, d.Key, d.New.Title)
	}
	// Output:
	// 1 row, loaded: write the docs
	// INSERT 1 write the docs
	// INSERT 2 ship it
}
