// Command chat runs a two-person chat room on the embedded
// Realtime-compatible server (source/realtimetest): Alice and Bob each
// have their own client, join the channel "room", announce themselves with
// presence, exchange broadcast messages (acknowledged by the server), and
// Alice sees Bob come and go. It prints the conversation and exits.
//
//	go run ./examples/chat
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/presence"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// Message is the payload of "message" broadcasts.
type Message struct {
	From string `json:"from"`
	Text string `json:"text"`
}

// Member is a presence meta.
type Member struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// person is one chat participant: a client, its channel, and the streams
// it reads.
type person struct {
	name     string
	client   *source.Client
	room     *source.Channel
	messages <-chan source.Broadcast[Message]
	members  <-chan presence.Event[Member]
}

// join connects name to the room: presence keyed by the name, broadcasts
// acknowledged by the server. The streams are observed before subscribing,
// so nothing is missed.
func join(ctx context.Context, url, name string) (*person, error) {
	c, err := source.Connect(ctx, url, source.WithAPIKey("anon-key"))
	if err != nil {
		return nil, err
	}
	room, err := c.Channel("room", source.WithPresence(name), source.WithBroadcastAck())
	if err != nil {
		return nil, errors.Join(err, closeClient(c))
	}
	p := &person{
		name:     name,
		client:   c,
		room:     room,
		messages: source.Broadcasts[Message](room, "message").Observe(ctx),
		members:  source.PresenceEvents[Member](room).Observe(ctx),
	}
	if err := room.Subscribe(ctx); err != nil {
		return nil, errors.Join(err, closeClient(c))
	}
	if err := room.Track(ctx, Member{Name: name, Status: "online"}); err != nil {
		return nil, errors.Join(err, closeClient(c))
	}
	return p, nil
}

func closeClient(c *source.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Close(ctx)
}

// say broadcasts text to the room; it returns once the server has
// acknowledged it.
func (p *person) say(ctx context.Context, out io.Writer, text string) error {
	fmt.Fprintf(out, "%s -> room: %s\n", p.name, text)
	return p.room.Send(ctx, "message", Message{From: p.name, Text: text})
}

// hear waits for the next message.
func (p *person) hear(ctx context.Context, out io.Writer) error {
	m, err := next(ctx, p.messages, func(source.Broadcast[Message]) bool { return true })
	if err != nil {
		return fmt.Errorf("%s waiting for a message: %w", p.name, err)
	}
	fmt.Fprintf(out, "%s <- %s: %s\n", p.name, m.Payload.From, m.Payload.Text)
	return nil
}

// see waits for a presence join or leave of key.
func (p *person) see(ctx context.Context, out io.Writer, kind presence.Kind, key string) error {
	ev, err := next(ctx, p.members, func(ev presence.Event[Member]) bool { return ev.Kind == kind && ev.Key == key })
	if err != nil {
		return fmt.Errorf("%s waiting for %s to %s: %w", p.name, key, kind, err)
	}
	m := ev.Presences[0].Value
	if kind == presence.Join {
		fmt.Fprintf(out, "%s sees %s %s\n", p.name, m.Name, m.Status)
	} else {
		fmt.Fprintf(out, "%s sees %s leave\n", p.name, m.Name)
	}
	return nil
}

// next returns the next value of ch for which ok is true.
func next[T any](ctx context.Context, ch <-chan T, ok func(T) bool) (T, error) {
	for {
		select {
		case v, open := <-ch:
			if !open {
				var zero T
				return zero, errors.New("stream ended")
			}
			if ok(v) {
				return v, nil
			}
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
}

// run is the whole example; out receives the printed lines.
func run(ctx context.Context, out io.Writer) (err error) {
	ctx, cancel := context.WithCancel(ctx) // ends the observers, read or not
	defer cancel()
	srv, err := realtimetest.Start()
	if err != nil {
		return err
	}
	defer srv.Close()

	alice, err := join(ctx, srv.URL(), "alice")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeClient(alice.client)) }()
	if err := alice.see(ctx, out, presence.Join, "alice"); err != nil {
		return err
	}
	bob, err := join(ctx, srv.URL(), "bob")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeClient(bob.client)) }()
	// Bob learns who is there from the presence state; Alice from a diff.
	if err := bob.see(ctx, out, presence.Join, "alice"); err != nil {
		return err
	}
	if err := alice.see(ctx, out, presence.Join, "bob"); err != nil {
		return err
	}

	steps := []func() error{
		func() error { return bob.say(ctx, out, "hello alice") },
		func() error { return alice.hear(ctx, out) },
		func() error { return alice.say(ctx, out, "hi bob, welcome") },
		func() error { return bob.hear(ctx, out) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}

	// Bob leaves; his presence goes with his channel.
	if err := bob.room.Unsubscribe(ctx); err != nil {
		return err
	}
	if err := alice.see(ctx, out, presence.Leave, "bob"); err != nil {
		return err
	}
	state, err := source.PresenceState[Member](alice.room)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "alice: %d online\n", len(state))
	return nil
}
