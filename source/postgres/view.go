package postgres

import (
	"maps"
	"reflect"
	"time"
)

// Diff is one difference between two states of a [View]: a row inserted,
// updated or deleted.
type Diff[K comparable, T any] struct {
	// Type is Insert (New is the row), Update (Old is the row before, New
	// the row after) or Delete (Old is the row removed).
	Type EventType
	// Key is the row's key.
	Key K
	// Old is the row before an Update or a Delete; the zero T for Insert.
	Old T
	// New is the row after an Insert or an Update; the zero T for Delete.
	New T
	// CommitTimestamp is the commit time of the change that made the
	// difference (see [View.Apply]); zero for a difference found by
	// comparing two views ([View.Diff]), such as a reload's.
	CommitTimestamp time.Time
}

// viewTombstones bounds how many deleted keys a View remembers the commit
// time of (see View.Apply).
const viewTombstones = 1024

// View is a keyed copy of a table's rows, kept current by applying its
// changes in commit order ([View.Apply]) and compared with a fresh read of
// the table ([View.Diff]). Each step says what it changed as [Diff]s.
//
// Rows are keyed by a function that must read only primary-key fields:
// without REPLICA IDENTITY FULL, Old of a DELETE holds only the primary
// key. Rows are compared (to tell an update that changes nothing from one
// that does) with T's method Equal(T) bool when it has one, as time.Time
// does, else with [reflect.DeepEqual].
//
// A View is not safe for concurrent use.
type View[K comparable, T any] struct {
	key   func(T) K
	equal func(a, b T) bool
	rows  map[K]T
	// at is, per key, the commit time of the last change applied to it:
	// for the rows present, and for the last viewTombstones deleted keys
	// (tombs, oldest first), so that an older change of a deleted row
	// arriving late cannot bring it back.
	at    map[K]time.Time
	tombs []tomb[K]
	next  int // the oldest tombstone once tombs is full
}

// tomb is a deleted key and the commit time of its delete.
type tomb[K comparable] struct {
	key K
	at  time.Time
}

// NewView returns a view holding rows, keyed by key; of two rows with the
// same key the later one is kept.
func NewView[K comparable, T any](key func(T) K, rows []T) *View[K, T] {
	v := &View[K, T]{key: key, equal: equalFunc[T](), rows: make(map[K]T, len(rows)), at: map[K]time.Time{}}
	for _, r := range rows {
		v.rows[key(r)] = r
	}
	return v
}

// equalFunc returns T's Equal method as a function, or reflect.DeepEqual.
func equalFunc[T any]() func(a, b T) bool {
	var zero T
	if _, ok := any(zero).(interface{ Equal(T) bool }); ok {
		return func(a, b T) bool { return any(a).(interface{ Equal(T) bool }).Equal(b) }
	}
	return func(a, b T) bool { return reflect.DeepEqual(a, b) }
}

// Len returns the number of rows.
func (v *View[K, T]) Len() int { return len(v.rows) }

// Get returns the row with key k.
func (v *View[K, T]) Get(k K) (T, bool) {
	r, ok := v.rows[k]
	return r, ok
}

// Rows returns a copy of the rows by key, which the view never modifies.
func (v *View[K, T]) Rows() map[K]T { return maps.Clone(v.rows) }

// Apply applies one change and appends what it changed to dst: INSERT and
// UPDATE store New under key(New) (an UPDATE whose Old has another key
// moves the row: the old key is deleted), DELETE removes key(Old). An
// INSERT or UPDATE of a row equal to the one stored changes nothing, and
// a DELETE of a row not stored neither: a change applied twice, or one a
// fresh read already holds, makes no difference the second time.
//
// Changes are ordered by their commit timestamp per key: a change older
// than the last one applied to its key (the row it writes, or for a
// DELETE the row it removes) is skipped. A zero CommitTimestamp (the
// server sends null with some errors) is never skipped and records
// nothing.
func (v *View[K, T]) Apply(c Change[T], dst []Diff[K, T]) []Diff[K, T] {
	ts := c.CommitTimestamp
	switch c.Type {
	case Insert, Update:
		k := v.key(c.New)
		if v.stale(k, ts) {
			return dst
		}
		if c.Type == Update {
			if old := v.key(c.Old); old != k {
				if _, had := v.rows[old]; had && !v.stale(old, ts) {
					dst = v.remove(old, ts, dst)
				}
			}
		}
		return v.put(k, c.New, ts, dst)
	case Delete:
		k := v.key(c.Old)
		if v.stale(k, ts) {
			return dst
		}
		return v.remove(k, ts, dst)
	}
	return dst
}

// Diff appends to dst the differences that turn v into to: an Insert for
// each row of to that v lacks, an Update for each row that differs, then
// a Delete for each row of v that to lacks, each group in no particular
// order. Neither view is modified.
func (v *View[K, T]) Diff(to *View[K, T], dst []Diff[K, T]) []Diff[K, T] {
	for k, n := range to.rows {
		o, had := v.rows[k]
		switch {
		case !had:
			dst = append(dst, Diff[K, T]{Type: Insert, Key: k, New: n})
		case !v.equal(o, n):
			dst = append(dst, Diff[K, T]{Type: Update, Key: k, Old: o, New: n})
		}
	}
	for k, o := range v.rows {
		if _, kept := to.rows[k]; !kept {
			dst = append(dst, Diff[K, T]{Type: Delete, Key: k, Old: o})
		}
	}
	return dst
}

// stale reports a change committed at ts that is older than the last one
// applied to k.
func (v *View[K, T]) stale(k K, ts time.Time) bool {
	if ts.IsZero() {
		return false
	}
	last, ok := v.at[k]
	return ok && ts.Before(last)
}

// put stores r under k.
func (v *View[K, T]) put(k K, r T, ts time.Time, dst []Diff[K, T]) []Diff[K, T] {
	if !ts.IsZero() {
		v.at[k] = ts
	}
	o, had := v.rows[k]
	v.rows[k] = r
	switch {
	case !had:
		return append(dst, Diff[K, T]{Type: Insert, Key: k, New: r, CommitTimestamp: ts})
	case !v.equal(o, r):
		return append(dst, Diff[K, T]{Type: Update, Key: k, Old: o, New: r, CommitTimestamp: ts})
	}
	return dst
}

// remove deletes the row under k, remembering when (a tombstone).
func (v *View[K, T]) remove(k K, ts time.Time, dst []Diff[K, T]) []Diff[K, T] {
	if !ts.IsZero() {
		v.at[k] = ts
		t := tomb[K]{key: k, at: ts}
		if len(v.tombs) < viewTombstones {
			v.tombs = append(v.tombs, t)
		} else {
			// Forget the oldest tombstone, unless its key was written since.
			old := v.tombs[v.next]
			if _, present := v.rows[old.key]; !present && v.at[old.key].Equal(old.at) {
				delete(v.at, old.key)
			}
			v.tombs[v.next] = t
			v.next = (v.next + 1) % viewTombstones
		}
	}
	o, had := v.rows[k]
	if !had {
		return dst
	}
	delete(v.rows, k)
	return append(dst, Diff[K, T]{Type: Delete, Key: k, Old: o, CommitTimestamp: ts})
}
