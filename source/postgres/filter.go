package postgres

import (
	"strings"

	"github.com/rxrealtime/rxrealtime/source/internal/pgfilter"
)

// Filter is a row filter of a [Binding] in the server's syntax
// ("room_id=eq.5", "id=in.(1,2,3)", "a=gt.0,b=not.is.null"). Build one with
// [Eq], [In], [Not], [And] and the other helpers, or from text with
// [RawFilter]. A helper given bad input returns a Filter that carries a
// [*FilterError]: [Filter.Err] reports it and [Binding.Validate] refuses the
// binding, so a bad filter is never sent. The zero Filter means no filter.
type Filter struct {
	conds []condition
	err   error
}

// condition is one comma-separated segment: column=[not.]op.value, with the
// value kept in its wire form (quoted when needed).
type condition struct {
	column string
	op     string
	value  string
	not    bool
}

// maxInValues is the server's limit on the number of values of an in filter.
const maxInValues = 100

// IsValue is the operand of [Is]: the server accepts only these four.
type IsValue string

// The operands of the is operator.
const (
	IsNull    IsValue = "null"
	IsTrue    IsValue = "true"
	IsFalse   IsValue = "false"
	IsUnknown IsValue = "unknown"
)

// String returns the filter in the server's syntax, or "" for the zero
// Filter and for a Filter that carries an error.
func (f Filter) String() string {
	if f.err != nil || len(f.conds) == 0 {
		return ""
	}
	var b strings.Builder
	for i, c := range f.conds {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.column)
		b.WriteByte('=')
		if c.not {
			b.WriteString("not.")
		}
		b.WriteString(c.op)
		b.WriteByte('.')
		b.WriteString(c.value)
	}
	return b.String()
}

// Err returns the [*FilterError] of a filter built from bad input, or nil.
func (f Filter) Err() error { return f.err }

// IsZero reports whether f has no conditions and no error.
func (f Filter) IsZero() bool { return f.err == nil && len(f.conds) == 0 }

func filterErr(column, op, reason string) Filter {
	return Filter{err: &FilterError{Column: column, Op: op, Reason: reason}}
}

// Eq matches rows whose column equals value ("column=eq.value").
//
// value may be a string, a bool, any integer or float type, json.Number,
// time.Time (sent as RFC 3339 with microseconds), []byte (sent as bytea hex),
// or a type implementing encoding.TextMarshaler or fmt.Stringer (such as a
// UUID type). Anything else, nil included, gives a [*FilterError]; use [Is]
// to match NULL.
func Eq(column string, value any) Filter { return compare("eq", column, value) }

// Neq matches rows whose column differs from value ("column=neq.value").
// Values are as for [Eq].
func Neq(column string, value any) Filter { return compare("neq", column, value) }

// Lt matches rows whose column is less than value ("column=lt.value").
func Lt(column string, value any) Filter { return compare("lt", column, value) }

// Lte matches rows whose column is at most value ("column=lte.value").
func Lte(column string, value any) Filter { return compare("lte", column, value) }

// Gt matches rows whose column is greater than value ("column=gt.value").
func Gt(column string, value any) Filter { return compare("gt", column, value) }

// Gte matches rows whose column is at least value ("column=gte.value").
func Gte(column string, value any) Filter { return compare("gte", column, value) }

// Like matches a text column against an SQL LIKE pattern ("column=like.a%").
// It needs a server with the extended operators (mid-2026 or later).
func Like(column, pattern string) Filter { return compare("like", column, pattern) }

// ILike is the case-insensitive [Like].
func ILike(column, pattern string) Filter { return compare("ilike", column, pattern) }

// Match matches a text column against a POSIX regular expression (~). It
// needs a server with the extended operators.
func Match(column, pattern string) Filter { return compare("match", column, pattern) }

// IMatch is the case-insensitive [Match] (~*).
func IMatch(column, pattern string) Filter { return compare("imatch", column, pattern) }

// IsDistinct matches rows whose column IS DISTINCT FROM value (NULL-aware
// inequality). It needs a server with the extended operators.
func IsDistinct(column string, value any) Filter { return compare("isdistinct", column, value) }

// Is matches rows whose column IS NULL, TRUE, FALSE or UNKNOWN
// ("column=is.null"). It needs a server with the extended operators.
func Is(column string, value IsValue) Filter {
	if err := checkColumn(column, "is"); err != nil {
		return Filter{err: err}
	}
	switch value {
	case IsNull, IsTrue, IsFalse, IsUnknown:
	default:
		return filterErr(column, "is", "operand must be null, true, false or unknown")
	}
	return Filter{conds: []condition{{column: column, op: "is", value: string(value)}}}
}

// In matches rows whose column equals one of values ("id=in.(1,2,3)").
// Values are as for [Eq]; strings are quoted PostgreSQL-array style when they
// need it (`name=in.("a,b",c)`). The server accepts 1 to 100 values.
func In(column string, values ...any) Filter {
	if err := checkColumn(column, "in"); err != nil {
		return Filter{err: err}
	}
	if len(values) == 0 {
		return filterErr(column, "in", "needs at least one value")
	}
	if len(values) > maxInValues {
		return filterErr(column, "in", "the server accepts at most 100 values")
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range values {
		s, err := scalarText(v)
		if err != nil {
			return filterErr(column, "in", err.Error())
		}
		if i > 0 {
			b.WriteByte(',')
		}
		writeArrayElement(&b, s)
	}
	b.WriteByte(')')
	return Filter{conds: []condition{{column: column, op: "in", value: b.String()}}}
}

// Not negates a single condition ("id=not.eq.5"). The server has no OR, so a
// filter of several conditions cannot be negated: that gives a
// [*FilterError]. Not(Not(f)) is f.
func Not(f Filter) Filter {
	if f.err != nil {
		return f
	}
	if len(f.conds) != 1 {
		return filterErr("", "not", "applies to exactly one condition (the server has no OR)")
	}
	c := f.conds[0]
	c.not = !c.not
	return Filter{conds: []condition{c}}
}

// And combines filters: a row must pass all of them ("a=eq.1,b=gt.2"). Zero
// filters are skipped; the first error among the filters is kept.
func And(filters ...Filter) Filter {
	var out Filter
	for _, f := range filters {
		if f.err != nil {
			return f
		}
		out.conds = append(out.conds, f.conds...)
	}
	return out
}

// RawFilter parses s in the server's filter syntax, the way the server does
// (comma-separated AND, a "not." prefix, double-quoted values, "in" lists in
// parentheses), so that a string the server would reject is reported by
// [Filter.Err] before it is sent. Blank s gives the zero Filter.
func RawFilter(s string) Filter {
	s = strings.TrimSpace(s)
	if s == "" {
		return Filter{}
	}
	var f Filter
	for _, seg := range pgfilter.Split(s) {
		c, err := parseSegment(seg)
		if err != nil {
			return Filter{err: err}
		}
		f.conds = append(f.conds, c)
	}
	return f
}

func compare(op, column string, value any) Filter {
	if err := checkColumn(column, op); err != nil {
		return Filter{err: err}
	}
	s, err := scalarText(value)
	if err != nil {
		return filterErr(column, op, err.Error())
	}
	return Filter{conds: []condition{{column: column, op: op, value: quoteValue(s)}}}
}

// checkColumn refuses column names the server's parser would split or trim
// differently from what was meant.
func checkColumn(column, op string) error {
	switch {
	case column == "":
		return &FilterError{Op: op, Reason: "empty column name"}
	case strings.ContainsAny(column, "=,()\"\\"):
		return &FilterError{Column: column, Op: op, Reason: `column name must not contain any of = , ( ) " \`}
	case strings.TrimSpace(column) != column:
		return &FilterError{Column: column, Op: op, Reason: "column name must not start or end with white space"}
	case !validText(column):
		return &FilterError{Column: column, Op: op, Reason: "column name must be valid UTF-8 without NUL"}
	}
	return nil
}

// quoteValue writes a scalar value in the form the server's parser reads
// back unchanged: double-quoted, with \ and " escaped, when it holds a
// character that the parser would take as syntax or when white space at
// either end would be trimmed.
func quoteValue(s string) string {
	if !needsQuotes(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	writeQuoted(&b, s)
	return b.String()
}

// writeQuoted writes s double-quoted, with " and \ escaped by a backslash.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	return strings.ContainsAny(s, ",()\"\\") || strings.TrimSpace(s) != s || trimsAtEdge(s)
}

// writeArrayElement writes one element of an in list. The list becomes a
// PostgreSQL array literal on the server, so elements follow that syntax:
// double-quoted, with \ and " escaped, when empty, when they contain array
// or filter syntax or white space, or when they read as NULL.
func writeArrayElement(b *strings.Builder, s string) {
	quote := s == "" || strings.EqualFold(s, "null") || strings.ContainsAny(s, "{},\"\\()") || trimsAtEdge(s)
	if !quote {
		for _, r := range s {
			if isSpace(r) {
				quote = true
				break
			}
		}
	}
	if !quote {
		b.WriteString(s)
		return
	}
	writeQuoted(b, s)
}
