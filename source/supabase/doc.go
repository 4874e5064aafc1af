// Package supabase connects rxrealtime to a Supabase project signed in
// through the Go Supabase SDK's auth client,
// github.com/supabase-community/gotrue-go.
//
// It is its own Go module, so that the core rxrealtime module never
// depends on the SDK.
//
//	auth := gotrue.New(ref, anonKey) // or supabase-go's client.Auth
//	tok, err := auth.SignInWithEmailPassword(email, password)
//	sess, err := supabase.NewSession(auth, tok.Session)
//	c, err := supabase.Connect(ctx, "https://"+ref+".supabase.co", anonKey, sess)
//	defer c.Close(ctx)
//
// The [Session] refreshes the access token through gotrue-go
// (grant_type=refresh_token) before it expires, and the [Client] sends
// every new token to the server with SetAuth, so joined channels are not
// shut down when the first token expires. [Session.AccessToken] is a
// source.TokenProvider, usable on its own with source.WithAccessToken and
// rest.WithAccessToken.
//
// supabase-go (github.com/supabase-community/supabase-go) users pass its
// Auth field, a gotrue-go client, and, if they refresh the session
// themselves (EnableTokenAutoRefresh), hand each new session to
// [Session.Update].
//
// Why gotrue-go rather than supabase-go v0.0.4: supabase-go compiles as a
// dependency, but its go.mod replaces postgrest-go and functions-go with
// forks (github.com/roja/...), and Go ignores a dependency's replace
// directives, so a program importing it builds against other code than
// supabase-go itself was built with; and its Client keeps the project URL
// and key private, refreshes tokens in a goroutine that cannot be stopped
// (EnableTokenAutoRefresh, logging through the log package) and updates
// its fields without synchronization. Its Auth field is a gotrue-go
// client, so supabase-go users lose nothing by this package taking one.
//
// [Loader] reads a table over the project's PostgREST API with the same
// key and token as the socket, for a live query (source.Live) that keeps
// the rows a binding selects equal to the server's table across drops,
// restarts and token expiry:
//
//	todos := source.Bind[Todo](postgres.Binding{Table: "todos", Filter: postgres.Eq("list_id", 1)})
//	ch, err := c.Channel("todos", todos.Option(), source.WithWaitForPostgres())
//	load, err := supabase.Loader(c, todos) // GET /rest/v1/todos?select=*&list_id=eq.1
//	q, err := source.Live(ctx, ch, todos, func(t Todo) int64 { return t.ID }, load)
//
// Package gotruetest has an in-process GoTrue stub that signs HS256
// tokens, to test all this offline against the realtimetest server.
package supabase
