package postgres_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/rxrealtime/rxrealtime/source/postgres"
)

func rowKey(r row) int64 { return r.ID }

func at(sec int) time.Time { return time.Date(2026, 1, 2, 3, 4, sec, 0, time.UTC) }

type rowDiff = postgres.Diff[int64, row]

func TestViewAppliesChangesAndSaysWhatChanged(t *testing.T) {
	v := postgres.NewView(rowKey, []row{{1, "a"}, {2, "b"}})
	apply := func(c postgres.Change[row]) []rowDiff { return v.Apply(c, nil) }

	assert.Equal(t, []rowDiff{{Type: postgres.Insert, Key: 3, New: row{3, "c"}, CommitTimestamp: at(1)}},
		apply(postgres.Change[row]{Type: postgres.Insert, New: row{3, "c"}, CommitTimestamp: at(1)}))
	assert.Empty(t, apply(postgres.Change[row]{Type: postgres.Insert, New: row{3, "c"}, CommitTimestamp: at(1)}),
		"the same change again changes nothing")
	assert.Empty(t, apply(postgres.Change[row]{Type: postgres.Update, New: row{1, "a"}, Old: row{ID: 1}, CommitTimestamp: at(2)}),
		"an update to an equal row changes nothing")
	assert.Equal(t, []rowDiff{{Type: postgres.Update, Key: 1, Old: row{1, "a"}, New: row{1, "a2"}, CommitTimestamp: at(3)}},
		apply(postgres.Change[row]{Type: postgres.Update, New: row{1, "a2"}, Old: row{ID: 1}, CommitTimestamp: at(3)}))
	assert.Equal(t, []rowDiff{{Type: postgres.Delete, Key: 2, Old: row{2, "b"}, CommitTimestamp: at(4)}},
		apply(postgres.Change[row]{Type: postgres.Delete, Old: row{ID: 2}, CommitTimestamp: at(4)}))
	assert.Empty(t, apply(postgres.Change[row]{Type: postgres.Delete, Old: row{ID: 2}, CommitTimestamp: at(4)}),
		"deleting a row that is not there changes nothing")
	assert.Equal(t, []rowDiff{
		{Type: postgres.Delete, Key: 1, Old: row{1, "a2"}, CommitTimestamp: at(5)},
		{Type: postgres.Insert, Key: 9, New: row{9, "moved"}, CommitTimestamp: at(5)},
	}, apply(postgres.Change[row]{Type: postgres.Update, New: row{9, "moved"}, Old: row{ID: 1}, CommitTimestamp: at(5)}),
		"an update that changes the key moves the row")
	assert.Equal(t, map[int64]row{3: {3, "c"}, 9: {9, "moved"}}, v.Rows())
	assert.Equal(t, 2, v.Len())
	r, ok := v.Get(9)
	assert.True(t, ok)
	assert.Equal(t, row{9, "moved"}, r)
}

func TestViewOrdersChangesByCommitTimestampPerKey(t *testing.T) {
	v := postgres.NewView(rowKey, nil)
	v.Apply(postgres.Change[row]{Type: postgres.Insert, New: row{1, "new"}, CommitTimestamp: at(10)}, nil)
	assert.Empty(t, v.Apply(postgres.Change[row]{Type: postgres.Update, New: row{1, "older"}, Old: row{ID: 1}, CommitTimestamp: at(9)}, nil),
		"a change committed before the last one of its key is skipped")
	assert.Equal(t, []rowDiff{{Type: postgres.Insert, Key: 2, New: row{2, "other"}, CommitTimestamp: at(1)}},
		v.Apply(postgres.Change[row]{Type: postgres.Insert, New: row{2, "other"}, CommitTimestamp: at(1)}, nil),
		"the order is per key: another key's older change applies")
	assert.Len(t, v.Apply(postgres.Change[row]{Type: postgres.Update, New: row{1, "same time"}, Old: row{ID: 1}, CommitTimestamp: at(10)}, nil), 1,
		"a change committed at the same time applies (arrival order)")

	v.Apply(postgres.Change[row]{Type: postgres.Delete, Old: row{ID: 1}, CommitTimestamp: at(20)}, nil)
	assert.Empty(t, v.Apply(postgres.Change[row]{Type: postgres.Insert, New: row{1, "resurrected"}, CommitTimestamp: at(15)}, nil),
		"an older change of a deleted row does not bring it back")
	assert.Len(t, v.Apply(postgres.Change[row]{Type: postgres.Insert, New: row{1, "zero time"}}, nil), 1,
		"a change without a commit timestamp is never skipped")
	assert.Len(t, v.Apply(postgres.Change[row]{Type: postgres.Insert, New: row{1, "again"}, CommitTimestamp: at(21)}, nil), 1)
	assert.Equal(t, map[int64]row{1: {1, "again"}, 2: {2, "other"}}, v.Rows())
}

func TestViewTombstonesAreBounded(t *testing.T) {
	const n = 1024 // viewTombstones
	v := postgres.NewView(rowKey, nil)
	for i := range int64(n + 1) {
		v.Apply(postgres.Change[row]{Type: postgres.Delete, Old: row{ID: i}, CommitTimestamp: at(30)}, nil)
	}
	assert.Len(t, v.Apply(postgres.Change[row]{Type: postgres.Insert, New: row{0, "old"}, CommitTimestamp: at(29)}, nil), 1,
		"the oldest tombstone is forgotten past the bound")
	assert.Empty(t, v.Apply(postgres.Change[row]{Type: postgres.Insert, New: row{n, "old"}, CommitTimestamp: at(29)}, nil),
		"the newest are kept")
}

func sortDiffs(d []rowDiff) []rowDiff {
	sort.Slice(d, func(i, j int) bool { return d[i].Key < d[j].Key })
	return d
}

func TestViewDiff(t *testing.T) {
	from := postgres.NewView(rowKey, []row{{1, "a"}, {2, "b"}, {3, "c"}})
	to := postgres.NewView(rowKey, []row{{1, "a"}, {2, "b2"}, {4, "d"}})
	assert.Equal(t, []rowDiff{
		{Type: postgres.Update, Key: 2, Old: row{2, "b"}, New: row{2, "b2"}},
		{Type: postgres.Delete, Key: 3, Old: row{3, "c"}},
		{Type: postgres.Insert, Key: 4, New: row{4, "d"}},
	}, sortDiffs(from.Diff(to, nil)))
	assert.Empty(t, from.Diff(from, nil))
	assert.Equal(t, map[int64]row{1: {1, "a"}, 2: {2, "b"}, 3: {3, "c"}}, from.Rows(), "Diff modifies neither view")
}

// stamped has an Equal method: two stamps of the same instant in different
// zones are the same row.
type stamped struct {
	ID int64
	At time.Time
}

func (s stamped) Equal(o stamped) bool { return s.ID == o.ID && s.At.Equal(o.At) }

func TestViewComparesRowsWithTheirEqualMethod(t *testing.T) {
	utc := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	v := postgres.NewView(func(s stamped) int64 { return s.ID }, []stamped{{1, utc}})
	same := stamped{1, utc.In(time.FixedZone("CET", 3600))}
	assert.Empty(t, v.Apply(postgres.Change[stamped]{Type: postgres.Update, New: same, Old: stamped{ID: 1}}, nil))
	assert.Len(t, v.Apply(postgres.Change[stamped]{Type: postgres.Update, New: stamped{1, utc.Add(time.Second)}, Old: stamped{ID: 1}}, nil), 1)
}

func ExampleView() {
	// A snapshot read over REST, then a change that it already holds and one it does not.
	v := postgres.NewView(func(r row) int64 { return r.ID }, []row{{1, "hello"}, {2, "world"}})
	for _, c := range []postgres.Change[row]{
		{Type: postgres.Insert, New: row{2, "world"}},
		{Type: postgres.Update, New: row{1, "hello again"}, Old: row{ID: 1}},
	} {
		for _, d := range v.Apply(c, nil) {
			fmt.Println(d.Type, d.Key, d.Old.Body, "->", d.New.Body)
		}
	}
	fmt.Println(v.Len(), "rows")
	// Output:
	// UPDATE 1 hello -> hello again
	// 2 rows
}
