package postgres

import (
	"slices"

	sjson "github.com/segmentio/encoding/json"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// MatchReply matches the response of a successful join reply,
// {"postgres_changes":[{"id":..,"event":..,"schema":..,"table":..,"filter":..},...]},
// against the bindings sent in the join, and returns the server id of each
// binding, in the bindings' order. Changes list these ids (see
// [Envelope.Has]).
//
// As in realtime-js, entries are compared by position: event, schema, table
// and filter must equal what the binding rendered (absent equals empty);
// select is not compared. A response without a postgres_changes key gives
// nil ids and no error (realtime-js then reports SUBSCRIBED at once). A
// difference gives a [*MismatchError]; a response that cannot be read, or a
// binding that does not validate, a [*DecodeError] or [*BindingError]; a
// response nested deeper than [phoenix.MaxDepth] is a [*DecodeError]
// wrapping [phoenix.ErrTooDeep].
func MatchReply(bindings []Binding, response []byte) ([]int, error) {
	var reply struct {
		PostgresChanges *[]wireBinding `json:"postgres_changes"`
	}
	// One pass more than a decode, once per join: the response may come from
	// anywhere, and segmentio recurses into members it does not keep.
	if err := phoenix.CheckDepth(response); err != nil {
		return nil, &DecodeError{Field: "response", Err: err}
	}
	if err := sjson.Unmarshal(response, &reply); err != nil {
		return nil, &DecodeError{Field: "response", Err: err}
	}
	if reply.PostgresChanges == nil {
		return nil, nil
	}
	server := *reply.PostgresChanges
	if len(server) != len(bindings) {
		return nil, &MismatchError{Index: -1, Reason: "the server echoed a different number of bindings"}
	}
	ids := make([]int, len(bindings))
	for i, b := range bindings {
		want, err := b.wire()
		if err != nil {
			return nil, err
		}
		got := server[i]
		switch {
		case got.Event != want.Event:
			return nil, &MismatchError{Index: i, Reason: "event differs"}
		case got.Schema != want.Schema || got.Table != want.Table:
			return nil, &MismatchError{Index: i, Reason: "schema or table differs"}
		case got.Filter != want.Filter:
			return nil, &MismatchError{Index: i, Reason: "filter differs"}
		case got.ID == nil:
			return nil, &MismatchError{Index: i, Reason: "no id"}
		}
		ids[i] = int(*got.ID)
	}
	return slices.Clip(ids), nil
}
