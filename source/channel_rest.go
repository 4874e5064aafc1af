package source

import (
	"context"
	"encoding/json"

	"github.com/rxrealtime/rxrealtime/source/rest"
)

// ViaRESTIfNotJoined makes [Channel.Send] deliver the broadcast over the
// Realtime REST API (POST /api/broadcast/<name>/events/<event>, see
// [rest.Client.Broadcast]) when the channel is not joined at the moment of
// the call, instead of waiting for the join: realtime-js's send() fallback,
// made explicit per call here rather than a silent change of transport. A
// joined channel still sends over the socket. The REST client uses the
// socket client's URL (see [RESTEndpoint]), API key ([WithAPIKey], sent as
// the apikey header) and access token (the last one the provider or
// [Client.SetAuth] gave, else the provider's), with the call's [Timeout].
// [Persist] and [PersistTTL] become the REST persist query. The server's
// acceptance (202) is the acknowledgement; a refusal is a
// [*rest.StatusError]. A client without an API key cannot use REST: Send
// fails with an error wrapping [ErrInvalidOption]. Pushes ignore it.
func ViaRESTIfNotJoined() CallOption { return func(cc *callConfig) { cc.viaREST = true } }

// joinedNow reports whether the channel is joined at this moment; a holder of a shared channel, when it
// is subscribed and the shared channel joined.
func (ch *Channel) joinedNow() bool {
	if ch.hold != nil {
		return ch.hold.subscribed.Load() && !ch.isGone() && ch.hold.core.joinedNow()
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.state == stJoined
}

// sendREST delivers a broadcast with the client's REST client.
func (ch *Channel) sendREST(ctx context.Context, event string, payload []byte, binary bool, sc *callConfig) error {
	rc, err := ch.host.restClient()
	if err != nil {
		return err
	}
	var opts []rest.BroadcastOption
	if sc.persist {
		if sc.ttl > 0 {
			opts = append(opts, rest.PersistTTL(sc.ttl))
		} else {
			opts = append(opts, rest.Persist())
		}
	}
	if sc.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sc.timeout)
		defer cancel()
	}
	if binary {
		return rc.BroadcastBinary(ctx, ch.name, event, payload, ch.cfg.private, opts...)
	}
	return rc.Broadcast(ctx, ch.name, event, json.RawMessage(payload), ch.cfg.private, opts...)
}
