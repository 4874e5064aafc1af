package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rxrealtime/rxrealtime/stream"
)

// Codec encodes the user's values into payloads and decodes them back: the
// payload counterpart of the frame serializer chosen with [WithSerializer].
// It is given per stream or per send:
//
//   - [BroadcastsWith] decodes broadcast payloads with it, and
//     [Channel.SendWith] encodes them;
//   - [ChangesWith], [AllChangesWith] and [TypedBinding.WithCodec] decode
//     postgres_changes rows with it.
//
// A codec whose output is JSON (a faster JSON library, say) is used as is;
// one whose output is not (protobuf, MessagePack, gob) is wrapped with
// [Binary], so that its payloads travel as binary broadcasts. Unmarshal must
// not keep data after it returns (the bytes belong to the frame), and both
// methods must be safe for concurrent use. The JSON given to Unmarshal
// nests no deeper than phoenix.MaxDepth (deeper input is refused before it
// gets there, with an error wrapping phoenix.ErrTooDeep); JSON a codec
// finds inside a string is its own to bound.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSONCodec is encoding/json as a [Codec].
var JSONCodec Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Binary marks codec as a binary one (protobuf, MessagePack, gob...): with
// it, [Channel.SendWith] sends the encoded bytes as a binary broadcast
// (realtime-js's ArrayBuffer payload; vsn 2.0.0 only, else
// [ErrBinaryUnsupported]), and [BroadcastsWith] decodes binary payloads
// only, reporting JSON ones as [*PayloadError]s. postgres_changes rows are
// JSON: a binary codec given to [ChangesWith] is handed JSON all the same.
func Binary(codec Codec) Codec {
	if isBinary(codec) {
		return codec
	}
	return binaryCodec{codec}
}

type binaryCodec struct{ Codec }

func isBinary(c Codec) bool {
	_, ok := c.(binaryCodec)
	return ok
}

var (
	errBinaryForJSONCodec = errors.New("binary payload for a JSON codec")
	errJSONForBinaryCodec = errors.New("JSON payload for a binary codec")
)

// BroadcastsWith is [Broadcasts] with the payloads decoded by codec. A
// JSON codec decodes JSON payloads, a [Binary] codec binary ones; a payload
// of the other kind, or one codec rejects, is reported on [Client.Errors]
// as a [*PayloadError] and skipped.
func BroadcastsWith[T any](ch *Channel, event string, codec Codec) stream.Stream[Broadcast[T]] {
	bin := isBinary(codec)
	return broadcasts(ch, "BroadcastsWith", event, func(payload []byte, binary bool, dst *T) error {
		switch {
		case binary && !bin:
			return errBinaryForJSONCodec
		case !binary && bin:
			return errJSONForBinaryCodec
		}
		return codec.Unmarshal(payload, dst)
	})
}

// SendWith is [Channel.Send] with payload encoded by codec: as a binary
// broadcast for a [Binary] codec, else as JSON (which must be valid: it is
// checked before anything is sent). The options are Send's.
func (ch *Channel) SendWith(ctx context.Context, codec Codec, event string, payload any, opts ...CallOption) error {
	b, err := codec.Marshal(payload)
	if err != nil {
		return fmt.Errorf("rxrealtime: broadcast payload: %w", err)
	}
	if isBinary(codec) {
		if b == nil {
			b = []byte{}
		}
		return ch.Send(ctx, event, b, opts...)
	}
	if !json.Valid(b) {
		return fmt.Errorf("rxrealtime: broadcast payload: the codec's output is not JSON (wrap a binary codec with source.Binary)")
	}
	return ch.Send(ctx, event, json.RawMessage(b), opts...)
}
