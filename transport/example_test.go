package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/rxrealtime/rxrealtime/transport"
)

// An echo server built with Upgrade, and a client that sends one message,
// reads the echo and closes; the server sees the client's close code.
func Example() {
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		conn, err := transport.Upgrade(w, r)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		for {
			data, binary, err := conn.ReadFrame()
			var ce *transport.CloseError
			if errors.As(err, &ce) {
				fmt.Println("server: client closed with", ce.Code, ce.Reason)
				return
			}
			if err != nil {
				return
			}
			_ = conn.WriteFrame(context.Background(), data, binary)
		}
	}))
	defer srv.Close()
	defer wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/realtime/v1/websocket"
	conn, err := transport.Dial(ctx, url, transport.WithQuery("apikey", "anon-key"), transport.WithQuery("vsn", "2.0.0"))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := conn.WriteFrame(ctx, []byte(`{"event":"heartbeat"}`), false); err != nil {
		fmt.Println(err)
		return
	}
	data, binary, err := conn.ReadFrame()
	fmt.Println(string(data), binary, err)
	_ = conn.Close(transport.StatusNormalClosure, "bye")
	wg.Wait()
	// Output:
	// {"event":"heartbeat"} false <nil>
	// server: client closed with 1000 (normal closure) bye
}

// A rejected handshake is a *HandshakeError carrying the status and the body;
// its message never includes the query string.
func ExampleHandshakeError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"Invalid API key"}`))
	}))
	defer srv.Close()

	_, err := transport.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/socket?apikey=secret")
	var he *transport.HandshakeError
	if errors.As(err, &he) {
		fmt.Println(he.StatusCode, string(he.Body))
		fmt.Println(strings.Contains(err.Error(), "secret"))
	}
	// Output:
	// 401 {"error":"Invalid API key"}
	// false
}
