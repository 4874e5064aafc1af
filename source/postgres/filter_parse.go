package postgres

import (
	"strings"
)

// splitTopLevel splits a filter on the commas that are outside parentheses
// and double quotes, exactly as the server's split_top_level/6 does: a quote
// opens only right after '.', '(' or ',', and inside quotes a backslash
// escapes the next byte.
func splitTopLevel(s string) []string {
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

// parseSegment reads one "column=[not.]op.value" segment as the server's
// parse_segment/1 does, and checks what the server would only find out in
// SQL (an empty column, a malformed in list, a bad is operand).
func parseSegment(seg string) (condition, error) {
	seg = strings.TrimFunc(seg, isSpace)
	if seg == "" {
		return condition{}, &FilterError{Reason: "filter must not contain empty segments (check for extra commas)"}
	}
	column, rest, ok := strings.Cut(seg, "=")
	if !ok {
		return condition{}, &FilterError{Reason: "segment " + quoteForError(seg) + " has no '='"}
	}
	if column == "" {
		return condition{}, &FilterError{Reason: "segment " + quoteForError(seg) + " has an empty column name"}
	}
	not := false
	if r, found := strings.CutPrefix(rest, "not."); found {
		not, rest = true, r
	}
	op, value, ok := strings.Cut(rest, ".")
	if !ok {
		return condition{}, &FilterError{Column: column, Reason: "missing operator or value in " + quoteForError(rest)}
	}
	if !knownOp(op) {
		return condition{}, &FilterError{Column: column, Op: op, Reason: "unsupported operator"}
	}
	c := condition{column: column, op: op, value: value, not: not}
	switch op {
	case "in":
		if len(value) < 2 || value[0] != '(' || value[len(value)-1] != ')' {
			return condition{}, &FilterError{Column: column, Op: op, Reason: "`in` filter value must be wrapped by parentheses"}
		}
		elems, err := parseArrayLiteral("{" + value[1:len(value)-1] + "}")
		if err != nil {
			return condition{}, &FilterError{Column: column, Op: op, Reason: "list is not a valid PostgreSQL array: " + err.Error()}
		}
		if len(elems) > maxInValues {
			return condition{}, &FilterError{Column: column, Op: op, Reason: "the server accepts at most 100 values"}
		}
	case "is":
		switch strings.ToLower(unquoteValue(value)) {
		case "null", "true", "false", "unknown":
		default:
			return condition{}, &FilterError{Column: column, Op: op, Reason: "operand must be null, true, false or unknown"}
		}
	}
	return c, nil
}

func knownOp(op string) bool {
	for _, o := range filterOps {
		if o == op {
			return true
		}
	}
	return false
}

// unquoteValue returns the operand the server compares with: a value that
// starts with '"' and is one well-formed quoted string loses its quotes and
// backslash escapes; anything else is taken as is (unquote_value/1).
func unquoteValue(v string) string {
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

func quoteForError(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return "\"" + s + "\""
}
