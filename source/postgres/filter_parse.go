package postgres

import (
	"strings"

	"github.com/rxrealtime/rxrealtime/source/internal/pgfilter"
)

// parseSegment reads one "column=[not.]op.value" segment with the server's
// grammar (pgfilter), and checks what the server would only find out in SQL
// (an empty column, a malformed in list, a bad is operand).
func parseSegment(seg string) (condition, error) {
	seg = strings.TrimFunc(seg, isSpace)
	s, fault := pgfilter.Cut(seg)
	switch {
	case fault == pgfilter.EmptySegment:
		return condition{}, &FilterError{Reason: pgfilter.EmptySegmentText}
	case fault == pgfilter.NoEquals:
		return condition{}, &FilterError{Reason: "segment " + quoteForError(seg) + " has no '='"}
	case s.Column == "":
		return condition{}, &FilterError{Reason: "segment " + quoteForError(seg) + " has an empty column name"}
	case fault == pgfilter.NoOperator:
		return condition{}, &FilterError{Column: s.Column, Reason: "missing operator or value in " + quoteForError(s.Value)}
	case fault == pgfilter.UnknownOp:
		return condition{}, &FilterError{Column: s.Column, Op: s.Op, Reason: "unsupported operator"}
	case fault == pgfilter.InNotParenthesized:
		return condition{}, &FilterError{Column: s.Column, Op: s.Op, Reason: pgfilter.InParenthesesText}
	}
	c := condition{column: s.Column, op: s.Op, value: s.Value, not: s.Not}
	switch s.Op {
	case "in":
		elems, err := parseArrayLiteral("{" + s.Value[1:len(s.Value)-1] + "}")
		if err != nil {
			return condition{}, &FilterError{Column: s.Column, Op: s.Op, Reason: "list is not a valid PostgreSQL array: " + err.Error()}
		}
		if len(elems) > maxInValues {
			return condition{}, &FilterError{Column: s.Column, Op: s.Op, Reason: "the server accepts at most 100 values"}
		}
	case "is":
		switch strings.ToLower(pgfilter.Unquote(s.Value)) {
		case "null", "true", "false", "unknown":
		default:
			return condition{}, &FilterError{Column: s.Column, Op: s.Op, Reason: "operand must be null, true, false or unknown"}
		}
	}
	return c, nil
}

func quoteForError(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return "\"" + s + "\""
}
