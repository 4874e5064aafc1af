package presence

import (
	"errors"

	sjson "github.com/segmentio/encoding/json"
)

var (
	errNoRef   = errors.New("meta without a phx_ref string")
	errNoMetas = errors.New("entry without a metas list")
	errNull    = errors.New("payload is null, want an object")
)

// wireEntry is one key's entry: {"metas":[{...},...]}.
type wireEntry struct {
	Metas []sjson.RawMessage `json:"metas"`
}

type wireRefs struct {
	Ref     *string `json:"phx_ref"`
	RefPrev *string `json:"phx_ref_prev"`
}

// DecodeState decodes a presence_state payload,
// {"<key>":{"metas":[{"phx_ref":"...",...},...]},...}. Each meta's Value is
// the same meta object decoded into M. Errors are [*DecodeError].
func DecodeState[M any](payload []byte) (State[M], error) {
	var raw map[string]wireEntry
	if err := sjson.Unmarshal(payload, &raw); err != nil {
		return nil, &DecodeError{Err: err}
	}
	if raw == nil {
		return nil, &DecodeError{Err: errNull}
	}
	return decodeEntries[M](raw)
}

// DecodeDiff decodes a presence_diff payload, {"joins":{...},"leaves":{...}},
// whose halves have the form of a presence_state. Errors are [*DecodeError].
func DecodeDiff[M any](payload []byte) (Diff[M], error) {
	var raw *struct {
		Joins  map[string]wireEntry `json:"joins"`
		Leaves map[string]wireEntry `json:"leaves"`
	}
	if err := sjson.Unmarshal(payload, &raw); err != nil {
		return Diff[M]{}, &DecodeError{Err: err}
	}
	if raw == nil {
		return Diff[M]{}, &DecodeError{Err: errNull}
	}
	joins, err := decodeEntries[M](raw.Joins)
	if err != nil {
		return Diff[M]{}, err
	}
	leaves, err := decodeEntries[M](raw.Leaves)
	if err != nil {
		return Diff[M]{}, err
	}
	return Diff[M]{Joins: joins, Leaves: leaves}, nil
}

func decodeEntries[M any](raw map[string]wireEntry) (State[M], error) {
	out := make(State[M], len(raw))
	for key, entry := range raw {
		if entry.Metas == nil {
			return nil, &DecodeError{Key: key, Err: errNoMetas}
		}
		metas := make([]Meta[M], len(entry.Metas))
		for i, m := range entry.Metas {
			var refs wireRefs
			if err := sjson.Unmarshal(m, &refs); err != nil {
				return nil, &DecodeError{Key: key, Err: err}
			}
			if refs.Ref == nil {
				return nil, &DecodeError{Key: key, Err: errNoRef}
			}
			metas[i].Ref = *refs.Ref
			if refs.RefPrev != nil {
				metas[i].RefPrev = *refs.RefPrev
			}
			if err := sjson.Unmarshal(m, &metas[i].Value); err != nil {
				return nil, &DecodeError{Key: key, Err: err}
			}
		}
		out[key] = metas
	}
	return out, nil
}
