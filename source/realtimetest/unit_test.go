package realtimetest

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPresenceTrackUpdateUntrack(t *testing.T) {
	pt := newPresenceTopic()
	a, b := &channel{}, &channel{}

	d := pt.track("k", a, rec(t, `{"name":"a"}`))
	require.Len(t, d.joins, 1)
	assert.Empty(t, d.leaves)
	ref1 := d.joins[0].metas[0].ref
	assert.Equal(t, `{"joins":{"k":{"metas":[{"phx_ref":"`+ref1+`","name":"a"}]}},"leaves":{}}`, string(d.appendJSON(nil)))

	// Same payload (other key order): no change, no diff.
	assert.True(t, pt.track("k", a, rec(t, `{"name":"a"}`)).empty())

	// A second socket under the same key adds a second meta.
	d = pt.track("k", b, rec(t, `{"name":"b"}`))
	ref2 := d.joins[0].metas[0].ref
	assert.Equal(t, `{"k":{"metas":[{"phx_ref":"`+ref1+`","name":"a"},{"phx_ref":"`+ref2+`","name":"b"}]}}`, string(pt.stateJSON()))

	// Update: leave of the old meta, join of the new one with phx_ref_prev.
	d = pt.track("k", a, rec(t, `{"name":"a2"}`))
	ref3 := d.joins[0].metas[0].ref
	assert.NotEqual(t, ref1, ref3)
	assert.Equal(t, `{"joins":{"k":{"metas":[{"phx_ref":"`+ref3+`","phx_ref_prev":"`+ref1+`","name":"a2"}]}},`+
		`"leaves":{"k":{"metas":[{"phx_ref":"`+ref1+`","name":"a"}]}}}`, string(d.appendJSON(nil)))

	d = pt.untrack("k", b)
	assert.Equal(t, `{"joins":{},"leaves":{"k":{"metas":[{"phx_ref":"`+ref2+`","name":"b"}]}}}`, string(d.appendJSON(nil)))
	assert.True(t, pt.untrack("k", b).empty(), "untracking twice changes nothing")
	pt.untrack("k", a)
	assert.True(t, pt.isEmpty())
	assert.Equal(t, `{}`, string(pt.stateJSON()))
}

func TestPhxRefsAreUniqueBase64(t *testing.T) {
	seen := map[string]bool{}
	re := regexp.MustCompile(`^[A-Za-z0-9+/]{11}=$`)
	for range 100 {
		r := newPhxRef()
		assert.Regexp(t, re, r)
		assert.False(t, seen[r])
		seen[r] = true
	}
}

func TestUUIDv1(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := newUUIDv1(), newUUIDv1()
	assert.Regexp(t, re, a)
	assert.NotEqual(t, a, b)
}

func TestParseJoinDefaultsAndFlexibleBooleans(t *testing.T) {
	jc := parseJoin([]byte(`{"config":{"broadcast":{"self":"TRUE","ack":true},"presence":{"enabled":"yes","key":42},` +
		`"postgres_changes":[null,{"event":"*","schema":"public"}],"private":"yes"}}`))
	assert.True(t, jc.hasConfig)
	assert.True(t, jc.self)
	assert.True(t, jc.ack)
	assert.False(t, jc.presenceEnabled, `"yes" is not a boolean: default`)
	assert.Equal(t, "42", jc.presenceKey)
	assert.False(t, jc.private, `"private":"yes" makes the channel public`)
	require.Len(t, jc.pgChanges, 1, "null bindings are dropped")
	assert.Empty(t, jc.pgCrash)

	jc = parseJoin([]byte(`{"config":{"postgres_changes":["oops"]}}`))
	assert.Equal(t, `expected a map, got: "oops"`, jc.pgCrash)

	jc = parseJoin([]byte(`not json`))
	assert.False(t, jc.hasConfig)
	jc = parseJoin([]byte(`{"config":{"presence":{"key":""}}}`))
	assert.Empty(t, jc.presenceKey)
}

func TestJoinTokenChoice(t *testing.T) {
	for payload, want := range map[string]string{
		`{}`:                                          "socket",
		`{"access_token":"a"}`:                        "a",
		`{"user_token":"u"}`:                          "u",
		`{"access_token":"a","user_token":"u"}`:       "u",
		`{"access_token":"sb_publishable_x"}`:         "socket",
		`{"access_token":null,"user_token":"sb_key"}`: "socket",
		`{"access_token":5}`:                          "socket",
	} {
		jc := parseJoin([]byte(payload))
		assert.Equal(t, want, jc.token("socket"), payload)
	}
}

func TestReplayValid(t *testing.T) {
	assert.True(t, replayValid(json.RawMessage(`{"since":1719999999000,"limit":10}`)))
	assert.True(t, replayValid(json.RawMessage(`{"since":0}`)))
	assert.False(t, replayValid(json.RawMessage(`{}`)))
	assert.False(t, replayValid(json.RawMessage(`{"since":"x"}`)))
	assert.False(t, replayValid(json.RawMessage(`{"since":1,"limit":1.5}`)))
}

func TestRateWindowAveragesOverAMinute(t *testing.T) {
	r := newRateWindow()
	t0 := time.Unix(1000, 0)
	r.add(t0, 30)
	r.add(t0.Add(10*time.Second), 30)
	assert.InDelta(t, 1.0, r.avg(t0.Add(20*time.Second)), 1e-9)
	// The first 30 leave the window 60 s after they were counted.
	assert.InDelta(t, 0.5, r.avg(t0.Add(60*time.Second)), 1e-9)
	assert.InDelta(t, 0.0, r.avg(t0.Add(71*time.Second)), 1e-9)
	r.add(t0.Add(80*time.Second), 6)
	r.reset()
	assert.Zero(t, r.avg(t0.Add(80*time.Second)))
}

func TestRecordKeepsOrderAndLastDuplicate(t *testing.T) {
	r, err := parseObject([]byte(`{"b":1, "a":{"x": [1, 2]}, "b":3}`))
	require.NoError(t, err)
	assert.Equal(t, `{"b":3,"a":{"x":[1,2]}}`, string(r.appendJSON(nil, nil)))
	_, err = parseObject([]byte(`[1]`))
	assert.ErrorIs(t, err, errNotObject)
	_, err = parseObject([]byte(`{"a":1} x`))
	assert.Error(t, err)
	r, err = parseObject([]byte(`null`))
	assert.NoError(t, err)
	assert.Nil(t, r)
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"plain", `q"b\s`, "ctl\x00\x01\n\t\r", "é€😀", "bad\xffutf8"} {
		got := appendString(nil, s)
		var back string
		require.NoError(t, json.Unmarshal(got, &back), string(got))
		if s == "bad\xffutf8" {
			assert.Equal(t, "bad\ufffdutf8", back)
		} else {
			assert.Equal(t, s, back)
		}
	}
}
