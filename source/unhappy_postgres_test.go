package source_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

type rvNote struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	At   string `json:"at"`
}

// Two tables whose columns lists alternate, on two channels of two clients (one per serializer) read
// concurrently: every change decodes with its own table's columns (the last-list shortcut is global).
func TestUnhappyAlternatingColumnsAcrossClients(t *testing.T) {
	s := rtServer(t, realtimetest.WithMaxEventsPerSecond(1_000_000))
	noteCols := []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "body", Type: "text"}, {Name: "at", Type: "timestamptz"}}
	const n = 200
	var wg sync.WaitGroup
	type sub struct {
		todos *chLog[postgres.Change[todo]]
		notes *chLog[postgres.Change[rvNote]]
		all   *chLog[postgres.Change[map[string]any]]
	}
	var subs []sub
	for _, ser := range []phoenix.Serializer{phoenix.V1Lazy, phoenix.V2} {
		c := chConnect(t, s, source.WithSerializer(ser))
		a := chNew(t, c, "a", source.WithPostgresChanges(postgres.Binding{Table: "todos"}))
		b := chNew(t, c, "b", source.WithPostgresChanges(postgres.Binding{Table: "notes"}))
		sb := sub{
			todos: messageLog(t, a, source.Changes[todo](a)),
			notes: messageLog(t, b, source.Changes[rvNote](b)),
			all:   messageLog(t, a, source.AllChanges[map[string]any](c)),
		}
		chSubscribe(t, a)
		chSubscribe(t, b)
		subs = append(subs, sb)
	}
	wg.Go(func() {
		for i := range n {
			emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "todos", Columns: todoColumns,
				Record: todo{ID: int64(i), Title: "t"}})
			emit(t, s, realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "notes", Columns: noteCols,
				Record: rvNote{ID: int64(i), Body: "b", At: "2026-01-01T00:00:00Z"}})
		}
	})
	wg.Wait()
	for _, sb := range subs {
		sb.todos.waitUntil(t, "todos", func(v []postgres.Change[todo], _ bool) bool { return len(v) >= n })
		sb.notes.waitUntil(t, "notes", func(v []postgres.Change[rvNote], _ bool) bool { return len(v) >= n })
		all := sb.all.waitUntil(t, "all", func(v []postgres.Change[map[string]any], _ bool) bool { return len(v) >= 2*n })
		tv, _ := sb.todos.snapshot()
		nv, _ := sb.notes.snapshot()
		for i := range n {
			assert.Equal(t, int64(i), tv[i].New.ID)
			assert.Equal(t, "todos", tv[i].Table)
			assert.Equal(t, "title", tv[i].Columns[1].Name)
			assert.Equal(t, int64(i), nv[i].New.ID)
			assert.Equal(t, "body", nv[i].Columns[1].Name)
		}
		for _, chg := range all {
			if chg.Table == "notes" {
				assert.Equal(t, "b", chg.New["body"])
				assert.Len(t, chg.Columns, 3)
			} else {
				assert.Equal(t, "t", chg.New["title"])
			}
		}
	}
}
