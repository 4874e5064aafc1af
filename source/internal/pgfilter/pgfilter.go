// Package pgfilter is the one grammar of postgres_changes filters, shared by
// the client (source/postgres, which checks a filter before sending it) and
// the embedded test server (source/realtimetest, which evaluates it). It reads
// a filter as the server does (Extensions.PostgresCdcRls.Subscriptions):
// top-level commas separate AND-ed segments, each segment is
// column=[not.]op.value. What a value means, and how an error is worded, is
// left to the caller.
package pgfilter

import "strings"

// Ops are the operators the server accepts
// (lib/extensions/postgres_cdc_rls/subscriptions.ex @filter_types).
// Operators after "in" need a server from mid-2026 or later.
var Ops = [...]string{"eq", "neq", "lt", "lte", "gt", "gte", "in", "like", "ilike", "is", "match", "imatch", "isdistinct"}

// KnownOp reports whether op is one of [Ops].
func KnownOp(op string) bool {
	for _, o := range Ops {
		if o == op {
			return true
		}
	}
	return false
}

// The error texts the server uses, word for word.
const (
	EmptySegmentText  = "filter must not contain empty segments (check for extra commas)"
	InParenthesesText = "`in` filter value must be wrapped by parentheses"
)

// Split splits a filter on the commas that are outside parentheses and
// double quotes, exactly as the server's split_top_level/6 does: a quote
// opens only right after '.', '(' or ',', and inside quotes a backslash
// escapes the next byte.
func Split(s string) []string {
	var parts []string
	depth, start := 0, 0
	quoted := false
	var prev byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quoted {
			switch {
			case c == '\\' && i+1 < len(s):
				i++
				prev = s[i]
			case c == '"':
				quoted = false
				prev = c
			default:
				prev = c
			}
			continue
		}
		switch {
		case c == '"' && (prev == '.' || prev == '(' || prev == ','):
			quoted = true
		case c == '(':
			depth++
		case c == ')':
			if depth > 0 {
				depth--
			}
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
			prev = 0
			continue
		}
		prev = c
	}
	return append(parts, s[start:])
}

// Segment is one "column=[not.]op.value" segment, its value in wire form.
type Segment struct {
	Column string
	Not    bool
	Op     string
	Value  string
}

// Fault is why [Cut] rejected a segment; the zero Fault means none.
type Fault uint8

// The faults, in the order Cut looks for them.
const (
	_ Fault = iota
	// EmptySegment: the segment is empty ([EmptySegmentText]).
	EmptySegment
	// NoEquals: the segment has no '='; Segment is zero.
	NoEquals
	// NoOperator: no '.' after the optional "not."; Segment.Value holds the
	// text after '=' and "not.".
	NoOperator
	// UnknownOp: Segment.Op is not in [Ops].
	UnknownOp
	// InNotParenthesized: an in value is not wrapped in parentheses
	// ([InParenthesesText]).
	InNotParenthesized
)

// Cut splits one segment, already trimmed by the caller, as the server's
// parse_segment/1 does. On a fault after NoEquals, the Segment holds what
// was read so far (at least Column).
func Cut(seg string) (Segment, Fault) {
	if seg == "" {
		return Segment{}, EmptySegment
	}
	column, rest, ok := strings.Cut(seg, "=")
	if !ok {
		return Segment{}, NoEquals
	}
	s := Segment{Column: column}
	if r, found := strings.CutPrefix(rest, "not."); found {
		s.Not, rest = true, r
	}
	op, value, ok := strings.Cut(rest, ".")
	if !ok {
		s.Value = rest
		return s, NoOperator
	}
	s.Op, s.Value = op, value
	if !KnownOp(op) {
		return s, UnknownOp
	}
	if op == "in" && (len(value) < 2 || value[0] != '(' || value[len(value)-1] != ')') {
		return s, InNotParenthesized
	}
	return s, 0
}

// Unquote returns the operand the server compares with: a value that starts
// with '"' and is one well-formed quoted string loses its quotes and
// backslash escapes; anything else is taken as is (unquote_value/1).
func Unquote(v string) string {
	if v == "" || v[0] != '"' {
		return v
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			if i == len(v)-1 {
				return b.String()
			}
			return v
		case c == '\\' && i+1 < len(v):
			i++
			b.WriteByte(v[i])
		default:
			b.WriteByte(c)
		}
	}
	return v
}
