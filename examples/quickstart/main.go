// Command quickstart shows rxrealtime's pieces working end to end, with no
// Supabase project needed: it starts the embedded Realtime-compatible server
// (transport/realtimetest), connects to it, joins a channel listening to
// postgres_changes, broadcast and presence, and prints a database change, a
// broadcast and a presence update as they arrive. It exits within seconds.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
	"github.com/rxrealtime/rxrealtime/transport/realtimetest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

const topic = "realtime:quickstart"

// joinPayload subscribes to inserts into public.messages, asks for our own
// broadcasts back with acks, and enables presence under the key "gopher".
const joinPayload = `{"config":{` +
	`"broadcast":{"self":true,"ack":true},` +
	`"presence":{"enabled":true,"key":"gopher"},` +
	`"postgres_changes":[{"event":"INSERT","schema":"public","table":"messages"}],` +
	`"private":false}}`

// run is the whole example; out receives the printed lines.
func run(ctx context.Context, out io.Writer) error {
	srv, err := realtimetest.Start()
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintln(out, "server: listening on", srv.URL())

	c, err := dialWire(ctx, srv.URL(), "anon-key")
	if err != nil {
		return err
	}
	defer c.close()

	// Join, and wait for the reply and the after-join messages.
	ref, err := c.push(ctx, "", topic, phoenix.EventJoin, []byte(joinPayload))
	if err != nil {
		return err
	}
	joinRef := ref
	resp, err := c.reply(ctx, ref)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	var joined struct {
		PostgresChanges []struct {
			ID    int64  `json:"id"`
			Event string `json:"event"`
			Table string `json:"table"`
		} `json:"postgres_changes"`
	}
	if err := json.Unmarshal(resp, &joined); err != nil {
		return err
	}
	fmt.Fprintf(out, "joined: %s with %d postgres_changes binding(s)\n", topic, len(joined.PostgresChanges))
	sys, err := c.next(ctx, event(topic, phoenix.EventSystem))
	if err != nil {
		return err
	}
	var system struct{ Extension, Status, Message string }
	if err := json.Unmarshal(sys.Payload, &system); err != nil {
		return err
	}
	fmt.Fprintf(out, "system: %s %s: %s\n", system.Extension, system.Status, system.Message)
	state, err := c.next(ctx, event(topic, phoenix.EventPresenceSt))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "presence: state %s\n", state.Payload)

	// Presence: track ourselves and see the diff come back.
	ref, err = c.push(ctx, joinRef, topic, phoenix.EventPresence,
		[]byte(`{"type":"presence","event":"track","payload":{"name":"Gopher","status":"online"}}`))
	if err != nil {
		return err
	}
	if _, err := c.reply(ctx, ref); err != nil {
		return fmt.Errorf("track: %w", err)
	}
	diff, err := c.next(ctx, event(topic, phoenix.EventPresenceDif))
	if err != nil {
		return err
	}
	if err := printPresenceDiff(out, diff.Payload); err != nil {
		return err
	}

	// A database change, as the server would read it from the WAL.
	if _, err := srv.EmitChange(realtimetest.Change{
		Type: realtimetest.Insert, Schema: "public", Table: "messages",
		Columns: []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "body", Type: "text"}},
		Record:  map[string]any{"id": 1, "body": "hello from Postgres"},
	}); err != nil {
		return err
	}
	change, err := c.next(ctx, event(topic, phoenix.EventPostgres))
	if err != nil {
		return err
	}
	var pg struct {
		IDs  []int64 `json:"ids"`
		Data struct {
			Schema, Table, Type string
			Record              json.RawMessage
		} `json:"data"`
	}
	if err := json.Unmarshal(change.Payload, &pg); err != nil {
		return err
	}
	fmt.Fprintf(out, "postgres_changes: %s %s.%s %s\n", pg.Data.Type, pg.Data.Schema, pg.Data.Table, pg.Data.Record)

	// A broadcast to the channel; with self:true it comes back, then the ack.
	ref, err = c.push(ctx, joinRef, topic, phoenix.EventBroadcast,
		[]byte(`{"type":"broadcast","event":"cursor","payload":{"x":10,"y":20}}`))
	if err != nil {
		return err
	}
	bc, err := c.next(ctx, event(topic, phoenix.EventBroadcast))
	if err != nil {
		return err
	}
	userEvent, userPayload := bc.UserEvent, bc.Payload
	if bc.Kind == phoenix.KindJSON { // a text broadcast carries the envelope
		if userEvent, userPayload, _, err = phoenix.ParseBroadcast(bc.Payload); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "broadcast: %s %s (%s frame)\n", userEvent, userPayload, bc.Kind)
	if _, err := c.reply(ctx, ref); err != nil {
		return fmt.Errorf("broadcast ack: %w", err)
	}
	fmt.Fprintln(out, "broadcast: acknowledged")
	fmt.Fprintln(out, "done")
	return nil
}

// printPresenceDiff prints the joins and leaves of a presence_diff.
func printPresenceDiff(out io.Writer, payload []byte) error {
	var d struct {
		Joins, Leaves map[string]struct {
			Metas []map[string]any `json:"metas"`
		}
	}
	if err := json.Unmarshal(payload, &d); err != nil {
		return err
	}
	for key, g := range d.Joins {
		for _, m := range g.Metas {
			fmt.Fprintf(out, "presence: %s joined as %v (%v)\n", key, m["name"], m["status"])
		}
	}
	for key := range d.Leaves {
		fmt.Fprintf(out, "presence: %s left\n", key)
	}
	return nil
}
