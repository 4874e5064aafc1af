package realtimetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFilterAsTheServerDoes(t *testing.T) {
	cases := []struct {
		in   string
		want []condition
	}{
		{"", nil},
		{"   ", nil},
		{"subject=eq.hey", []condition{{column: "subject", op: "eq", value: "hey"}}},
		{"subject=in.(hidee,ho)", []condition{{column: "subject", op: "in", value: "{hidee,ho}", list: []string{"hidee", "ho"}}}},
		{"subject=not.like.hey%", []condition{{column: "subject", op: "like", value: "hey%", negate: true}}},
		{"id=gt.0,id=lt.100", []condition{{column: "id", op: "gt", value: "0"}, {column: "id", op: "lt", value: "100"}}},
		{`name=eq."a,b"`, []condition{{column: "name", op: "eq", value: "a,b"}}},
		{`name=eq."say \"hi\""`, []condition{{column: "name", op: "eq", value: `say "hi"`}}},
		{`tag=in.("a,b",c)`, []condition{{column: "tag", op: "in", value: `{"a,b",c}`, list: []string{"a,b", "c"}}}},
		{"x=is.null", []condition{{column: "x", op: "is", value: "null"}}},
		{"v=eq.1.5", []condition{{column: "v", op: "eq", value: "1.5"}}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseFilter(tc.in)
			require.NoError(t, err)
			for i := range got {
				got[i].re = nil
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseFilterErrorsAsTheServerWordsThem(t *testing.T) {
	cases := map[string]string{
		"subject=foo.hey":  `["foo", "hey"]`,
		"undefined":        `["undefined"]`,
		"id=eq":            `["eq"]`,
		"id=eq.1,,id=lt.3": "filter must not contain empty segments (check for extra commas)",
		"id=in.1,2":        "`in` filter value must be wrapped by parentheses",
		`a=foo."x"`:        `["foo", "\"x\""]`,
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			_, err := parseFilter(in)
			require.Error(t, err)
			assert.Equal(t, want, err.Error())
		})
	}
}

func rec(t *testing.T, js string) record {
	t.Helper()
	r, err := parseObject([]byte(js))
	require.NoError(t, err)
	return r
}

func TestFilterEvaluation(t *testing.T) {
	row := rec(t, `{"id":5,"big":12345678901234567890,"name":"Alice","flag":true,"note":null,"tags":"a,b","price":"10.50"}`)
	types := map[string]string{"id": "int4", "big": "numeric", "name": "text", "flag": "bool", "note": "text", "price": "numeric"}
	cases := []struct {
		filter string
		want   bool
	}{
		{"id=eq.5", true},
		{"id=eq.05", true}, // numeric comparison, not text
		{"id=neq.5", false},
		{"id=lt.6", true},
		{"id=lt.5", false},
		{"id=lte.5", true},
		{"id=gt.4", true},
		{"id=gt.10", false}, // 5 > 10 is false numerically, "5" > "10" textually
		{"id=gte.5", true},
		{"id=in.(1,5,9)", true},
		{"id=in.(1,9)", false},
		{"id=not.in.(1,9)", true},
		{"big=gt.12345678901234567889", true},
		{"name=eq.Alice", true},
		{"name=eq.alice", false},
		{"name=like.Al%", true},
		{"name=like.al%", false},
		{"name=ilike.al%", true},
		{"name=like.A_ice", true},
		{"name=match.^A.i", true},
		{"name=imatch.^al", true},
		{"name=not.eq.Alice", false},
		{"flag=eq.true", true},
		{"flag=eq.t", true},
		{"flag=is.true", true},
		{"flag=is.false", false},
		{"flag=not.is.true", false},
		{"note=is.null", true},
		{"note=not.is.null", false},
		{"note=eq.x", false},     // NULL = x is NULL: hidden
		{"note=neq.x", false},    // NULL <> x is NULL too
		{"note=not.eq.x", false}, // NOT NULL is NULL
		{"note=isdistinct.x", true},
		{"note=not.isdistinct.x", false},
		{"name=isdistinct.Alice", false},
		{"id=eq.abc", false}, // cast error: not visible
		{"missing=eq.1", false},
		{"id=gt.1,name=eq.Alice", true},
		{"id=gt.1,name=eq.Bob", false},
		{`tags=eq."a,b"`, true},
		{"price=eq.10.5", true},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			conds, err := parseFilter(tc.filter)
			require.NoError(t, err)
			assert.Equal(t, tc.want, visible(conds, row, types))
		})
	}
}

func TestFilterWithoutColumnTypesFollowsJSON(t *testing.T) {
	row := rec(t, `{"n":9,"s":"9","b":false}`)
	for filter, want := range map[string]bool{
		"n=lt.10": true,  // number: numeric
		"s=lt.10": false, // string: text comparison, "9" > "10"
		"b=eq.f":  true,
		"b=lt.t":  true,
	} {
		conds, err := parseFilter(filter)
		require.NoError(t, err)
		assert.Equal(t, want, visible(conds, row, nil), filter)
	}
}

func TestInspectStrings(t *testing.T) {
	assert.Equal(t, `["a", "b\"c", "x\\y", "\#{z}"]`, inspectStrings("a", `b"c`, `x\y`, "#{z}"))
}

func TestParseArrayLiteral(t *testing.T) {
	assert.Equal(t, []string{"a", "b c", "d,e", `f"g`}, parseArrayLiteral(` a ,b c,"d,e","f\"g"`))
	assert.Nil(t, parseArrayLiteral(" "))
}
