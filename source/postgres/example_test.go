package postgres_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rxrealtime/rxrealtime/source/postgres"
)

func ExampleDecode() {
	type Todo struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
		Done  bool   `json:"done"`
	}
	payload := []byte(`{"ids":[31339675],"data":{"schema":"public","table":"todos",
		"commit_timestamp":"2024-01-01T12:34:56.789Z","type":"UPDATE",
		"columns":[{"name":"id","type":"int8"},{"name":"title","type":"text"},{"name":"done","type":"bool"}],
		"record":{"id":9007199254740993,"title":"write tests","done":"t"},
		"old_record":{"id":9007199254740993},"errors":null}}`)

	var c postgres.Change[Todo]
	if err := postgres.Decode(payload, &c); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Type, c.Schema+"."+c.Table, c.CommitTimestamp.Format("15:04:05.000"))
	fmt.Printf("new %+v\nold %+v\n", c.New, c.Old)
	// Output:
	// UPDATE public.todos 12:34:56.789
	// new {ID:9007199254740993 Title:write tests Done:true}
	// old {ID:9007199254740993 Title: Done:false}
}

func ExampleBinding() {
	b := postgres.Binding{
		Event:  postgres.Insert,
		Schema: "public",
		Table:  "messages",
		Filter: postgres.And(postgres.Eq("room_id", 5), postgres.Not(postgres.In("author", "bot", "a,b"))),
	}
	out, err := json.Marshal(b)
	fmt.Println(string(out), err)

	_, err = json.Marshal(postgres.Binding{Table: "messages", Filter: postgres.Eq("room_id", nil)})
	fmt.Println(err)
	// Output:
	// {"event":"INSERT","schema":"public","table":"messages","filter":"room_id=eq.5,author=not.in.(bot,\"a,b\")"} <nil>
	// json: error calling MarshalJSON for type postgres.Binding: postgres: invalid binding filter: bad filter: postgres: invalid filter on column "room_id" (eq): nil value (use Is(column, IsNull) to match NULL)
}

func ExampleMatchReply() {
	bindings := []postgres.Binding{{Event: postgres.Update, Table: "todos", Filter: postgres.Eq("id", 1)}}
	response := []byte(`{"postgres_changes":[{"id":31339675,"event":"UPDATE","schema":"public","table":"todos","filter":"id=eq.1"}]}`)
	ids, err := postgres.MatchReply(bindings, response)
	fmt.Println(ids, err)
	// Output: [31339675] <nil>
}

func ExampleParseEnvelope() {
	payload := []byte(`{"ids":[7,9],"data":{"schema":"public","table":"todos","type":"DELETE",
		"columns":[{"name":"id","type":"int8"}],"old_record":{"id":3},"errors":null}}`)
	var env postgres.Envelope
	if err := postgres.ParseEnvelope(payload, &env); err != nil {
		fmt.Println(err)
		return
	}
	// Route by binding id and event before decoding the rows.
	binding := postgres.Delete
	if env.Has(9) && binding.Matches(env.Type) {
		var c postgres.Change[map[string]any]
		err := postgres.DecodeEnvelope(&env, &c)
		fmt.Println(c.Type, c.Old, c.New == nil, err)
	}
	// Output: DELETE map[id:3] true <nil>
}

// A router reads many changes and hands each to another goroutine: it scans
// the envelope (the rows are located, not checked), and the goroutine that
// decodes checks them first. A malformed row surfaces there, as a
// *DecodeError for data.record.
func ExampleScanEnvelope() {
	payload := []byte(`{"ids":[7],"data":{"schema":"public","table":"todos","type":"INSERT",
		"columns":[{"name":"id","type":"int8"}],"record":{"id":tru},"errors":null}}`)
	var env postgres.Envelope
	fmt.Println(postgres.ScanEnvelope(payload, &env), env.Type, env.Has(7))

	var c postgres.Change[map[string]any]
	err := postgres.DecodeEnvelope(&env, &c) // or env.CheckRows() once, before sharing env
	var de *postgres.DecodeError
	fmt.Println(errors.As(err, &de), de.Field)
	// Output:
	// <nil> INSERT true
	// true data.record
}
