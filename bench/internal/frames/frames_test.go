package frames

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestRowsAreDeterministic(t *testing.T) {
	a, b := Rows(50), Rows(50)
	require.Equal(t, a, b)
	for i, r := range a {
		assert.Equal(t, int64(i+1), r.ID)
		assert.Len(t, r.RoomID, 36)
		assert.Len(t, r.AuthorID, 36)
		assert.GreaterOrEqual(t, len(r.Body), 40)
		assert.True(t, utf8.ValidString(r.Body))
		assert.NotNil(t, r.Meta.Mentions)
	}
}

// decodeV1 and decodeV2 decode a change frame the slow, obvious way.
func decodeV1(t *testing.T, text []byte) (topic, event string, p Payload) {
	t.Helper()
	var f V1Frame
	require.NoError(t, json.Unmarshal(text, &f))
	assert.Nil(t, f.Ref)
	return f.Topic, f.Event, f.Payload
}

func decodeV2(t *testing.T, text []byte) (topic, event string, p Payload) {
	t.Helper()
	var arr [5]json.RawMessage
	require.NoError(t, json.Unmarshal(text, &arr))
	assert.Equal(t, "null", string(arr[0]))
	assert.Equal(t, "null", string(arr[1]))
	require.NoError(t, json.Unmarshal(arr[2], &topic))
	require.NoError(t, json.Unmarshal(arr[3], &event))
	require.NoError(t, json.Unmarshal(arr[4], &p))
	return topic, event, p
}

func TestChangeFramesDecodeToTheirRows(t *testing.T) {
	for _, v := range []Vsn{V1, V2} {
		t.Run(v.Short(), func(t *testing.T) {
			b, err := NewBurst(v, 3, 30)
			require.NoError(t, err)
			require.Equal(t, 30, b.Len())
			for j := range b.Len() {
				text := b.Text(j)
				require.True(t, json.Valid(text), "%s", text)
				var topic, event string
				var p Payload
				if v == V1 {
					topic, event, p = decodeV1(t, text)
				} else {
					topic, event, p = decodeV2(t, text)
				}
				want := b.Row(j)
				assert.Equal(t, Topic(j%3, 3), topic)
				assert.Equal(t, Event, event)
				assert.Equal(t, []int64{BindingID}, p.IDs)
				assert.Equal(t, Schema, p.Data.Schema)
				assert.Equal(t, Table, p.Data.Table)
				assert.Equal(t, "INSERT", p.Data.Type)
				assert.Equal(t, Columns, p.Data.Columns)
				assert.Nil(t, p.Data.Errors)
				assert.Nil(t, p.Data.OldRecord)
				assert.True(t, p.Data.CommitTimestamp.Equal(want.CreatedAt.Truncate(1e6)))
				got := p.Data.Record
				assert.True(t, got.CreatedAt.Equal(want.CreatedAt), "%v != %v", got.CreatedAt, want.CreatedAt)
				got.CreatedAt = want.CreatedAt
				assert.Equal(t, *want, got)
			}
		})
	}
}

func TestRecordKeysAreInJSONBOrder(t *testing.T) {
	r := Rows(1)[0]
	rec := AppendRecord(nil, &r)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec, &m))
	assert.Len(t, m, len(Columns))
	// jsonb orders keys by length, then bytewise.
	last := -1
	for _, k := range []string{"id", "body", "meta", "likes", "pinned", "room_id", "author_id", "created_at"} {
		at := bytes.Index(rec, []byte(`"`+k+`":`))
		require.GreaterOrEqual(t, at, 0, k)
		assert.Greater(t, at, last, "key %s out of jsonb order", k)
		last = at
	}
	meta := string(m["meta"])
	assert.Less(t, bytes.Index([]byte(meta), []byte(`"client"`)), bytes.Index([]byte(meta), []byte(`"edited"`)))
	assert.Less(t, bytes.Index([]byte(meta), []byte(`"edited"`)), bytes.Index([]byte(meta), []byte(`"mentions"`)))
}

func TestFramesAverageAbout900Bytes(t *testing.T) {
	for _, v := range []Vsn{V1, V2} {
		b, err := NewBurst(v, 1, DefaultRing)
		require.NoError(t, err)
		mean := b.MeanText()
		t.Logf("%s: mean frame %d bytes, ring %d frames, %d wire bytes", v, mean, b.Len(), b.WireBytes())
		assert.InDelta(t, 900, mean, 60)
	}
}

func TestBurstWireIsTheFramesBackToBack(t *testing.T) {
	b, err := NewBurst(V2, 4, 10)
	require.NoError(t, err)
	assert.Equal(t, 12, b.Len(), "ring rounded up to a multiple of the channels")
	assert.Equal(t, Topics(4), b.Topics())
	assert.Equal(t, 4, b.Channels())
	r := bufio.NewReader(bytes.NewReader(b.Wire(2, 9)))
	for j := 2; j < 9; j++ {
		h, err := ws.ReadHeader(r)
		require.NoError(t, err)
		assert.True(t, h.Fin)
		assert.False(t, h.Masked)
		assert.Equal(t, ws.OpText, h.OpCode)
		p := make([]byte, h.Length)
		_, err = io.ReadFull(r, p)
		require.NoError(t, err)
		assert.Equal(t, b.Text(j), p)
	}
	_, err = r.ReadByte()
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, len(b.Wire(0, b.Len())), b.WireBytes())
}

func TestIDSumCyclesTheRing(t *testing.T) {
	b, err := NewBurst(V1, 1, 7)
	require.NoError(t, err)
	for _, n := range []int{0, 1, 6, 7, 8, 20, 700} {
		var want int64
		for i := range n {
			want += b.Row(i % b.Len()).ID
		}
		assert.Equal(t, want, b.IDSum(n), "n=%d", n)
	}
}

func TestNewBurstRejectsBadArguments(t *testing.T) {
	_, err := NewBurst(Vsn(3), 1, 1)
	assert.ErrorIs(t, err, ErrVsn)
	_, err = NewBurst(V2, 0, 1)
	assert.Error(t, err)
	b, err := NewBurst(V2, 1, 0)
	require.NoError(t, err)
	assert.Equal(t, DefaultRing, b.Len())
}

func TestDoneFrame(t *testing.T) {
	var p struct {
		Type, Event string
		Payload     struct{ N int }
	}
	text := AppendDone(nil, V2, "realtime:x", 42)
	e, err := SplitV2(text)
	require.NoError(t, err)
	assert.Equal(t, "realtime:x", string(e.Topic))
	assert.Equal(t, BroadcastEvent, string(e.Event))
	require.NoError(t, json.Unmarshal(e.Payload, &p))
	assert.Equal(t, "broadcast", p.Type)
	assert.Equal(t, DoneEvent, p.Event)
	assert.Equal(t, 42, p.Payload.N)

	var f struct {
		Topic, Event string
		Payload      json.RawMessage
		Ref          *string
	}
	require.NoError(t, json.Unmarshal(AppendDone(nil, V1, "realtime:x", 42), &f))
	assert.Equal(t, BroadcastEvent, f.Event)
	assert.JSONEq(t, `{"type":"broadcast","event":"bench_done","payload":{"n":42}}`, string(f.Payload))
}

func TestAppendStringRoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.String().Draw(t, "s")
		if rapid.Bool().Draw(t, "raw") {
			s = string(rapid.SliceOf(rapid.Byte()).Draw(t, "bytes"))
		}
		enc := appendString(nil, s)
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("%q encoded as invalid JSON %s: %v", s, enc, err)
		}
		want := string(bytes.ToValidUTF8([]byte(s), []byte("\ufffd")))
		if !utf8.ValidString(s) {
			// encoding/json replaces each invalid byte; so do we.
			var std string
			raw, _ := json.Marshal(s)
			_ = json.Unmarshal(raw, &std)
			want = std
		}
		if got != want {
			t.Fatalf("round trip of %q gave %q, want %q", s, got, want)
		}
	})
}

func TestParseVsn(t *testing.T) {
	for in, want := range map[string]Vsn{"": V1, "1.0.0": V1, "v1": V1, "1": V1, "2.0.0": V2, "v2": V2, "2": V2} {
		got, err := ParseVsn(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseVsn("3.0.0")
	assert.ErrorIs(t, err, ErrVsn)
	assert.Equal(t, "2.0.0", V2.String())
	assert.Equal(t, "v1", V1.Short())
	assert.Equal(t, "Vsn(7)", Vsn(7).String())
}

func TestTopics(t *testing.T) {
	assert.Equal(t, []string{"realtime:bench"}, Topics(1))
	assert.Equal(t, []string{"realtime:bench"}, Topics(0))
	assert.Equal(t, []string{"realtime:bench-0", "realtime:bench-1"}, Topics(2))
	assert.Equal(t, "bench-1", SubTopic(1, 2))
}
