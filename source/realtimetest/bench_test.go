package realtimetest

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/rxrealtime/rxrealtime/transport"
)

// benchReceivers joins n raw sockets to topic and returns them.
func benchReceivers(b *testing.B, s *Server, n int, topic string) []*transport.Conn {
	b.Helper()
	conns := make([]*transport.Conn, n)
	for i := range conns {
		c, err := transport.Dial(context.Background(), wsURL(s, "2.0.0", "k"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.CloseNow() })
		join := `["1","1","` + topic + `","phx_join",{"config":{}}]`
		if err := c.WriteFrame(context.Background(), []byte(join), false); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadFrame(); err != nil {
			b.Fatal(err)
		}
		conns[i] = c
	}
	return conns
}

// drain reads n frames from every connection.
func drain(b *testing.B, conns []*transport.Conn, n int) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if _, _, err := c.ReadFrame(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	return &wg
}

// BenchmarkBroadcastFanout measures one client broadcast delivered to 10
// other sockets, end to end over loopback (per broadcast).
func BenchmarkBroadcastFanout(b *testing.B) {
	s, err := Start(WithMaxEventsPerSecond(1<<30), WithMaxRecordedFrames(0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	recv := benchReceivers(b, s, 10, "realtime:bench")
	send := benchReceivers(b, s, 1, "realtime:bench")[0]
	frame := []byte(`["1","2","realtime:bench","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1,"y":2}}]`)
	b.ReportAllocs()
	b.ResetTimer()
	wg := drain(b, recv, b.N)
	for range b.N {
		if err := send.WriteFrame(context.Background(), frame, false); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
}

// BenchmarkEmitChange measures one postgres change matched against 10
// channels with a filter and delivered to the 5 that match.
func BenchmarkEmitChange(b *testing.B) {
	s, err := Start(WithMaxEventsPerSecond(1<<30), WithMaxRecordedFrames(0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var match []*transport.Conn
	for i := range 10 {
		c, err := transport.Dial(context.Background(), wsURL(s, "2.0.0", "k"))
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		join := `["1","1","realtime:db` + strconv.Itoa(i) + `","phx_join",{"config":{"postgres_changes":[` +
			`{"event":"INSERT","schema":"public","table":"messages","filter":"room=eq.` + strconv.Itoa(i%2) + `"}]}}]`
		_ = c.WriteFrame(context.Background(), []byte(join), false)
		_, _, _ = c.ReadFrame() // reply
		_, _, _ = c.ReadFrame() // system
		if i%2 == 0 {
			match = append(match, c)
		}
	}
	change := Change{Type: Insert, Schema: "public", Table: "messages",
		Columns: []Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "room", Type: "int4"}, {Name: "body", Type: "text"}},
		Record:  []byte(`{"id":1,"room":0,"body":"hello world"}`)}
	b.ReportAllocs()
	b.ResetTimer()
	wg := drain(b, match, b.N)
	for range b.N {
		if n, err := s.EmitChange(change); err != nil || n != len(match) {
			b.Fatalf("delivered %d, %v", n, err)
		}
	}
	wg.Wait()
}
