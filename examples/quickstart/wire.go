package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// wireClient is a deliberately minimal Phoenix client over transport and
// the phoenix serializers: one reader goroutine feeding a channel of
// decoded messages, refs from a counter. It stands in for the real client
// (package source), which will replace it.
type wireClient struct {
	conn *transport.Conn
	ser  phoenix.Serializer
	ref  int
	in   chan phoenix.Message
	done chan error // receives the reader's final error, then is closed
}

// dialWire connects to a Realtime endpoint (…/socket) with vsn 2.0.0, the
// way realtime-js does (user broadcasts as binary frames).
func dialWire(ctx context.Context, endpoint, apikey string) (*wireClient, error) {
	conn, err := transport.Dial(ctx, endpoint+"/websocket", transport.WithQuery("apikey", apikey),
		transport.WithQuery("vsn", phoenix.VersionV2))
	if err != nil {
		return nil, err
	}
	c := &wireClient{
		conn: conn,
		ser:  phoenix.NewV2(phoenix.WithBinaryUserBroadcasts(true)),
		in:   make(chan phoenix.Message, 64),
		done: make(chan error, 1),
	}
	go c.readLoop()
	return c, nil
}

func (c *wireClient) readLoop() {
	defer close(c.done)
	defer close(c.in)
	for {
		data, binary, err := c.conn.ReadFrame()
		if err != nil {
			c.done <- err
			return
		}
		var m phoenix.Message
		if err := c.ser.Decode(&m, data, binary); err != nil {
			continue // malformed frames are skipped
		}
		c.in <- m
	}
}

// close closes the socket and waits for the reader.
func (c *wireClient) close() error {
	err := c.conn.Close(transport.StatusNormalClosure, "")
	for range c.in { // drain so the reader can finish
	}
	readErr := <-c.done
	if readErr != nil && !errors.Is(readErr, transport.ErrClosed) {
		return readErr
	}
	return err
}

// push sends one message and returns its ref.
func (c *wireClient) push(ctx context.Context, joinRef, topic, event string, payload []byte) (string, error) {
	c.ref++
	ref := strconv.Itoa(c.ref)
	if joinRef == "" && event == phoenix.EventJoin {
		joinRef = ref
	}
	m := phoenix.Message{JoinRef: joinRef, Ref: ref, Topic: topic, Event: event, Payload: payload}
	frame, binary, err := c.ser.Encode(nil, &m)
	if err != nil {
		return "", err
	}
	return ref, c.conn.WriteFrame(ctx, frame, binary)
}

// next returns the next message for which match is true, discarding others.
func (c *wireClient) next(ctx context.Context, match func(*phoenix.Message) bool) (phoenix.Message, error) {
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				return phoenix.Message{}, fmt.Errorf("connection closed")
			}
			if match(&m) {
				return m, nil
			}
		case <-ctx.Done():
			return phoenix.Message{}, ctx.Err()
		}
	}
}

// reply waits for the reply to ref and returns its response, or an error
// for a status other than ok.
func (c *wireClient) reply(ctx context.Context, ref string) ([]byte, error) {
	m, err := c.next(ctx, func(m *phoenix.Message) bool { return m.Event == phoenix.EventReply && m.Ref == ref })
	if err != nil {
		return nil, err
	}
	status, resp, err := phoenix.ParseReply(m.Payload)
	if err != nil {
		return nil, err
	}
	if status != "ok" {
		return nil, fmt.Errorf("reply %s: %s", status, resp)
	}
	return resp, nil
}

// event matches messages of one event on one topic.
func event(topic, name string) func(*phoenix.Message) bool {
	return func(m *phoenix.Message) bool { return m.Topic == topic && m.Event == name }
}
