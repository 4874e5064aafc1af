package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/stream"
)

type row struct {
	ID   int64
	Body string
}

func TestLiveTableAppliesChangesInOrder(t *testing.T) {
	changes := stream.Of(
		postgres.Change[row]{Type: postgres.Insert, New: row{1, "a"}},
		postgres.Change[row]{Type: postgres.Insert, New: row{2, "b"}},
		postgres.Change[row]{Type: postgres.Update, New: row{1, "a2"}, Old: row{ID: 1}},
		postgres.Change[row]{Type: postgres.Delete, Old: row{ID: 2}},
		postgres.Change[row]{Type: postgres.Update, New: row{3, "moved"}, Old: row{ID: 1}}, // key change
	)
	seed := map[int64]row{9: {9, "seeded"}}
	var views []map[int64]row
	err := postgres.LiveTable(changes, func(r row) int64 { return r.ID }, seed).
		Run(context.Background(), func(v map[int64]row) bool { views = append(views, v); return true })
	require.NoError(t, err)
	require.Len(t, views, 5)
	assert.Equal(t, map[int64]row{9: {9, "seeded"}, 1: {1, "a"}}, views[0])
	assert.Equal(t, map[int64]row{9: {9, "seeded"}, 1: {1, "a"}, 2: {2, "b"}}, views[1])
	assert.Equal(t, map[int64]row{9: {9, "seeded"}, 1: {1, "a2"}, 2: {2, "b"}}, views[2])
	assert.Equal(t, map[int64]row{9: {9, "seeded"}, 1: {1, "a2"}}, views[3])
	assert.Equal(t, map[int64]row{9: {9, "seeded"}, 3: {3, "moved"}}, views[4])
	// Snapshots are never modified afterwards, and the seed is not touched.
	assert.Equal(t, map[int64]row{9: {9, "seeded"}}, seed)
}

func TestLiveTableSkipsAnOlderChangeOfAKey(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	changes := stream.Of(
		postgres.Change[row]{Type: postgres.Insert, New: row{1, "new"}, CommitTimestamp: t0.Add(time.Second)},
		postgres.Change[row]{Type: postgres.Update, New: row{1, "old"}, Old: row{ID: 1}, CommitTimestamp: t0},
	)
	var views []map[int64]row
	err := postgres.LiveTable(changes, func(r row) int64 { return r.ID }, nil).
		Run(context.Background(), func(v map[int64]row) bool { views = append(views, v); return true })
	require.NoError(t, err)
	require.Len(t, views, 2)
	assert.Equal(t, map[int64]row{1: {1, "new"}}, views[1])
}

func TestLiveTableEndsWithItsSource(t *testing.T) {
	boom := fmt.Errorf("boom")
	err := postgres.LiveTable(stream.Fail[postgres.Change[row]](boom), func(r row) int64 { return r.ID }, nil).
		Run(context.Background(), func(map[int64]row) bool { return true })
	assert.ErrorIs(t, err, boom)
}

func ExampleLiveTable() {
	changes := stream.Of(
		postgres.Change[row]{Type: postgres.Insert, New: row{1, "hello"}},
		postgres.Change[row]{Type: postgres.Insert, New: row{2, "world"}},
		postgres.Change[row]{Type: postgres.Delete, Old: row{ID: 1}},
	)
	view := postgres.LiveTable(changes, func(r row) int64 { return r.ID }, nil)
	for rows := range view.All(context.Background()) {
		fmt.Println(len(rows), "rows")
	}
	// Output:
	// 1 rows
	// 2 rows
	// 1 rows
}
