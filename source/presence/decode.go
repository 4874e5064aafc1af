package presence

import (
	"bytes"
	"encoding/json"
	"errors"

	sjson "github.com/segmentio/encoding/json"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

var (
	errNoRef   = errors.New("meta without a phx_ref string")
	errRefPrev = errors.New("meta whose phx_ref_prev is not a string")
	errNoMetas = errors.New("entry without a metas list")
	errNull    = errors.New("payload is null, want an object")
)

// The payloads are read with the phoenix scanner, which neither recurses
// nor allocates: the whole payload is first checked against
// phoenix.MaxDepth, then its objects are walked member by member and the
// refs read as strings. Only a meta's own bytes reach a JSON decoder, to
// fill the meta's Value; with M = json.RawMessage or RawMeta, Value is a
// copy of those bytes and nothing is decoded at all (a RawMeta's refs are
// substrings of it). Each meta gets its own copy, not a slice of one copy
// of the payload, so a meta that stays in the state keeps nothing else of
// its message alive: one surviving meta per message would otherwise keep
// every message whole.

// DecodeState decodes a presence_state payload,
// {"<key>":{"metas":[{"phx_ref":"...",...},...]},...}. Each meta's Value is
// the same meta object decoded into M. Member names are matched exactly
// (as phoenix.js reads them, not case-insensitively as encoding/json
// would), and a name given twice takes its last value (each entry of a key
// given twice must still be a valid entry). A payload nested
// deeper than [phoenix.MaxDepth] is refused before anything is decoded.
// Errors are [*DecodeError]; a refused nesting also matches
// [phoenix.ErrTooDeep].
func DecodeState[M any](payload []byte) (State[M], error) {
	if err := checkPayload(payload); err != nil {
		return nil, err
	}
	return decodeEntries[M](payload)
}

// DecodeDiff decodes a presence_diff payload, {"joins":{...},"leaves":{...}},
// whose halves have the form of a presence_state; a half that is absent or
// null is empty. Other members are checked and ignored. Decoding follows
// the rules of [DecodeState]. Errors are [*DecodeError].
func DecodeDiff[M any](payload []byte) (Diff[M], error) {
	if err := checkPayload(payload); err != nil {
		return Diff[M]{}, err
	}
	var joins, leaves []byte
	err := phoenix.Members(payload, func(name, value []byte) error {
		switch string(name) {
		case "joins":
			joins = value
		case "leaves":
			leaves = value
		}
		return nil
	})
	if err != nil {
		return Diff[M]{}, &DecodeError{Err: err}
	}
	j, err := decodeHalf[M](joins)
	if err != nil {
		return Diff[M]{}, err
	}
	l, err := decodeHalf[M](leaves)
	if err != nil {
		return Diff[M]{}, err
	}
	return Diff[M]{Joins: j, Leaves: l}, nil
}

// checkPayload refuses a payload nested deeper than phoenix.MaxDepth (a
// whole-payload pass that neither recurses nor allocates) and a null one.
func checkPayload(payload []byte) error {
	if err := phoenix.CheckDepth(payload); err != nil {
		return &DecodeError{Err: err}
	}
	if isNull(payload) {
		return &DecodeError{Err: errNull}
	}
	return nil
}

func decodeHalf[M any](half []byte) (State[M], error) {
	if half == nil || isNull(half) {
		return State[M]{}, nil
	}
	return decodeEntries[M](half)
}

// decodeEntries decodes an object of presence entries, {"<key>":{"metas":[...]},...}.
func decodeEntries[M any](obj []byte) (State[M], error) {
	n := 0
	if err := phoenix.Members(obj, func(_, _ []byte) error { n++; return nil }); err != nil {
		return nil, &DecodeError{Err: err}
	}
	out := make(State[M], n)
	err := phoenix.Members(obj, func(name, entry []byte) error {
		key := string(name)
		metas, err := decodeEntry[M](entry)
		if err != nil {
			return &DecodeError{Key: key, Err: err}
		}
		out[key] = metas
		return nil
	})
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			return nil, de
		}
		return nil, &DecodeError{Err: err}
	}
	return out, nil
}

// decodeEntry decodes one key's entry, {"metas":[...]}.
func decodeEntry[M any](entry []byte) ([]Meta[M], error) {
	if isNull(entry) {
		return nil, errNoMetas
	}
	var list []byte
	if err := phoenix.Members(entry, func(name, value []byte) error {
		if string(name) == "metas" {
			list = value
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if list == nil || isNull(list) {
		return nil, errNoMetas
	}
	n := 0
	if err := phoenix.Elements(list, func([]byte) error { n++; return nil }); err != nil {
		return nil, err
	}
	metas := make([]Meta[M], n)
	i := 0
	if err := phoenix.Elements(list, func(raw []byte) error {
		err := decodeMeta(raw, &metas[i])
		i++
		return err
	}); err != nil {
		return nil, err
	}
	return metas, nil
}

// decodeMeta decodes one meta object into dst: its refs, then the whole
// object into dst.Value.
func decodeMeta[M any](raw []byte, dst *Meta[M]) error {
	if isNull(raw) {
		return errNoRef
	}
	var ref, prev []byte
	if err := phoenix.Members(raw, func(name, value []byte) error {
		switch string(name) {
		case "phx_ref":
			ref = value
		case "phx_ref_prev":
			prev = value
		}
		return nil
	}); err != nil {
		return err
	}
	if ref == nil || isNull(ref) {
		return errNoRef
	}
	if v, ok := any(&dst.Value).(*RawMeta); ok {
		// The refs share the meta's text when they have no escapes: the
		// same bytes, found in it, give the same string.
		text := string(raw)
		*v = RawMeta(text)
		if dst.Ref, ok = refIn(raw, text, ref); !ok {
			return errNoRef
		}
		if prev != nil && !isNull(prev) {
			if dst.RefPrev, ok = refIn(raw, text, prev); !ok {
				return errRefPrev
			}
		}
		return nil
	}
	var ok bool
	if dst.Ref, ok = phoenix.StringValue(ref); !ok {
		return errNoRef
	}
	if prev != nil && !isNull(prev) {
		if dst.RefPrev, ok = phoenix.StringValue(prev); !ok {
			return errRefPrev
		}
	}
	if v, ok := any(&dst.Value).(*json.RawMessage); ok {
		*v = append(json.RawMessage(nil), raw...)
		return nil
	}
	return sjson.Unmarshal(raw, &dst.Value)
}

// refIn returns the string value of the JSON string value v, found in the
// meta raw whose text is text: a substring of text when v has no escapes
// (wherever the same bytes occur in raw, text holds the same string).
func refIn(raw []byte, text string, v []byte) (string, bool) {
	if len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
		if i := bytes.Index(raw, v); i >= 0 {
			return text[i+1 : i+len(v)-1], true
		}
	}
	return phoenix.StringValue(v)
}

// isNull reports whether a value is the literal null (the scanner has
// already stripped the whitespace around values; a payload may still have
// some).
func isNull(v []byte) bool {
	i, j := 0, len(v)
	for i < j && isSpace(v[i]) {
		i++
	}
	for j > i && isSpace(v[j-1]) {
		j--
	}
	return string(v[i:j]) == "null"
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
