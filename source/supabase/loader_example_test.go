package supabase_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/source/supabase"
	"github.com/rxrealtime/rxrealtime/source/supabase/gotruetest"
)

func ExampleLoader() {
	// A project offline: Realtime (with its PostgREST reads) and GoTrue, sharing a JWT secret.
	const secret = "super-secret-jwt-token-with-at-least-32-characters"
	srv := realtimetest.NewServer(realtimetest.WithJWTSecret(secret))
	defer srv.Close()
	gt := gotruetest.NewServer(secret, gotruetest.WithUser("ada@example.com", "pw"))
	defer gt.Close()
	anonKey := srv.Token("anon", time.Hour)

	type Todo struct {
		ID     int64  `json:"id"`
		ListID int64  `json:"list_id"`
		Title  string `json:"title"`
	}
	columns := []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "list_id", Type: "int8"}, {Name: "title", Type: "text"}}
	_ = srv.SetTable(realtimetest.Table{Schema: "public", Name: "todos", Columns: columns,
		Rows: []any{Todo{1, 1, "milk"}, Todo{2, 2, "not in list 1"}}})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	auth := gt.Client(anonKey)
	tok, err := auth.SignInWithEmailPassword("ada@example.com", "pw")
	if err != nil {
		fmt.Println(err)
		return
	}
	sess, _ := supabase.NewSession(auth, tok.Session)
	c, err := supabase.Connect(ctx, srv.HTTPURL(), anonKey, sess) // the project URL
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(ctx)

	todos := source.Bind[Todo](postgres.Binding{Table: "todos", Filter: postgres.Eq("list_id", 1)})
	ch, _ := c.Channel("todos", todos.Option(), source.WithWaitForPostgres())
	load, _ := supabase.Loader(c, todos) // GET /rest/v1/todos?select=*&list_id=eq.1, as the signed-in user
	q, err := source.Live(ctx, ch, todos, func(t Todo) int64 { return t.ID }, load)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := ch.Subscribe(ctx); err != nil {
		fmt.Println(err)
		return
	}
	st, _ := q.WaitSynced(ctx)
	fmt.Println(len(st.Rows), st.Rows[1].Title)

	srv.Faults().ExpireTokens("") // the server ends the channel; it rejoins with a fresh token and loads again
	_, _ = srv.EmitChange(realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos",
		Columns: columns, Record: Todo{3, 1, "eggs"}}) // made while the channel is down: no change arrives
	for st := range q.States().All(ctx) {
		if _, ok := st.Rows[3]; ok && st.Synced && st.Loads == 2 {
			fmt.Println(len(st.Rows), st.Rows[3].Title)
			break
		}
	}
	// Output:
	// 1 milk
	// 2 eggs
}
