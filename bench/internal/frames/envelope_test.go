package frames

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestSplitV2(t *testing.T) {
	e, err := SplitV2([]byte(` [ "1" , null,"realtime:a","phx_reply" , {"status":"ok"} ] `))
	require.NoError(t, err)
	assert.Equal(t, "1", string(e.JoinRef))
	assert.Nil(t, e.Ref)
	assert.Equal(t, "realtime:a", string(e.Topic))
	assert.Equal(t, "phx_reply", string(e.Event))
	assert.Equal(t, `{"status":"ok"}`, string(e.Payload))

	e, err = SplitV2([]byte(`["",null,"t\"q","e\u0041",1]`))
	require.NoError(t, err)
	assert.Equal(t, []byte{}, e.JoinRef)
	assert.Equal(t, `t"q`, string(e.Topic))
	assert.Equal(t, "eA", string(e.Event))
	assert.Equal(t, "1", string(e.Payload))
}

func TestSplitV2RejectsMalformedFrames(t *testing.T) {
	for _, in := range []string{
		``, `{}`, `[`, `[null`, `[null,null`, `[null,null,null,"e",{}]`, `[null,null,"t",null,{}]`,
		`[null,null,"t","e"]`, `[null,null,"t","e",]`, `[null,null,"t","e",{}`, `[1,null,"t","e",{}]`,
		`[null,null,"t,"e",{}]`, `[null,null,"t` + "\n" + `","e",{}]`, `[null,null,"t\x","e",{}]`,
		`[null,null,"t","e" {}]`, `[null,null,"unterminated`,
	} {
		_, err := SplitV2([]byte(in))
		assert.ErrorIs(t, err, ErrEnvelope, "%q", in)
	}
}

func TestSplitV2MatchesEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var jr, ref *string
		if rapid.Bool().Draw(t, "jr") {
			s := rapid.String().Draw(t, "join_ref")
			jr = &s
		}
		if rapid.Bool().Draw(t, "ref") {
			s := rapid.String().Draw(t, "ref_s")
			ref = &s
		}
		topic := rapid.String().Draw(t, "topic")
		event := rapid.String().Draw(t, "event")
		payload := map[string]any{"k": rapid.String().Draw(t, "v")}
		text, err := json.Marshal([]any{jr, ref, topic, event, payload})
		if err != nil {
			t.Fatal(err)
		}
		e, err := SplitV2(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		norm := func(p *string) *string {
			if p == nil {
				return nil
			}
			var s string
			raw, _ := json.Marshal(*p)
			_ = json.Unmarshal(raw, &s)
			return &s
		}
		check := func(name string, got []byte, want *string) {
			if want == nil {
				if got != nil {
					t.Fatalf("%s: got %q, want null", name, got)
				}
				return
			}
			if got == nil || string(got) != *want {
				t.Fatalf("%s: got %q, want %q", name, got, *want)
			}
		}
		check("join_ref", e.JoinRef, norm(jr))
		check("ref", e.Ref, norm(ref))
		check("topic", e.Topic, norm(&topic))
		check("event", e.Event, norm(&event))
		var back map[string]any
		if err := json.Unmarshal(e.Payload, &back); err != nil {
			t.Fatalf("payload %s: %v", e.Payload, err)
		}
	})
}

func TestSplitV2DoesNotAllocate(t *testing.T) {
	b, err := NewBurst(V2, 1, 4)
	require.NoError(t, err)
	text := b.Text(0)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := SplitV2(text); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
}
