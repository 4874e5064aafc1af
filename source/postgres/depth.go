package postgres

// Nesting depth (issue 18). A Go stack overflow kills the process, so every
// decode of server input is bounded by phoenix.MaxDepth before a decoder
// recurses:
//
//   - Rows: ParseEnvelope walks them with phoenix.Skip; ScanEnvelope locates
//     them with phoenix.Locate and checkRows (CheckRows, DecodeEnvelope,
//     DecodeEnvelopeWith, CheckColumns) walks them with phoenix.Skip before
//     any decoder sees them. Both refuse a row nested deeper than the
//     limit, so the row decoders (decodeMapRow, decodeTypedRow, a codec's
//     Unmarshal) decode rows without another pass over them.
//   - The columns list: located with phoenix.Locate, then checked with
//     phoenix.Skip by lookupTable before it is decoded.
//   - JSON held in a string (a json or jsonb value sent as text, an element
//     of a _json or _jsonb array): nothing has walked it as JSON, so it is
//     bounded (jsonText, or phoenix.CheckDepth in convertScalar) before it
//     is parsed.
//   - MatchReply's response: bounded with phoenix.CheckDepth, as a caller
//     may hand it bytes nothing walked.

import (
	"errors"
	"strings"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// jsonText returns the JSON value the text s holds, without the space
// around it, and whether s holds exactly one well-formed JSON value. It
// walks s once, with the bounded scanner: err wraps [phoenix.ErrTooDeep]
// if the value nests deeper than [phoenix.MaxDepth], and is nil otherwise.
func jsonText(s string) (b []byte, ok bool, err error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, false, nil
	}
	b = []byte(t)
	end, err := phoenix.Skip(b, 0)
	switch {
	case errors.Is(err, phoenix.ErrTooDeep):
		return nil, false, err
	case err != nil || end != len(b):
		return nil, false, nil
	}
	return b, true, nil
}
