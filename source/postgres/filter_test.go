package postgres

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source/internal/pgfilter"
	"pgregory.net/rapid"
)

type status string

type roomID struct{ n int }

func (r roomID) String() string { return "room-" + string(rune('0'+r.n)) }

func TestFilterRendering(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
	tests := []struct {
		name   string
		filter Filter
		want   string
	}{
		{"eq int", Eq("room_id", 5), "room_id=eq.5"},
		{"neq", Neq("a", -1), "a=neq.-1"},
		{"lt", Lt("a", uint8(7)), "a=lt.7"},
		{"lte", Lte("a", int64(9007199254740993)), "a=lte.9007199254740993"},
		{"gt", Gt("a", 1.5), "a=gt.1.5"},
		{"gte", Gte("a", float32(0.1)), "a=gte.0.1"},
		{"bool", Eq("done", true), "done=eq.true"},
		{"nan", Eq("f", math.NaN()), "f=eq.NaN"},
		{"inf", Eq("f", math.Inf(-1)), "f=eq.-Infinity"},
		{"json.Number", Eq("n", json.Number("1e3")), "n=eq.1e3"},
		{"time", Gt("at", at), "at=gt.2024-01-02T03:04:05.123456Z"},
		{"bytes", Eq("b", []byte{1, 255}), `b=eq."\\x01ff"`},
		{"named string", Eq("s", status("open")), "s=eq.open"},
		{"stringer", Eq("r", roomID{3}), "r=eq.room-3"},
		{"plain text with space", Eq("name", "plain text"), "name=eq.plain text"},
		{"text with comma", Eq("name", "a,b"), `name=eq."a,b"`},
		{"text with quotes", Eq("name", `he said "hi"`), `name=eq."he said \"hi\""`},
		{"text with backslash", Eq("name", `a\b`), `name=eq."a\\b"`},
		{"text with parens", Eq("name", "f(x)"), `name=eq."f(x)"`},
		{"padded text", Eq("name", " padded "), `name=eq." padded "`},
		{"empty text", Eq("name", ""), "name=eq."},
		{"dots and equals", Eq("v", "a=b.c"), "v=eq.a=b.c"},
		{"in ints", In("id", 1, 2, 3), "id=in.(1,2,3)"},
		{"in strings", In("name", "a,b", "c", "", "NULL", `x"y`, "a b", "f(x)", `\`), `name=in.("a,b",c,"","NULL","x\"y","a b","f(x)","\\")`},
		{"in uuids", In("id", "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69"), "id=in.(3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69)"},
		{"like", Like("name", "a%"), "name=like.a%"},
		{"ilike", ILike("name", "%A_"), "name=ilike.%A_"},
		{"match", Match("name", "^a.*"), "name=match.^a.*"},
		{"imatch", IMatch("name", "b$"), "name=imatch.b$"},
		{"isdistinct", IsDistinct("a", 1), "a=isdistinct.1"},
		{"is null", Is("deleted_at", IsNull), "deleted_at=is.null"},
		{"not", Not(Eq("id", 5)), "id=not.eq.5"},
		{"not not", Not(Not(Eq("id", 5))), "id=eq.5"},
		{"not is", Not(Is("deleted_at", IsNull)), "deleted_at=not.is.null"},
		{"and", And(Eq("a", 1), Gt("b", 2), Not(In("c", 3, 4))), "a=eq.1,b=gt.2,c=not.in.(3,4)"},
		{"and skips zero", And(Filter{}, Eq("a", 1), Filter{}), "a=eq.1"},
		{"empty and", And(), ""},
		{"zero", Filter{}, ""},
		{"raw", RawFilter(" id=eq.1 , name=not.in.(\"a,b\",c) "), `id=eq.1,name=not.in.("a,b",c)`},
		{"raw blank", RawFilter("   "), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.filter.Err())
			assert.Equal(t, tt.want, tt.filter.String())
			assert.Equal(t, tt.want == "", tt.filter.IsZero())
		})
	}
}

func TestFilterErrors(t *testing.T) {
	many := make([]any, 101)
	for i := range many {
		many[i] = i
	}
	tests := []struct {
		name   string
		filter Filter
		column string
		op     string
	}{
		{"empty column", Eq("", 1), "", "eq"},
		{"column with =", Eq("a=b", 1), "a=b", "eq"},
		{"column with comma", In("a,b", 1), "a,b", "in"},
		{"column with paren", Gt("f(x)", 1), "f(x)", "gt"},
		{"padded column", Eq(" a", 1), " a", "eq"},
		{"invalid utf-8 column", Eq("\xff", 1), "\xff", "eq"},
		{"nil value", Eq("a", nil), "a", "eq"},
		{"slice value", Eq("a", []int{1}), "a", "eq"},
		{"struct value", Eq("a", struct{}{}), "a", "eq"},
		{"pointer value", Eq("a", new(int)), "a", "eq"},
		{"NUL in text", Eq("a", "x\x00y"), "a", "eq"},
		{"invalid utf-8 text", Neq("a", "\xff"), "a", "neq"},
		{"bad json.Number", Eq("a", json.Number("1x")), "a", "eq"},
		{"empty in", In("a"), "a", "in"},
		{"too many in values", In("a", many...), "a", "in"},
		{"nil in value", In("a", 1, nil), "a", "in"},
		{"bad is operand", Is("a", "maybe"), "a", "is"},
		{"is on bad column", Is("", IsNull), "", "is"},
		{"not of two", Not(And(Eq("a", 1), Eq("b", 2))), "", "not"},
		{"not of none", Not(Filter{}), "", "not"},
		{"not keeps error", Not(Eq("", 1)), "", "eq"},
		{"and keeps first error", And(Eq("a", 1), Eq("b", nil), Eq("", 2)), "b", "eq"},
		{"raw unknown operator", RawFilter("subject=foo.hey"), "subject", "foo"},
		{"raw undefined", RawFilter("undefined"), "", ""},
		{"raw empty segment", RawFilter("a=eq.1,,b=eq.2"), "", ""},
		{"raw trailing comma", RawFilter("a=eq.1,"), "", ""},
		{"raw in without parens", RawFilter("id=in.1,2"), "id", "in"},
		{"raw bad in list", RawFilter(`id=in.("a)`), "id", "in"},
		{"raw empty column", RawFilter("=eq.1"), "", ""},
		{"raw no operator", RawFilter("a=5"), "a", ""},
		{"raw bad is", RawFilter("a=is.maybe"), "a", "is"},
		{"raw double not", RawFilter("a=not.not.eq.1"), "a", "not"},
		{"raw in over 100", RawFilter("a=in.(" + strings.Repeat("1,", 100) + "1)"), "a", "in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.filter.Err()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidFilter)
			var fe *FilterError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.column, fe.Column)
			assert.Equal(t, tt.op, fe.Op)
			assert.Empty(t, tt.filter.String(), "a bad filter never renders")
			assert.False(t, tt.filter.IsZero())
			assert.Contains(t, err.Error(), "postgres: invalid filter")
		})
	}
}

func TestRawFilterAcceptsServerExamples(t *testing.T) {
	for _, s := range []string{
		"subject=eq.hey",
		"subject=in.(hidee,ho)",
		"subject=not.like.hey%",
		"id=gt.0,id=lt.100",
		"a=is.NULL",
		`name=eq."quoted, with comma"`,
		"a=isdistinct.1,b=imatch.^x",
	} {
		f := RawFilter(s)
		require.NoError(t, f.Err(), s)
		assert.Equal(t, s, f.String())
		assert.Equal(t, s, RawFilter(f.String()).String(), "rendering is stable")
	}
}

// serverReads parses a rendered filter the way the server does and returns,
// per condition, the operand it ends up comparing with: the unquoted value,
// or for in the elements of the array literal the list becomes.
func serverReads(t interface{ Fatalf(string, ...any) }, s string) [][]any {
	var out [][]any
	for _, seg := range pgfilter.Split(strings.TrimFunc(s, isSpace)) {
		c, err := parseSegment(seg)
		if err != nil {
			t.Fatalf("server rejects %q: %v", s, err)
		}
		if c.op == "in" {
			elems, err := parseArrayLiteral("{" + c.value[1:len(c.value)-1] + "}")
			if err != nil {
				t.Fatalf("in list %q: %v", c.value, err)
			}
			out = append(out, elems)
			continue
		}
		out = append(out, []any{pgfilter.Unquote(c.value)})
	}
	return out
}

func TestFilterSurvivesTheServerParser(t *testing.T) {
	text := rapid.OneOf(
		rapid.String(),
		rapid.StringOf(rapid.SampledFrom([]rune(` ,()"\{}.=abNUL`+"\t\u00a0\u200bé"))),
	)
	rapid.Check(t, func(t *rapid.T) {
		var filters []Filter
		var want [][]any
		n := rapid.IntRange(1, 4).Draw(t, "conditions")
		for i := 0; i < n; i++ {
			if rapid.Bool().Draw(t, "in") {
				vals := rapid.SliceOfN(text, 1, 5).Draw(t, "values")
				args := make([]any, len(vals))
				elems := make([]any, len(vals))
				for j, v := range vals {
					args[j], elems[j] = v, v
				}
				f := In("col", args...)
				if !allValid(vals) {
					require.Error(t, f.Err())
					return
				}
				filters = append(filters, f)
				want = append(want, elems)
				continue
			}
			v := text.Draw(t, "value")
			f := Eq("col", v)
			if !validText(v) {
				require.Error(t, f.Err())
				return
			}
			if rapid.Bool().Draw(t, "not") {
				f = Not(f)
			}
			filters = append(filters, f)
			want = append(want, []any{v})
		}
		f := And(filters...)
		require.NoError(t, f.Err())
		assert.Equal(t, want, serverReads(t, f.String()), "%q", f.String())
		assert.Equal(t, f.String(), RawFilter(f.String()).String())
	})
}

func allValid(vs []string) bool {
	for _, v := range vs {
		if !validText(v) {
			return false
		}
	}
	return true
}

func TestFilterErrorMessage(t *testing.T) {
	err := Eq("a", nil).Err()
	assert.Equal(t, `postgres: invalid filter on column "a" (eq): nil value (use Is(column, IsNull) to match NULL)`, err.Error())
	var fe *FilterError
	assert.True(t, errors.As(err, &fe))
}
