package source_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

// shopOrder and shopMeta are the row, broadcast and presence types of the
// decode-failure tests.
type shopOrder struct {
	ID     int64   `json:"id"`
	Amount float64 `json:"amount"`
}

type shopMeta struct {
	Name string `json:"name"`
}

var shopColumns = []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "amount", Type: "float8"}}

// Schema drift shows: every row, broadcast payload, presence meta and
// system message that does not decode is reported once per consumer that
// failed on it, counted in Stats.DecodeErrors (which the metrics adapters
// export), and each report names the topic, the table or event, the target
// type and the consumer, so that two consumers of one row report two
// different errors. The decoder's text quotes the value alone.
func TestDecodeFailuresAreCountedAndAttributed(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	errs := errorLog(t, c)
	orders := source.Bind[shopOrder](postgres.Binding{Event: postgres.All, Schema: "public", Table: "orders"})
	ch := chNew(t, c, "shop", orders.Option(), source.WithBroadcastSelf(), source.WithPresence("me"))
	byBinding := messageLog(t, ch, orders.Changes(ch))
	all := messageLog(t, ch, source.Changes[shopOrder](ch))
	sent := messageLog(t, ch, source.Broadcasts[shopOrder](ch, "order"))
	messageLog(t, ch, source.PresenceEvents[shopMeta](ch))
	chSubscribe(t, ch)
	before := c.Stats().DecodeErrors

	emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "orders", Columns: shopColumns,
		Record: map[string]any{"id": 1, "amount": "lots"}})
	require.NoError(t, ch.Send(chCtx(t), "order", map[string]any{"id": "seven"}))
	require.NoError(t, ch.Track(chCtx(t), map[string]any{"name": 5}))
	inject(s, inFrames(s, "realtime:shop", "phx_join")[0].Msg.JoinRef, "", "realtime:shop", "system", `["not","an","object"]`)
	// What comes after each bad value still arrives.
	emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "orders", Columns: shopColumns,
		Record: map[string]any{"id": 2, "amount": 2.5}})
	require.NoError(t, ch.Send(chCtx(t), "order", shopOrder{ID: 3}))
	byBinding.waitN(t, 1, "the good row", anyChange[shopOrder])
	all.waitN(t, 1, "the good row", anyChange[shopOrder])
	sent.waitN(t, 1, "the good broadcast", anyBroadcast[shopOrder])

	const failures = 5 // the row twice (two consumers), the broadcast, the meta, the system message
	errs.waitN(t, failures, "five payload errors", isPayloadError)
	vals, _ := errs.snapshot()
	var texts []string
	for _, err := range vals {
		if isPayloadError(err) {
			texts = append(texts, err.Error())
		}
	}
	require.Len(t, texts, failures, "one report per failed value per consumer: %q", texts)
	assert.Equal(t, uint64(failures), c.Stats().DecodeErrors-before, "every failure is counted: %q", texts)

	var rows []string
	for _, txt := range texts {
		assert.True(t, strings.HasPrefix(txt, "rxrealtime: "), txt)
		assert.Contains(t, txt, `"realtime:shop"`, "the topic")
		assert.NotContains(t, txt, `}"`, "no stray brace from the decoder's excerpt")
		if strings.Contains(txt, "postgres_changes") {
			rows = append(rows, txt)
		}
	}
	require.Len(t, rows, 2, "%q", texts)
	for _, txt := range rows {
		assert.Contains(t, txt, "public.orders", "the table")
		assert.Contains(t, txt, "source_test.shopOrder", "the target type")
		assert.Contains(t, txt, `string "lots"`, "the value, alone")
	}
	assert.NotEqual(t, rows[0], rows[1], "two consumers of one row can be told apart")
	consumers := map[uint64]string{}
	for _, err := range vals {
		var pe *source.PayloadError
		if !errors.As(err, &pe) || pe.Event != "postgres_changes" {
			continue
		}
		assert.Equal(t, "public.orders", pe.What)
		assert.Equal(t, "source_test.shopOrder", pe.Type)
		assert.ErrorIs(t, err, postgres.ErrDecode)
		consumers[pe.Consumer] = pe.Stream
	}
	assert.Len(t, consumers, 2, "two consumers: %v", consumers)
	assert.ElementsMatch(t, []string{"TypedBinding.Changes", "Changes"}, slices.Collect(maps.Values(consumers)))
	assertOneContains(t, texts, `broadcast "order"`, "source_test.shopOrder")
	assertOneContains(t, texts, "presence", "source_test.shopMeta")
	assertOneContains(t, texts, "system", "source.SystemEvent")
}

// assertOneContains asserts that exactly one of texts contains every one
// of subs.
func assertOneContains(t *testing.T, texts []string, subs ...string) {
	t.Helper()
	n := 0
	for _, txt := range texts {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(txt, s)
		}
		if all {
			n++
		}
	}
	assert.Equal(t, 1, n, "texts containing %q: %q", subs, texts)
}
