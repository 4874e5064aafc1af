package presence

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wideState is a presence_state of n keys with one small meta each, 50
// bytes a key: the shape of issue 18's 100,000-key state.
func wideState(n int) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"u%05d":{"metas":[{"phx_ref":"F%07d","n":%d}]}`, i, i, i%10)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// allocated returns the bytes allocated by f.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// The tracker applies a diff in place: a diff of one key costs what the
// diff costs, not a copy of the whole state.
func TestOneKeyDiffCostsTheDiff(t *testing.T) {
	var tr Tracker[json.RawMessage]
	require.NoError(t, tr.HandleStateFunc("1", wideState(20000), func(Event[json.RawMessage]) {}))
	diff := []byte(`{"joins":{"u00001":{"metas":[{"phx_ref":"G1","n":1}]}},"leaves":{"u00002":{"metas":[{"phx_ref":"F0000002"}]}}}`)
	var events []Kind
	got := allocated(func() {
		require.NoError(t, tr.HandleDiffFunc("1", diff, func(ev Event[json.RawMessage]) { events = append(events, ev.Kind) }))
	})
	assert.Equal(t, []Kind{Join, Leave, Sync}, events)
	assert.Less(t, got, uint64(4096), "a one-key diff on a 20,000-key state allocated %d B", got)
	assert.Len(t, tr.State(), 19999)
}

// The first state of a channel, handled as a socket's reader handles it
// (RawMeta, events passed on), costs a small multiple of its payload: the
// map, the metas, the keys and the metas' text, and the sorted keys of
// the events. The multiple depends on how full the map's tables are: 3.3
// to 4.2 for these metas of 28 bytes (4.2 at 30,000 keys, just past a
// doubling of the tables; 4.3 under the race detector). Bytes allocated
// bound the heap's growth from above.
func TestHandleStateFuncMemory(t *testing.T) {
	for _, n := range []int{1000, 20000, 30000} {
		payload := wideState(n)
		var tr Tracker[RawMeta]
		events := 0
		got := allocated(func() {
			require.NoError(t, tr.HandleStateFunc("1", payload, func(Event[RawMeta]) { events++ }))
		})
		require.Equal(t, n+1, events)
		ratio := float64(got) / float64(len(payload))
		t.Logf("%d keys: %d B payload, %d B allocated, %.2fx", n, len(payload), got, ratio)
		assert.LessOrEqual(t, ratio, 4.5, "%d keys", n)
	}
}

// oneKeyState is a presence_state of one key with n metas, refs prefixed
// by prefix.
func oneKeyState(n int, prefix string) []byte {
	var b strings.Builder
	b.WriteString(`{"crowd":{"metas":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"phx_ref":"%s%07d","n":%d}`, prefix, i, i%10)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// A state that replaces every one of a key's 20,000 metas costs the new
// metas (48 bytes and the text of each, 2.8 times these 29-byte metas)
// and one set of refs per list, not the three sets, the merged list and
// the copies it took before (13.8 times the payload).
func TestReplacingManyMetasMemory(t *testing.T) {
	var tr Tracker[RawMeta]
	require.NoError(t, tr.HandleStateFunc("1", oneKeyState(20000, "A"), func(Event[RawMeta]) {}))
	payload := oneKeyState(20000, "B")
	var kinds []Kind
	got := allocated(func() {
		require.NoError(t, tr.HandleStateFunc("1", payload, func(ev Event[RawMeta]) { kinds = append(kinds, ev.Kind) }))
	})
	assert.Equal(t, []Kind{Join, Leave, Sync}, kinds)
	ratio := float64(got) / float64(len(payload))
	t.Logf("%d B payload, %d B allocated, %.2fx", len(payload), got, ratio)
	assert.LessOrEqual(t, ratio, 6.5)
	st := tr.State()
	require.Len(t, st["crowd"], 20000)
	assert.Equal(t, "B0000000", st["crowd"][0].Ref)
}
