package pgfilter

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitOnTopLevelCommasOnly(t *testing.T) {
	cases := map[string][]string{
		"":                        {""},
		"a=eq.1":                  {"a=eq.1"},
		"a=eq.1,b=lt.2":           {"a=eq.1", "b=lt.2"},
		"a=in.(1,2),b=eq.3":       {"a=in.(1,2)", "b=eq.3"},
		`a=eq."x,y",b=eq.3`:       {`a=eq."x,y"`, "b=eq.3"},
		`a=eq."x\",y",b=eq.3`:     {`a=eq."x\",y"`, "b=eq.3"},
		`a=in.("a,b",c)`:          {`a=in.("a,b",c)`},
		`a=eq.x"y,z"`:             {`a=eq.x"y`, `z"`}, // a quote opens only after '.', '(' or ','
		"a=eq.1,,b=eq.2":          {"a=eq.1", "", "b=eq.2"},
		"a=eq.),b=eq.2":           {"a=eq.)", "b=eq.2"}, // an unmatched ')' does not go negative
		"a=in.(1,b=eq.2":          {"a=in.(1,b=eq.2"},
		`a=eq."unterminated,b=1`:  {`a=eq."unterminated,b=1`},
		`a=eq."trailing\`:         {`a=eq."trailing\`},
		`a=eq.1, b=eq.2`:          {"a=eq.1", " b=eq.2"},
		`a=eq.",",b=eq.",",c=eq.`: {`a=eq.","`, `b=eq.","`, "c=eq."},
	}
	for in, want := range cases {
		assert.Equal(t, want, Split(in), in)
	}
}

func TestCutReadsASegmentAsTheServerDoes(t *testing.T) {
	cases := []struct {
		in    string
		want  Segment
		fault Fault
	}{
		{"a=eq.1", Segment{Column: "a", Op: "eq", Value: "1"}, 0},
		{"a=not.like.x%", Segment{Column: "a", Not: true, Op: "like", Value: "x%"}, 0},
		{"a=eq.1.5", Segment{Column: "a", Op: "eq", Value: "1.5"}, 0},
		{"a=in.(1,2)", Segment{Column: "a", Op: "in", Value: "(1,2)"}, 0},
		{"a=in.()", Segment{Column: "a", Op: "in", Value: "()"}, 0},
		{"=eq.1", Segment{Op: "eq", Value: "1"}, 0}, // an empty column is the caller's concern
		{"", Segment{}, EmptySegment},
		{"undefined", Segment{}, NoEquals},
		{"a=eq", Segment{Column: "a", Value: "eq"}, NoOperator},
		{"a=not.eq", Segment{Column: "a", Not: true, Value: "eq"}, NoOperator},
		{"a=foo.1", Segment{Column: "a", Op: "foo", Value: "1"}, UnknownOp},
		{"a=EQ.1", Segment{Column: "a", Op: "EQ", Value: "1"}, UnknownOp},
		{"a=in.1,2", Segment{Column: "a", Op: "in", Value: "1,2"}, InNotParenthesized},
		{"a=in.(", Segment{Column: "a", Op: "in", Value: "("}, InNotParenthesized},
	}
	for _, tc := range cases {
		got, fault := Cut(tc.in)
		assert.Equal(t, tc.fault, fault, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestKnownOp(t *testing.T) {
	for _, op := range Ops {
		assert.True(t, KnownOp(op), op)
	}
	for _, op := range []string{"", "EQ", "not", "contains", "cs"} {
		assert.False(t, KnownOp(op), op)
	}
}

func TestUnquote(t *testing.T) {
	cases := map[string]string{
		``:              ``,
		`plain`:         `plain`,
		`""`:            ``,
		`"a,b"`:         `a,b`,
		`"say \"hi\""`:  `say "hi"`,
		`"back\\slash"`: `back\slash`,
		`"a"b"`:         `"a"b"`,         // not one quoted string: kept
		`"unterminated`: `"unterminated`, // kept
		`"trailing\`:    `"trailing\`,    // kept
		`x"y"`:          `x"y"`,          // does not start with a quote
		`"\x"`:          `x`,
	}
	for in, want := range cases {
		assert.Equal(t, want, Unquote(in), in)
	}
}
