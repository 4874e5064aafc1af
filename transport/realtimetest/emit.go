package realtimetest

import (
	"fmt"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// EmitChange delivers a row change to every channel whose postgres_changes
// bindings match it (event, schema, table and filter), as one
// postgres_changes message per channel carrying the ids of all its matching
// bindings:
//
//	[null,null,"realtime:room","postgres_changes",{"ids":[123],"data":{"schema":"public","table":"messages",
//	  "commit_timestamp":"2026-01-02T03:04:05.678Z","type":"INSERT","columns":[...],"record":{...},"errors":null}}]
//
// INSERT carries "record" only, UPDATE "record" and "old_record", DELETE
// "old_record" only. Filters see the new record, for DELETE the old one.
// Channels whose bindings failed to subscribe receive nothing, and while
// the events-per-second limit is tripped changes are dropped, as on the real
// server.
//
// It returns how many channels the change was sent to. The error wraps
// [ErrInvalidChange] for a bad Change and [ErrServerClosed] after Close.
func (s *Server) EmitChange(c Change) (int, error) {
	chg, err := c.validate(time.Now())
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("realtimetest: emit change: %w", ErrServerClosed)
	}
	if s.eventsTripped() {
		return 0, nil
	}
	data := map[string][]byte{}
	delivered := 0
	for _, ch := range s.allChannels() {
		if ch.pgErr != "" || len(ch.bindings) == 0 {
			continue
		}
		var groups []string
		ids := map[string][]int64{}
		sels := map[string][]string{}
		for i := range ch.bindings {
			b := &ch.bindings[i]
			if !b.matches(chg) {
				continue
			}
			k := b.selectKey()
			if _, seen := ids[k]; !seen {
				groups = append(groups, k)
				sels[k] = b.sel
			}
			ids[k] = append(ids[k], b.id)
		}
		for _, k := range groups {
			d, ok := data[k]
			if !ok {
				d = chg.dataJSON(sels[k])
				data[k] = d
			}
			ch.c.send(phoenix.Message{Topic: ch.topic, Event: phoenix.EventPostgres, Payload: changePayload(ids[k], d)}, false)
		}
		if len(groups) > 0 {
			delivered++
		}
	}
	return delivered, nil
}
