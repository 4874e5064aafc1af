package realtimetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/rxrealtime/rxrealtime/source/internal/pgfilter"
)

// condition is one parsed "column=[not.]op.value" filter segment.
type condition struct {
	column string
	op     string
	value  string // as the server stores it: in → "{a,b}", others unquoted
	negate bool

	list []string       // elements of an in list
	re   *regexp.Regexp // like, ilike, match, imatch; nil if the pattern does not compile
}

// errEmptySegment is the parse error for "a=eq.1,,b=eq.2".
var errEmptySegment = errors.New(pgfilter.EmptySegmentText)

// parseFilter parses a postgres_changes filter string with the server's
// grammar (pgfilter): top-level commas separate AND-ed segments (commas inside
// parentheses or double quotes do not split), each segment is
// column=[not.]op.value. The error text is what follows
// "Error parsing `filter` params: ".
func parseFilter(filter string) ([]condition, error) {
	trimmed := strings.TrimFunc(filter, unicode.IsSpace)
	if trimmed == "" {
		return nil, nil
	}
	var out []condition
	for _, seg := range pgfilter.Split(trimmed) {
		c, err := parseSegment(seg)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// parseSegment reads one segment and words its errors as the server does.
func parseSegment(seg string) (condition, error) {
	seg = strings.TrimFunc(seg, unicode.IsSpace)
	s, fault := pgfilter.Cut(seg)
	switch fault {
	case pgfilter.EmptySegment:
		return condition{}, errEmptySegment
	case pgfilter.NoEquals:
		return condition{}, errors.New(inspectStrings(seg))
	case pgfilter.NoOperator:
		return condition{}, errors.New(inspectStrings(s.Value))
	case pgfilter.UnknownOp:
		return condition{}, errors.New(inspectStrings(s.Op, s.Value))
	case pgfilter.InNotParenthesized:
		return condition{}, errors.New(pgfilter.InParenthesesText)
	}
	c := condition{column: s.Column, op: s.Op, negate: s.Not}
	if s.Op == "in" {
		inner := s.Value[1 : len(s.Value)-1]
		c.value = "{" + inner + "}"
		c.list = parseArrayLiteral(inner)
		return c, nil
	}
	c.value = pgfilter.Unquote(s.Value)
	switch s.Op {
	case "like", "ilike":
		c.re, _ = regexp.Compile(likeToRegexp(c.value, s.Op == "ilike"))
	case "match":
		c.re, _ = regexp.Compile(c.value)
	case "imatch":
		c.re, _ = regexp.Compile("(?i)" + c.value)
	}
	return c, nil
}

// parseArrayLiteral splits the inside of a Postgres array literal: comma
// separated, elements optionally double-quoted with backslash escapes,
// surrounding whitespace of unquoted elements ignored.
func parseArrayLiteral(inner string) []string {
	if strings.TrimSpace(inner) == "" {
		return nil
	}
	var (
		out    []string
		cur    strings.Builder
		quoted bool
		wasQ   bool
	)
	flush := func() {
		s := cur.String()
		if !wasQ {
			s = strings.TrimSpace(s)
		}
		out = append(out, s)
		cur.Reset()
		wasQ = false
	}
	for i := 0; i < len(inner); i++ {
		ch := inner[i]
		switch {
		case quoted && ch == '\\' && i+1 < len(inner):
			cur.WriteByte(inner[i+1])
			i++
		case quoted && ch == '"':
			quoted = false
		case quoted:
			cur.WriteByte(ch)
		case ch == '"':
			quoted, wasQ = true, true
			cur.Reset()
		case ch == ',':
			flush()
		default:
			if !wasQ {
				cur.WriteByte(ch)
			}
		}
	}
	flush()
	return out
}

// likeToRegexp translates a SQL LIKE pattern (% _ and backslash escape).
func likeToRegexp(p string, fold bool) string {
	var b strings.Builder
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^(?s:")
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; ch {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString(")$")
	return b.String()
}

// tri is SQL three-valued logic.
type tri int8

const (
	triNull tri = iota
	triFalse
	triTrue
)

func triOf(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// visible reports whether a row passes every condition, with SQL semantics:
// a condition on a column the row lacks, or a comparison with NULL, hides
// the row. types maps column names to their Postgres type names.
func visible(conds []condition, row record, types map[string]string) bool {
	for i := range conds {
		raw, ok := row.get(conds[i].column)
		if !ok {
			return false
		}
		if conds[i].eval(raw, types[conds[i].column]) != triTrue {
			return false
		}
	}
	return true
}

// eval applies the condition to a JSON column value.
func (c *condition) eval(raw json.RawMessage, typ string) tri {
	val, isNull := jsonText(raw)
	kind := kindOf(typ, raw)
	switch c.op {
	case "is":
		var r bool
		switch c.value {
		case "null", "unknown":
			r = isNull
		case "true", "false":
			if isNull {
				r = false
			} else {
				b, ok := parseBool(val)
				r = ok && b == (c.value == "true")
			}
		default:
			return triNull
		}
		if c.negate {
			r = !r
		}
		return triOf(r)
	case "isdistinct":
		var distinct bool
		if isNull {
			distinct = true
		} else {
			cmp, ok := compareValues(kind, val, c.value)
			distinct = !ok || cmp != 0
		}
		if c.negate {
			distinct = !distinct
		}
		return triOf(distinct)
	}
	if isNull {
		return triNull
	}
	var r bool
	switch c.op {
	case "in":
		for _, e := range c.list {
			if cmp, ok := compareValues(kind, val, e); ok && cmp == 0 {
				r = true
				break
			}
		}
	case "like", "ilike", "match", "imatch":
		if c.re == nil {
			return triNull
		}
		r = c.re.MatchString(val)
	default:
		cmp, ok := compareValues(kind, val, c.value)
		if !ok {
			return triNull
		}
		switch c.op {
		case "eq":
			r = cmp == 0
		case "neq":
			r = cmp != 0
		case "lt":
			r = cmp < 0
		case "lte":
			r = cmp <= 0
		case "gt":
			r = cmp > 0
		case "gte":
			r = cmp >= 0
		}
	}
	if c.negate {
		r = !r
	}
	return triOf(r)
}

// valueKind is how two values are compared.
type valueKind uint8

const (
	kindText valueKind = iota
	kindNumber
	kindBool
)

// kindOf picks the comparison from the column's Postgres type, or from the
// JSON value when the type is unknown.
func kindOf(typ string, raw json.RawMessage) valueKind {
	switch typ {
	case "int2", "int4", "int8", "float4", "float8", "numeric", "oid", "smallint", "integer", "bigint",
		"real", "double precision", "decimal":
		return kindNumber
	case "bool", "boolean":
		return kindBool
	case "":
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 {
			switch c := raw[0]; {
			case c == '-' || (c >= '0' && c <= '9'):
				return kindNumber
			case c == 't' || c == 'f':
				return kindBool
			}
		}
	}
	return kindText
}

// compareValues compares a (column text) with b (filter text) as kind.
// ok is false when a value cannot be cast, as Postgres would fail the cast.
func compareValues(kind valueKind, a, b string) (int, bool) {
	switch kind {
	case kindNumber:
		x, okx := new(big.Float).SetString(strings.TrimSpace(a))
		y, oky := new(big.Float).SetString(strings.TrimSpace(b))
		if !okx || !oky {
			return 0, false
		}
		return x.Cmp(y), true
	case kindBool:
		x, okx := parseBool(a)
		y, oky := parseBool(b)
		if !okx || !oky {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	}
	return strings.Compare(a, b), true
}

// parseBool accepts Postgres boolean literals.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, true
	case "f", "false", "n", "no", "off", "0":
		return false, true
	}
	return false, false
}

// jsonText renders a JSON value as Postgres' `value #>> '{}'` does: strings
// unquoted, null as SQL NULL, everything else as its JSON text.
func jsonText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s, false
		}
	}
	return string(raw), false
}

// inspectStrings renders a list of strings as Elixir's inspect/1 does, e.g.
// ["foo", "hey"].
func inspectStrings(ss ...string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(inspectString(s))
	}
	b.WriteByte(']')
	return b.String()
}

// inspectString quotes s the way Elixir's inspect/1 does for printable
// strings.
func inspectString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '#':
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteString(`\#`)
			} else {
				b.WriteByte(ch)
			}
		default:
			if ch < 0x20 {
				b.WriteString(`\x` + strconv.FormatUint(uint64(ch), 16))
			} else {
				b.WriteByte(ch)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
