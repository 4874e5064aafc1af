// Command supabase signs a user in with the Go Supabase auth client
// (gotrue-go), connects rxrealtime with that session through
// source/supabase, joins a channel, sends a broadcast over the socket and
// one over the REST API, and prints what comes back.
//
// With SUPABASE_URL (https://<ref>.supabase.co, or http://localhost:54321
// for the CLI) and SUPABASE_ANON_KEY in the environment it talks to that
// project, signing in as SUPABASE_EMAIL / SUPABASE_PASSWORD when both are
// set (anonymously otherwise). Without them it runs offline against the
// embedded Realtime server and an in-process GoTrue stub, with tokens
// that expire after two seconds, so the session is refreshed (and the new
// token sent to the server) while it runs.
//
// It is its own module, because it depends on the SDK:
//
//	go -C examples/supabase run .
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/supabase-community/gotrue-go"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/source/supabase"
	"github.com/rxrealtime/rxrealtime/source/supabase/gotruetest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "supabase:", err)
		os.Exit(1)
	}
}

// project is where to connect and as whom.
type project struct {
	url, anonKey    string
	auth            gotrue.Client
	email, password string
	wait            time.Duration // how long to stay subscribed
}

func run(ctx context.Context, out io.Writer, getenv func(string) string) error {
	p := project{
		url:      strings.TrimRight(getenv("SUPABASE_URL"), "/"),
		anonKey:  getenv("SUPABASE_ANON_KEY"),
		email:    getenv("SUPABASE_EMAIL"),
		password: getenv("SUPABASE_PASSWORD"),
	}
	if p.url == "" || p.anonKey == "" {
		fmt.Fprintln(out, "SUPABASE_URL or SUPABASE_ANON_KEY not set: running offline")
		stop := offline(&p)
		defer stop()
	} else {
		p.auth = gotrue.New("", p.anonKey).WithCustomGoTrueURL(p.url + "/auth/v1")
	}
	return session(ctx, out, p)
}

// offline starts the embedded Realtime server and a GoTrue stub that share
// a JWT secret, with one user whose tokens last two seconds.
func offline(p *project) (stop func()) {
	const secret = "example-jwt-secret-with-at-least-32-characters"
	srv := realtimetest.NewServer(realtimetest.WithJWTSecret(secret))
	p.anonKey = srv.Token("anon", time.Hour)
	p.email, p.password = "ada@example.com", "offline-password"
	gt := gotruetest.NewServer(secret, gotruetest.WithTTL(2*time.Second), gotruetest.WithUser(p.email, p.password))
	p.auth = gt.Client(p.anonKey)
	p.url = srv.HTTPURL() // a project URL, as the CLI's http://localhost:54321
	p.wait = 3 * time.Second
	return func() { gt.Close(); srv.Close() }
}

// Greeting is the broadcast payload.
type Greeting struct {
	Text string `json:"text"`
}

func session(ctx context.Context, out io.Writer, p project) error {
	var sess *supabase.Session
	if p.email != "" && p.password != "" {
		tok, err := p.auth.SignInWithEmailPassword(p.email, p.password)
		if err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
		sess, err = supabase.NewSession(p.auth, tok.Session, supabase.WithRefreshMargin(time.Second))
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "signed in")
	}

	c, err := supabase.Connect(ctx, p.url, p.anonKey, sess)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	fmt.Fprintln(out, "connected")

	ch, err := c.Channel("rxrealtime-example", source.WithBroadcastSelf(), source.WithBroadcastAck())
	if err != nil {
		return err
	}
	greetings := source.Broadcasts[Greeting](ch, "greeting").Observe(ctx)
	if err := ch.Subscribe(ctx); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	fmt.Fprintln(out, "subscribed")

	if err := ch.Send(ctx, "greeting", Greeting{Text: "hello over the socket"}); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if err := receive(ctx, out, greetings); err != nil {
		return err
	}
	api, err := c.REST()
	if err != nil {
		return err
	}
	if err := api.Broadcast(ctx, "rxrealtime-example", "greeting", Greeting{Text: "hello over REST"}, false); err != nil {
		return fmt.Errorf("REST broadcast: %w", err)
	}
	if err := receive(ctx, out, greetings); err != nil {
		return err
	}

	if p.wait > 0 && sess != nil {
		// Outlive the first token: the session is refreshed and the
		// channel stays joined.
		first := sess.Current().AccessToken
		select {
		case <-time.After(p.wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		if st, _ := ch.Status(); st.Status != source.StatusSubscribed {
			return fmt.Errorf("channel is %s after the token expired", st.Status)
		}
		if sess.Current().AccessToken == first {
			return errors.New("the session was not refreshed")
		}
		fmt.Fprintln(out, "token refreshed, still subscribed")
	}
	return ch.Unsubscribe(ctx)
}

func receive(ctx context.Context, out io.Writer, greetings <-chan source.Broadcast[Greeting]) error {
	select {
	case g, ok := <-greetings:
		if !ok {
			return errors.New("broadcast stream ended")
		}
		fmt.Fprintln(out, "received:", g.Payload.Text)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the broadcast: %w", ctx.Err())
	}
}
