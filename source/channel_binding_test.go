package source_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/stream"
)

type chatMessage struct {
	ID   int64  `json:"id"`
	Room string `json:"room"`
	Body string `json:"body"`
}

type chatReaction struct {
	ID        int64  `json:"id"`
	MessageID int64  `json:"message_id"`
	Emoji     string `json:"emoji"`
}

var (
	messageCols = []realtimetest.Column{
		{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "room", Type: "text"}, {Name: "body", Type: "text"},
	}
	reactionCols = []realtimetest.Column{
		{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "message_id", Type: "int8"}, {Name: "emoji", Type: "text"},
	}
)

func emitMessage(t *testing.T, s *realtimetest.Server, typ string, m chatMessage) {
	t.Helper()
	c := realtimetest.Change{Type: typ, Schema: "public", Table: "messages", Columns: messageCols, Record: m}
	if typ != realtimetest.Insert {
		c.OldRecord = map[string]any{"id": m.ID}
	}
	emit(t, s, c)
}

func emitReaction(t *testing.T, s *realtimetest.Server, r chatReaction) {
	t.Helper()
	emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "reactions", Columns: reactionCols, Record: r})
}

func isPayloadError(err error) bool {
	var pe *source.PayloadError
	return errors.As(err, &pe)
}

func anyChange[T any](postgres.Change[T]) bool { return true }

// Two bindings of two tables on one channel: each typed binding stream
// receives only the changes whose ids include its binding's id, decoded
// into its own type, as each .on(...) of realtime-js.
func TestBindStreamsPerBinding(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	messages := source.Bind[chatMessage](postgres.Binding{Event: postgres.Insert, Table: "messages"})
	reactions := source.Bind[chatReaction](postgres.Binding{Table: "reactions"})
	ch := chNew(t, c, "room", messages.Option(), reactions.Option())
	gotMsgs := messageLog(t, ch, messages.Changes(ch))
	gotReacts := messageLog(t, ch, reactions.Changes(ch))
	everything := messageLog(t, ch, source.Changes[map[string]any](ch))
	errs := errorLog(t, c)
	chSubscribe(t, ch)
	ids := serverIDs(t, s, "realtime:room")
	require.Len(t, ids, 2)

	emitMessage(t, s, realtimetest.Insert, chatMessage{ID: 1, Room: "lobby", Body: "hi"})
	emitReaction(t, s, chatReaction{ID: 10, MessageID: 1, Emoji: "+1"})
	emitMessage(t, s, realtimetest.Update, chatMessage{ID: 1, Room: "lobby", Body: "edited"}) // not bound: no id
	emitReaction(t, s, chatReaction{ID: 11, MessageID: 1, Emoji: "heart"})
	emitMessage(t, s, realtimetest.Insert, chatMessage{ID: 2, Room: "lobby", Body: "bye"})

	all := everything.waitUntil(t, "four changes", func(v []postgres.Change[map[string]any], _ bool) bool { return len(v) >= 4 })
	assert.Equal(t, []string{"messages", "reactions", "reactions", "messages"},
		[]string{all[0].Table, all[1].Table, all[2].Table, all[3].Table})

	m := gotMsgs.waitUntil(t, "two messages", func(v []postgres.Change[chatMessage], _ bool) bool { return len(v) >= 2 })
	r := gotReacts.waitUntil(t, "two reactions", func(v []postgres.Change[chatReaction], _ bool) bool { return len(v) >= 2 })
	// Wait for one more change through each stream to be sure nothing else
	// was delivered before it.
	emitMessage(t, s, realtimetest.Insert, chatMessage{ID: 3, Body: "marker"})
	emitReaction(t, s, chatReaction{ID: 12, Emoji: "marker"})
	gotMsgs.waitN(t, 3, "marker message", anyChange[chatMessage])
	gotReacts.waitN(t, 3, "marker reaction", anyChange[chatReaction])
	assert.Equal(t, 3, gotMsgs.count(anyChange[chatMessage]))
	assert.Equal(t, 3, gotReacts.count(anyChange[chatReaction]))

	assert.Equal(t, chatMessage{ID: 1, Room: "lobby", Body: "hi"}, m[0].New)
	assert.Equal(t, chatMessage{ID: 2, Room: "lobby", Body: "bye"}, m[1].New)
	assert.Equal(t, chatReaction{ID: 10, MessageID: 1, Emoji: "+1"}, r[0].New)
	assert.Equal(t, chatReaction{ID: 11, MessageID: 1, Emoji: "heart"}, r[1].New)
	for _, v := range m {
		assert.Equal(t, "messages", v.Table)
		assert.Equal(t, []int{ids[0]}, v.IDs)
	}
	for _, v := range r {
		assert.Equal(t, "reactions", v.Table)
		assert.Equal(t, []int{ids[1]}, v.IDs)
	}
	assert.Zero(t, errs.count(isPayloadError))
}

// Two bindings of one table: a change that matches both lists both ids and
// reaches both streams; one that matches one reaches that one only.
func TestBindOverlappingBindingsOfOneTable(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	inserts := source.Bind[chatMessage](postgres.Binding{Event: postgres.Insert, Table: "messages"})
	lobby := source.Bind[chatMessage](postgres.Binding{Table: "messages", Filter: postgres.Eq("room", "lobby")})
	ch := chNew(t, c, "room", inserts.Option(), lobby.Option())
	gotIns := messageLog(t, ch, inserts.Changes(ch))
	gotLobby := messageLog(t, ch, lobby.Changes(ch))
	gotLobbyUpdates := messageLog(t, ch, lobby.Changes(ch, postgres.Update))
	chSubscribe(t, ch)
	ids := serverIDs(t, s, "realtime:room")

	emitMessage(t, s, realtimetest.Insert, chatMessage{ID: 1, Room: "lobby"})   // both
	emitMessage(t, s, realtimetest.Insert, chatMessage{ID: 2, Room: "kitchen"}) // inserts
	emitMessage(t, s, realtimetest.Update, chatMessage{ID: 1, Room: "lobby"})   // lobby
	emitMessage(t, s, realtimetest.Update, chatMessage{ID: 2, Room: "kitchen"}) // neither: not sent

	ins := gotIns.waitUntil(t, "two inserts", func(v []postgres.Change[chatMessage], _ bool) bool { return len(v) >= 2 })
	lob := gotLobby.waitUntil(t, "lobby's two", func(v []postgres.Change[chatMessage], _ bool) bool { return len(v) >= 2 })
	upd := gotLobbyUpdates.waitN(t, 1, "lobby's update", anyChange[chatMessage])
	assert.Equal(t, []int64{1, 2}, []int64{ins[0].New.ID, ins[1].New.ID})
	assert.ElementsMatch(t, ids, ins[0].IDs, "the first insert matched both bindings")
	assert.Equal(t, []int{ids[0]}, ins[1].IDs)
	assert.Equal(t, []postgres.EventType{postgres.Insert, postgres.Update}, []postgres.EventType{lob[0].Type, lob[1].Type})
	assert.Equal(t, postgres.Update, upd.Type)
	assert.Equal(t, int64(1), upd.New.ID)
}

// Repeated bindings are sent once: a typed binding finds its binding by
// content, so the server's ids (by index in the deduplicated list) are
// matched to the right binding, and a duplicate addresses the same one.
func TestBindAfterDeduplication(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	a := postgres.Binding{Event: postgres.Insert, Table: "messages"}
	aAgain := postgres.Binding{Event: "insert", Schema: "public", Table: "messages"} // renders as a
	b := postgres.Binding{Table: "reactions"}
	ch := chNew(t, c, "room", source.WithPostgresChanges(a, aAgain, b))
	gotA := messageLog(t, ch, source.Bind[chatMessage](a).Changes(ch))
	gotAAgain := messageLog(t, ch, source.Bind[chatMessage](aAgain).Changes(ch))
	gotB := messageLog(t, ch, source.Bind[chatReaction](b).Changes(ch)) // index 2 given, 1 sent
	chSubscribe(t, ch)
	ids := serverIDs(t, s, "realtime:room")
	require.Len(t, ids, 2, "the duplicate is sent once")

	emitReaction(t, s, chatReaction{ID: 10, Emoji: "+1"})
	emitMessage(t, s, realtimetest.Insert, chatMessage{ID: 1, Body: "hi"})
	r := gotB.waitN(t, 1, "the reaction", anyChange[chatReaction])
	assert.Equal(t, chatReaction{ID: 10, Emoji: "+1"}, r.New)
	assert.Equal(t, []int{ids[1]}, r.IDs)
	for _, l := range []*chLog[postgres.Change[chatMessage]]{gotA, gotAAgain} {
		m := l.waitN(t, 1, "the message", anyChange[chatMessage])
		assert.Equal(t, chatMessage{ID: 1, Body: "hi"}, m.New)
		assert.Equal(t, 1, l.count(anyChange[chatMessage]), "the reaction did not reach the messages binding")
	}
	assert.Equal(t, 1, gotB.count(anyChange[chatReaction]))
}

func TestBindUnknownBindingEndsTheStream(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPostgresChanges(postgres.Binding{Table: "messages"}))
	for _, b := range []postgres.Binding{
		{Table: "reactions"},
		{Event: postgres.Insert, Table: "messages"},
		{Table: "messages", Filter: postgres.Eq("", 1)}, // invalid
	} {
		var got error
		for _, err := range source.Bind[chatMessage](b).Changes(ch).All2(chCtx(t)) {
			got = err
		}
		assert.ErrorIs(t, got, source.ErrUnknownBinding, "%+v", b)
	}
}

// On a channel of two tables, the channel-wide Changes[T] of a struct T
// delivers the rows that fit T and reports the others (a column of the row
// that T has no field for) instead of delivering them as zero values;
// Changes[map[string]any] delivers everything; AllChanges does as Changes.
func TestChangesOfSeveralTablesAreStrict(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	ch := chNew(t, c, "room", source.WithPostgresChanges(
		postgres.Binding{Table: "messages"}, postgres.Binding{Table: "reactions"}))
	msgs := messageLog(t, ch, source.Changes[chatMessage](ch))
	ptrs := messageLog(t, ch, source.Changes[*chatMessage](ch))
	maps := messageLog(t, ch, source.Changes[map[string]any](ch))
	all := messageLog(t, ch, source.AllChanges[chatMessage](c))
	errs := errorLog(t, c)
	chSubscribe(t, ch)

	emitMessage(t, s, realtimetest.Insert, chatMessage{ID: 1, Room: "lobby", Body: "hi"})
	emitReaction(t, s, chatReaction{ID: 10, MessageID: 1, Emoji: "+1"})
	emitMessage(t, s, realtimetest.Delete, chatMessage{ID: 1}) // old row: the key only, which fits
	emitMessage(t, s, realtimetest.Insert, chatMessage{ID: 2, Body: "marker"})

	maps.waitN(t, 4, "every change", anyChange[map[string]any])
	for _, l := range []*chLog[postgres.Change[chatMessage]]{msgs, all} {
		got := l.waitUntil(t, "three messages", func(v []postgres.Change[chatMessage], _ bool) bool { return len(v) >= 3 })
		require.Len(t, got, 3, "the reaction is not delivered")
		assert.Equal(t, chatMessage{ID: 1, Room: "lobby", Body: "hi"}, got[0].New)
		assert.Equal(t, chatMessage{ID: 1}, got[1].Old)
		assert.Equal(t, int64(2), got[2].New.ID)
		for _, v := range got {
			assert.Equal(t, "messages", v.Table)
		}
	}
	p := ptrs.waitN(t, 3, "three messages", anyChange[*chatMessage])
	assert.Equal(t, &chatMessage{ID: 2, Body: "marker"}, p.New)
	// Changes[chatMessage], Changes[*chatMessage] and AllChanges each
	// report the reaction, naming the column.
	errs.waitN(t, 3, "three payload errors", isPayloadError)
	vals, _ := errs.snapshot()
	vals = slices.DeleteFunc(vals, func(err error) bool { return !isPayloadError(err) })
	require.Len(t, vals, 3)
	for _, err := range vals {
		require.ErrorIs(t, err, postgres.ErrUnknownColumn)
		var de *postgres.DecodeError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "data.record", de.Field)
		assert.Equal(t, "message_id", de.Column, "the first column, in the row's order, that T lacks")
	}
}

// On a channel of one table, T may omit columns, as always; a wildcard
// binding is strict, as a channel of several tables.
func TestChangesStrictnessFollowsTheBindings(t *testing.T) {
	type idOnly struct {
		ID int64 `json:"id"`
	}
	s := rtServer(t)
	c := chConnect(t, s)
	one := chNew(t, c, "one", source.WithPostgresChanges(postgres.Binding{Table: "messages"}))
	wild := source.Bind[chatMessage](postgres.Binding{Schema: "public"})
	many := chNew(t, c, "many", wild.Option())
	lenient := messageLog(t, one, source.Changes[idOnly](one))
	strict := messageLog(t, many, wild.Changes(many))
	errs := errorLog(t, c)
	chSubscribe(t, one)
	chSubscribe(t, many)

	emitMessage(t, s, realtimetest.Insert, chatMessage{ID: 1, Room: "lobby", Body: "hi"})
	emitReaction(t, s, chatReaction{ID: 10, MessageID: 1, Emoji: "+1"})
	emitMessage(t, s, realtimetest.Insert, chatMessage{ID: 2})

	assert.Equal(t, idOnly{ID: 1}, lenient.waitN(t, 1, "the message", anyChange[idOnly]).New)
	got := strict.waitUntil(t, "two messages", func(v []postgres.Change[chatMessage], _ bool) bool { return len(v) >= 2 })
	require.Len(t, got, 2)
	assert.Equal(t, []int64{1, 2}, []int64{got[0].New.ID, got[1].New.ID})
	err := errs.waitN(t, 1, "the reaction's error", isPayloadError)
	assert.ErrorIs(t, err, postgres.ErrUnknownColumn)
	assert.Contains(t, err.Error(), `"message_id"`)
}

// Another binding's traffic never enters a bound stream's mailbox: the binding is checked on the reader,
// so a flood of reactions cannot make the messages consumer slow.
func TestBindStreamIgnoresOtherBindingsTraffic(t *testing.T) {
	s := rtServer(t)
	c := chConnect(t, s)
	messages := source.Bind[chatMessage](postgres.Binding{Event: postgres.Insert, Table: "messages"})
	reactions := source.Bind[chatReaction](postgres.Binding{Table: "reactions"})
	ch := chNew(t, c, "room", messages.Option(), reactions.Option())
	gate := make(chan struct{})
	var got []int64
	sub := messages.Changes(ch).Subscribe(chCtx(t), func(chg postgres.Change[chatMessage]) {
		<-gate
		got = append(got, chg.New.ID)
	}, stream.WithBuffer(8))
	chSubscribe(t, ch)
	for i := range 300 {
		emitReaction(t, s, chatReaction{ID: int64(i), MessageID: 1, Emoji: "+1"})
		if i%100 == 0 {
			emitMessage(t, s, realtimetest.Insert, chatMessage{ID: int64(i), Room: "lobby", Body: "hi"})
		}
	}
	close(gate)
	chEventually(t, func() bool { return sub.Delivered() == 3 }, "the three messages")
	assert.Zero(t, sub.Dropped())
	assert.Zero(t, c.Stats().SlowConsumers, "300 reactions did not fill an 8-change mailbox")
	sub.Stop()
	<-sub.Done()
	assert.Equal(t, []int64{0, 100, 200}, got)
}
