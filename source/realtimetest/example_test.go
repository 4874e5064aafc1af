package realtimetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// connect dials the server with vsn 2.0.0 and joins topic with payload,
// returning the connection and the join reply.
func connect(s *realtimetest.Server, topic, payload string) (*transport.Conn, string) {
	ctx := context.Background()
	conn, err := transport.Dial(ctx, s.URL()+"/websocket?apikey=anon-key&vsn=2.0.0")
	if err != nil {
		panic(err)
	}
	join := `["1","1","` + topic + `","phx_join",` + payload + `]`
	if err := conn.WriteFrame(ctx, []byte(join), false); err != nil {
		panic(err)
	}
	reply, _, err := conn.ReadFrame()
	if err != nil {
		panic(err)
	}
	return conn, string(reply)
}

func ExampleNewServer() {
	s := realtimetest.NewServer()
	defer s.Close()

	conn, reply := connect(s, "realtime:room", `{"config":{"broadcast":{"self":true}}}`)
	defer conn.CloseNow()
	fmt.Println(reply)

	ctx := context.Background()
	_ = conn.WriteFrame(ctx, []byte(`["1","2","realtime:room","broadcast",{"type":"broadcast","event":"hi","payload":{"n":1}}]`), false)
	frame, _, _ := conn.ReadFrame()
	fmt.Println(string(frame))
	// Output:
	// ["1","1","realtime:room","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]
	// [null,null,"realtime:room","broadcast",{"type":"broadcast","event":"hi","payload":{"n":1}}]
}

func ExampleServer_EmitChange() {
	s := realtimetest.NewServer()
	defer s.Close()

	conn, _ := connect(s, "realtime:db",
		`{"config":{"postgres_changes":[{"event":"INSERT","schema":"public","table":"messages","filter":"room=eq.lobby"}]}}`)
	defer conn.CloseNow()
	system, _, _ := conn.ReadFrame()
	fmt.Println(string(system))

	n, err := s.EmitChange(realtimetest.Change{
		Type:   realtimetest.Insert,
		Schema: "public",
		Table:  "messages",
		Columns: []realtimetest.Column{
			{Name: "id", Type: "int8", PrimaryKey: true},
			{Name: "room", Type: "text"},
			{Name: "body", Type: "text"},
		},
		Record:          map[string]any{"id": 1, "room": "lobby", "body": "hello"},
		CommitTimestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	fmt.Println(n, err)
	change, _, _ := conn.ReadFrame()
	fmt.Println(string(change))
	// Output:
	// ["1",null,"realtime:db","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"db"}]
	// 1 <nil>
	// [null,null,"realtime:db","postgres_changes",{"ids":[11601688],"data":{"schema":"public","table":"messages","commit_timestamp":"2026-01-02T03:04:05.000Z","type":"INSERT","columns":[{"name":"id","type":"int8"},{"name":"room","type":"text"},{"name":"body","type":"text"}],"record":{"id":1,"room":"lobby","body":"hello"},"errors":null}}]
}

func ExampleFaults() {
	s := realtimetest.NewServer()
	defer s.Close()
	conn, _ := connect(s, "realtime:room", `{"config":{}}`)

	// Tell every channel the server is going away, then close with 1012,
	// as the real server does when a tenant's configuration changes.
	s.Faults().CloseAll(transport.StatusServiceRestart)
	frame, _, _ := conn.ReadFrame()
	fmt.Println(string(frame))
	_, _, err := conn.ReadFrame()
	var ce *transport.CloseError
	fmt.Println(errors.As(err, &ce), ce.Code)

	// Other faults: abrupt drops, half-open sockets, slow or lost replies,
	// rejected joins, a restart on the same port.
	conn, _ = connect(s, "realtime:room", `{"config":{}}`)
	s.Faults().DropAll()
	_, _, err = conn.ReadFrame()
	fmt.Println(errors.As(err, &ce), ce.Code)

	s.Faults().RejectJoins("RealtimeRestarting: Realtime is restarting, please standby")
	conn, reply := connect(s, "realtime:room", `{"config":{}}`)
	fmt.Println(reply)
	conn.CloseNow()
	s.Faults().Reset()

	if err := s.Faults().Restart(); err != nil { // same address afterwards
		fmt.Println(err)
	}
	conn, reply = connect(s, "realtime:room", `{"config":{}}`)
	defer conn.CloseNow()
	fmt.Println(reply)
	// Output:
	// [null,null,"realtime:room","system",{"extension":"system","status":"ok","message":"Server requested disconnect"}]
	// true 1012 (service restart)
	// true 1006 (abnormal closure)
	// ["1","1","realtime:room","phx_reply",{"status":"error","response":{"reason":"RealtimeRestarting: Realtime is restarting, please standby"}}]
	// ["1","1","realtime:room","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]
}

func ExampleServer_WaitFor() {
	s := realtimetest.NewServer()
	defer s.Close()
	conn, _ := connect(s, "realtime:room", `{"config":{}}`)
	defer conn.CloseNow()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Assert on the wire: the join the client sent, as the server decoded it.
	f, err := s.WaitFor(ctx, func(f realtimetest.Frame) bool {
		return f.Dir == realtimetest.In && f.Msg.Event == "phx_join"
	})
	fmt.Println(err, f.Conn, f.Msg.Topic, f.Msg.JoinRef)
	fmt.Println(len(s.Clients()), s.Clients()[0].Channels[0].Topic)
	// Output:
	// <nil> 1 realtime:room 1
	// 1 realtime:room
}

func ExampleSignJWT() {
	secret := "super-secret-jwt-token-with-at-least-32-characters-long"
	s := realtimetest.NewServer(realtimetest.WithJWTSecret(secret))
	defer s.Close()

	expired, _ := realtimetest.SignJWT([]byte(secret), map[string]any{"role": "anon", "exp": time.Now().Add(-time.Hour).Unix()})
	_, err := transport.Dial(context.Background(), s.URL()+"/websocket?vsn=2.0.0&apikey="+expired)
	var he *transport.HandshakeError
	if errors.As(err, &he) {
		fmt.Println(he.StatusCode, string(he.Body))
	}
	// Output:
	// 401 {"error":"Token has expired"}
}

// A client that loads a table over PostgREST before it subscribes reads
// the server's copy of the table: the rows set as fixtures, then every
// change emitted.
func ExampleServer_SetTable() {
	s := realtimetest.NewServer()
	defer s.Close()

	columns := []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "room", Type: "text"}, {Name: "body", Type: "text"}}
	_ = s.SetTable(realtimetest.Table{Schema: "public", Name: "messages", Columns: columns, Rows: []any{
		map[string]any{"id": 1, "room": "lobby", "body": "hello"},
		map[string]any{"id": 2, "room": "attic", "body": "psst"},
	}})
	_, _ = s.EmitChange(realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "messages", Columns: columns,
		Record: map[string]any{"id": 3, "room": "lobby", "body": "hi"}})
	_, _ = s.EmitChange(realtimetest.Change{Type: realtimetest.Update, Schema: "public", Table: "messages", Columns: columns,
		Record: map[string]any{"id": 1, "room": "lobby", "body": "hello, edited"}, OldRecord: map[string]any{"id": 1}})

	req, _ := http.NewRequest(http.MethodGet, s.HTTPURL()+"/rest/v1/messages?select=*&room=eq.lobby&order=id.desc", nil)
	req.Header.Set("apikey", "anon-key")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.Status, res.Header.Get("Content-Range"))
	fmt.Println(string(body))
	// Output:
	// 200 OK 0-1/*
	// [{"id":3,"room":"lobby","body":"hi"},{"id":1,"room":"lobby","body":"hello, edited"}]
}

func ExampleServer_EmitBroadcasts() {
	s := realtimetest.NewServer()
	defer s.Close()

	// Three realtime.send calls in one transaction: stored with one inserted_at.
	_, _ = s.EmitBroadcasts(
		realtimetest.DBBroadcast{Topic: "room", Event: "e", Payload: []byte(`{"n":1}`), Private: true},
		realtimetest.DBBroadcast{Topic: "room", Event: "e", Payload: []byte(`{"n":2}`), Private: true},
		realtimetest.DBBroadcast{Topic: "room", Event: "e", Payload: []byte(`{"n":3}`), Private: true})

	// A join that asks for a replay gets them in the order the real server replays them: reversed.
	conn, _ := connect(s, "realtime:room", `{"config":{"private":true,"broadcast":{"replay":{"since":0}}}}`)
	defer conn.CloseNow()
	for range 3 {
		frame, _, _ := conn.ReadFrame()
		var m []json.RawMessage
		_ = json.Unmarshal(frame, &m)
		var p struct{ Payload struct{ N int } }
		_ = json.Unmarshal(m[4], &p)
		fmt.Print(p.Payload.N, " ")
	}
	fmt.Println()
	// Output: 3 2 1
}

func ExampleFaults_SlowReplay() {
	s := realtimetest.NewServer()
	defer s.Close()
	_, _ = s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "room", Event: "stored", Private: true})
	s.Faults().SlowReplay(300 * time.Millisecond)

	conn, _ := connect(s, "realtime:room", `{"config":{"private":true,"broadcast":{"replay":{"since":0}}}}`)
	defer conn.CloseNow()
	// A push after the join: its reply comes after the replay, as the channel process's own frames do.
	_ = conn.WriteFrame(context.Background(), []byte(`["1","2","realtime:room","presence",{"type":"presence"}]`), false)
	// Sent live while the replay waits: it overtakes the replay.
	_, _ = s.EmitBroadcast(realtimetest.DBBroadcast{Topic: "room", Event: "live", Private: true})
	for range 3 {
		frame, binary, _ := conn.ReadFrame()
		var m phoenix.Message
		_ = phoenix.V2.Decode(&m, frame, binary)
		switch {
		case m.Event == "phx_reply":
			fmt.Println("reply to the push")
		case m.Kind == phoenix.KindUserBroadcast:
			fmt.Println("live broadcast", m.UserEvent)
		default:
			fmt.Println("replayed broadcast")
		}
	}
	// Output:
	// live broadcast live
	// replayed broadcast
	// reply to the push
}
