package workload

import (
	"bufio"
	"context"
	"fmt"
	"strconv"

	"github.com/gobwas/ws"
	gojson "github.com/goccy/go-json"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

// BroadcastBody is the payload of the broadcasts workload 5 sends.
type BroadcastBody struct {
	Seq  int    `json:"seq"`
	Body string `json:"body"`
}

// broadcastText is the body every broadcast carries.
const broadcastText = "typing… the deploy is green again, can you check staging?"

// FloorSender returns the floor for workload 5: a raw gobwas/ws client that
// encodes each broadcast ({"type":"broadcast","event":"msg","payload":
// BroadcastBody}) with goccy/go-json, masks it and writes it through a
// 64 KiB buffer, flushing once at the end, then closes with the WebSocket
// closing handshake (so the source has read every broadcast).
func FloorSender() Sender { return floorSender{} }

type floorSender struct{}

func (floorSender) Send(ctx context.Context, endpoint string, v frames.Vsn, n int) error {
	c, topic, joinRef, err := dialJoined(ctx, endpoint, v)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.Close() })
	defer stop()
	defer c.close()
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	var msg, frame []byte
	type envelope struct {
		Type    string        `json:"type"`
		Event   string        `json:"event"`
		Payload BroadcastBody `json:"payload"`
	}
	for i := range n {
		payload, err := gojson.Marshal(envelope{"broadcast", "msg", BroadcastBody{Seq: i, Body: broadcastText}})
		if err != nil {
			return fmt.Errorf("workload: encode broadcast: %w", err)
		}
		msg = appendMessage(msg[:0], v, joinRef, strconv.Itoa(c.ref+1+i), topic, frames.BroadcastEvent, payload)
		frame = appendMasked(frame[:0], ws.OpText, msg)
		if _, err := bw.Write(frame); err != nil {
			return runErr(ctx, err)
		}
	}
	c.ref += n
	if err := bw.Flush(); err != nil {
		return runErr(ctx, err)
	}
	return nil
}

// SourceSender returns the source-capacity probe for workload 5: it writes
// one pre-encoded, pre-masked broadcast frame n times through the same
// buffer, so its rate is what the source can take in.
func SourceSender() Sender { return sourceSender{} }

type sourceSender struct{}

func (sourceSender) Send(ctx context.Context, endpoint string, v frames.Vsn, n int) error {
	c, topic, joinRef, err := dialJoined(ctx, endpoint, v)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.Close() })
	defer stop()
	defer c.close()
	payload, err := gojson.Marshal(BroadcastBody{Seq: 1, Body: broadcastText})
	if err != nil {
		return err
	}
	body := append([]byte(`{"type":"broadcast","event":"msg","payload":`), payload...)
	body = append(body, '}')
	frame := appendMasked(nil, ws.OpText, appendMessage(nil, v, joinRef, "", topic, frames.BroadcastEvent, body))
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	for range n {
		if _, err := bw.Write(frame); err != nil {
			return runErr(ctx, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return runErr(ctx, err)
	}
	return nil
}

// dialJoined connects a raw client and joins the one channel the senders
// broadcast on, waiting for the join's reply.
func dialJoined(ctx context.Context, endpoint string, v frames.Vsn) (c *rawConn, topic, joinRef string, err error) {
	c, err = dialRaw(ctx, Spec{Endpoint: endpoint, Vsn: v}.URL(), v)
	if err != nil {
		return nil, "", "", err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.Close() }) // ctx bounds the join too
	defer stop()
	topic = frames.Topic(0, 1)
	if joinRef, err = c.join(topic); err == nil {
		err = c.awaitReplies(1)
	}
	if err != nil {
		_ = c.close()
		return nil, "", "", runErr(ctx, err)
	}
	return c, topic, joinRef, nil
}
