package realtimetest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rxrealtime/rxrealtime/operators"
	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

// chatLine is what the application broadcasts in a room.
type chatLine struct {
	From, Text string
}

// room is the application's own code, the code under test: it follows a
// chat room and hands on the lines said in it.
type room struct {
	ch    *source.Channel
	lines chan chatLine
}

// joinRoom joins the room name on c and follows its lines until c closes.
func joinRoom(ctx context.Context, c *source.Client, name string) (*room, error) {
	ch, err := c.Channel(name)
	if err != nil {
		return nil, err
	}
	r := &room{ch: ch, lines: make(chan chatLine, 16)}
	source.Broadcasts[chatLine](ch, "line").Subscribe(ctx, func(b source.Broadcast[chatLine]) { r.lines <- b.Payload })
	return r, ch.Subscribe(ctx)
}

// say broadcasts a line in the room.
func (r *room) say(ctx context.Context, from, text string) error {
	return r.ch.Send(ctx, "line", chatLine{From: from, Text: text})
}

// A test of one's own code (room, above) against the test server: two
// clients, alice and bob, in one room; alice's connection, and only hers,
// is dropped; her room comes back and hears bob again.
//
// The server listens on an in-memory pipe (WithPipe) and the clients dial
// it (source.WithDialer(s.DialPipe)), so nothing touches the network and
// the whole exchange can run inside a testing/synctest bubble, where every
// timer (the reconnect's backoff here; heartbeats, push timeouts and your
// own code's timers alike) runs on the bubble's clock: the second of
// backoff below passes in no real time, and the same run gives the same
// output every time. In a test, put the body of this example inside
// synctest.Test:
//
//	func TestRoomComesBackAfterADrop(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			s := realtimetest.NewServer(realtimetest.WithPipe())
//			defer s.Close()
//			// ... the rest of the body (t.Fatal where it panics) ...
//		})
//	}
//
// (TestExampleWithPipeInABubble runs this very example so.) Each client
// names itself with a query parameter (source.WithParam("client", ...)),
// which the server keeps in ClientInfo.Params, so that Server.ConnsWithParam
// finds the connection of one client among several for Faults.DropConn.
func ExampleWithPipe() {
	s := realtimetest.NewServer(realtimetest.WithPipe())
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	connect := func(name string) *source.Client {
		c, err := source.Connect(ctx, s.URL(), source.WithAPIKey("anon-key"),
			source.WithDialer(s.DialPipe),    // through the pipe
			source.WithParam("client", name), // this client's name on the server
			source.WithReconnectBackoff(operators.StepBackoff{time.Second}))
		if err != nil {
			panic(err)
		}
		return c
	}
	alice, bob := connect("alice"), connect("bob")
	defer alice.Close(context.Background())
	defer bob.Close(context.Background())
	aliceRoom, err := joinRoom(ctx, alice, "lobby")
	if err != nil {
		panic(err)
	}
	bobRoom, err := joinRoom(ctx, bob, "lobby")
	if err != nil {
		panic(err)
	}
	bobConn := s.ConnsWithParam("client", "bob")[0]

	statuses := aliceRoom.ch.Statuses().Observe(ctx)
	<-statuses // the current one: SUBSCRIBED
	for _, id := range s.ConnsWithParam("client", "alice") {
		s.Faults().DropConn(id)
	}
	dropped := time.Now()
	for st := range statuses {
		fmt.Println("alice's room:", st.Status)
		if st.Status == source.StatusSubscribed {
			break
		}
	}
	fmt.Println("back after", time.Since(dropped).Round(time.Second)) // the backoff

	if err := bobRoom.say(ctx, "bob", "welcome back"); err != nil {
		panic(err)
	}
	fmt.Printf("alice hears: %+v\n", <-aliceRoom.lines)
	for _, ci := range s.Clients() {
		if ci.Params.Get("client") == "bob" {
			fmt.Println("bob kept his connection:", ci.ID == bobConn)
		}
	}
	// Output:
	// alice's room: CHANNEL_ERROR
	// alice's room: JOINING
	// alice's room: SUBSCRIBED
	// back after 1s
	// alice hears: {From:bob Text:welcome back}
	// bob kept his connection: true
}
