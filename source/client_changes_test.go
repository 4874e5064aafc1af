package source_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/source"
	"github.com/rxrealtime/rxrealtime/source/postgres"
	"github.com/rxrealtime/rxrealtime/source/realtimetest"
)

type roomRow struct {
	ID     int64  `json:"id"`
	RoomID int64  `json:"room_id"`
	Body   string `json:"body"`
}

func TestAllChangesDeliversEveryChannelsChangesToOneConsumer(t *testing.T) {
	s := newServer(t)
	c := connect(t, s, fast()...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var chans []*source.Channel
	for _, room := range []int64{1, 2, 3} {
		ch, err := c.Channel("room-"+strconv.FormatInt(room, 10), source.WithWaitForPostgres(), source.WithPostgresChanges(postgres.Binding{
			Event: postgres.Insert, Schema: "public", Table: "messages", Filter: postgres.Eq("room_id", room),
		}))
		require.NoError(t, err)
		chans = append(chans, ch)
	}
	all := source.AllChanges[roomRow](c, postgres.Insert).Observe(ctx)
	for _, ch := range chans {
		require.NoError(t, ch.Subscribe(waitCtx(t)))
	}
	cols := []realtimetest.Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "room_id", Type: "int8"}, {Name: "body", Type: "text"}}
	for i, room := range []int64{1, 2, 3, 4, 2} { // room 4 has no channel: filtered by the server
		_, err := s.EmitChange(realtimetest.Change{Type: realtimetest.Insert, Schema: "public", Table: "messages", Columns: cols,
			Record: map[string]any{"id": i + 1, "room_id": room, "body": "m"}})
		require.NoError(t, err)
	}
	var got []int64
	timeout := time.After(5 * time.Second)
	for len(got) < 4 {
		select {
		case chg := <-all:
			assert.Equal(t, postgres.Insert, chg.Type)
			got = append(got, chg.New.ID)
		case <-timeout:
			t.Fatalf("got %v", got)
		}
	}
	assert.ElementsMatch(t, []int64{1, 2, 3, 5}, got)
	select {
	case chg := <-all:
		t.Fatalf("unexpected change %+v", chg)
	case <-time.After(50 * time.Millisecond):
	}
}
