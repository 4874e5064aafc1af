package realtimetest_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

// A test names each client with a query parameter of its own, finds that
// client's connection on the server, and drops just that one.
func ExampleServer_ConnsWithParam() {
	s := realtimetest.NewServer()
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	connect := func(name string) *source.Client {
		c, err := source.Connect(ctx, s.URL(), source.WithAPIKey("anon-key"), source.WithParam("client", name))
		if err != nil {
			panic(err)
		}
		return c
	}
	alice, bob := connect("alice"), connect("bob")
	defer alice.Close(ctx)
	defer bob.Close(ctx)

	aliceConn := s.ConnsWithParam("client", "alice")[0]
	bobConn := s.ConnsWithParam("client", "bob")[0]
	fmt.Println("dropped:", s.Faults().DropConn(aliceConn))
	for slices.Contains(s.ConnsWithParam("client", "alice"), aliceConn) {
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Println("bob keeps his connection:", slices.Equal(s.ConnsWithParam("client", "bob"), []realtimetest.ConnID{bobConn}))
	// Output:
	// dropped: true
	// bob keeps his connection: true
}
