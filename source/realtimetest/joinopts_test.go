package realtimetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPostgresWaitServer(t *testing.T) {
	s := newServer(t)
	c := dial(t, s, "2.0.0")
	const bad = `{"event":"INSERT","schema":"public","table":"t","filter":"nocolumn"}`

	// An invalid binding with wait fails the join (the subscription can
	// never succeed) instead of a postgres_changes system error.
	jr := c.join("realtime:bad", `{"config":{"postgres_changes":[`+bad+`],"postgres_changes_options":{"wait":true}}}`)
	m := c.nextMsg()
	assert.Equal(t, "phx_reply", m.Event)
	assert.Equal(t, jr, m.Ref)
	assert.Contains(t, string(m.Payload), `"status":"error"`)
	assert.Contains(t, string(m.Payload), `"reason":"RealtimeDisabledForConfiguration: `)

	// The error names the timeout applied.
	s.Faults().DelayPostgres(time.Hour)
	jr = c.join("realtime:w", `{"config":{"postgres_changes":[{"event":"*","schema":"public"}],"postgres_changes_options":{"wait":true,"timeout":30}}}`)
	c.expect(`["` + jr + `","` + jr + `","realtime:w","phx_reply",{"status":"error","response":{"reason":"PostgresChangesSubscribeTimeout: Timed out after 30ms waiting for the postgres_changes subscription"}}]`)

	// An invalid timeout falls back to the default (15 s): a 100 ms delay
	// is waited out; "TRUE" is a FlexibleBoolean.
	s.Faults().DelayPostgres(100 * time.Millisecond)
	start := time.Now()
	jr = c.join("realtime:v", `{"config":{"postgres_changes":[{"event":"*","schema":"public"}],"postgres_changes_options":{"wait":"TRUE","timeout":-5}}}`)
	m = c.nextMsg()
	assert.Equal(t, "phx_reply", m.Event)
	assert.Contains(t, string(m.Payload), `"status":"ok"`)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
	c.expect(`["` + jr + `",null,"realtime:v","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"v"}]`)
}

func TestPostgresDelayWithoutWait(t *testing.T) {
	s := newServer(t)
	s.Faults().DelayPostgres(300 * time.Millisecond)
	c := dial(t, s, "2.0.0")
	start := time.Now()
	jr := c.join("realtime:r", `{"config":{"postgres_changes":[{"event":"*","schema":"public"}]}}`)
	m := c.nextMsg()
	assert.Equal(t, "phx_reply", m.Event)
	assert.Less(t, time.Since(start), 300*time.Millisecond, "the reply is not held without wait")
	c.expect(`["` + jr + `",null,"realtime:r","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"r"}]`)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
}
