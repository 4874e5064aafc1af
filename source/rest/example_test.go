package rest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rxrealtime/rxrealtime/source/rest"
)

func ExampleClient_Broadcast() {
	// A stand-in for the Realtime server.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.RequestURI(), r.Header.Get("Authorization") != "")
		if r.URL.Query().Get("private") == "true" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"Unauthorized"}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	c, err := rest.New(srv.URL+"/realtime/v1", "anon-key", rest.WithToken("user-jwt"), rest.WithHTTPClient(srv.Client()))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	fmt.Println(c.Broadcast(ctx, "room1", "cursor", map[string]int{"x": 1}, false))

	err = c.Broadcast(ctx, "realtime:room1", "cursor", map[string]int{"x": 2}, true)
	fmt.Println(errors.Is(err, rest.ErrForbidden), err)
	// Output:
	// POST /realtime/v1/api/broadcast/room1/events/cursor true
	// <nil>
	// POST /realtime/v1/api/broadcast/room1/events/cursor?private=true true
	// true rest: broadcast: 403 Forbidden: Unauthorized
}
