package source_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"time"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

// Two bindings of two tables on one channel, each read as its own type.
func ExampleBind() {
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

	type Message struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
	}
	type Reaction struct {
		MessageID int64  `json:"message_id"`
		Emoji     string `json:"emoji"`
	}
	messages := source.Bind[Message](postgres.Binding{Event: postgres.Insert, Table: "messages"})
	reactions := source.Bind[Reaction](postgres.Binding{Event: postgres.Insert, Table: "reactions"})
	ch, _ := c.Channel("room", messages.Option(), reactions.Option(), source.WithWaitForPostgres())
	msgs := messages.Changes(ch).Observe(ctx)
	reacts := reactions.Changes(ch).Observe(ctx)
	if err := ch.Subscribe(ctx); err != nil {
		fmt.Println(err)
		return
	}

	_, _ = srv.EmitChange(realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "reactions",
		Columns: []realtimetest.Column{{Name: "message_id", Type: "int8"}, {Name: "emoji", Type: "text"}},
		Record:  Reaction{MessageID: 1, Emoji: "🎉"}})
	_, _ = srv.EmitChange(realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "messages",
		Columns: []realtimetest.Column{{Name: "id", Type: "int8"}, {Name: "body", Type: "text"}},
		Record:  Message{ID: 1, Body: "shipped"}})
	m, r := <-msgs, <-reacts
	fmt.Println(m.Table, m.New.ID, m.New.Body)
	fmt.Println(r.Table, r.New.MessageID, r.New.Emoji)
	// Output:
	// messages 1 shipped
	// reactions 1 🎉
}

// gob stands in for protobuf: any binary codec wrapped with source.Binary.
type gobPayloads struct{}

func (gobPayloads) Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}

func (gobPayloads) Unmarshal(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// A broadcast whose payload is encoded by a binary codec, sent and
// received.
func ExampleBroadcastsWith() {
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

	type Move struct {
		Piece    string
		From, To string
	}
	codec := source.Binary(gobPayloads{})
	ch, _ := c.Channel("game", source.WithBroadcastSelf(), source.WithBroadcastAck())
	moves := source.BroadcastsWith[Move](ch, "move", codec).Observe(ctx)
	if err := ch.Subscribe(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if err := ch.SendWith(ctx, codec, "move", Move{Piece: "knight", From: "g1", To: "f3"}); err != nil {
		fmt.Println(err)
		return
	}
	b := <-moves
	fmt.Println(b.Event, b.Payload.Piece, b.Payload.From, b.Payload.To)
	// Output:
	// move knight g1 f3
}
