package source

import (
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func fakeJWT(payload string) string {
	return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

func TestJWTTimes(t *testing.T) {
	exp, iat, ok := jwtTimes(fakeJWT(`{"exp":1700000100,"iat":1700000000,"role":"authenticated"}`))
	assert.True(t, ok)
	assert.Equal(t, time.Unix(1700000100, 0), exp)
	assert.Equal(t, time.Unix(1700000000, 0), iat)

	_, iat, ok = jwtTimes(fakeJWT(`{"exp":1700000100}`))
	assert.True(t, ok)
	assert.True(t, iat.IsZero())

	for _, bad := range []string{"", "opaque-token", "a.b", "a.!!!.c", fakeJWT(`{"role":"x"}`), fakeJWT(`{"exp":"soon"}`), fakeJWT(`[1]`)} {
		_, _, ok := jwtTimes(bad)
		assert.False(t, ok, "%q", bad)
	}
}

func TestRefreshDelay(t *testing.T) {
	now := time.Unix(1700000000, 0)
	tok := func(iat, exp time.Duration) string {
		return fakeJWT(`{"iat":` + itoa(now.Add(iat).Unix()) + `,"exp":` + itoa(now.Add(exp).Unix()) + `}`)
	}
	cases := []struct {
		name     string
		token    string
		want     time.Duration
		schedule bool
	}{
		{"one hour: 10% before exp", tok(0, time.Hour), 54 * time.Minute, true},
		{"one minute: 10% (6 s) before exp", tok(0, time.Minute), 54 * time.Second, true},
		{"20 s: the 5 s lead", tok(0, 20*time.Second), 15 * time.Second, true},
		{"3 s: half the lifetime", tok(0, 3*time.Second), 1500 * time.Millisecond, true},
		{"half used: from now", tok(-30*time.Minute, 30*time.Minute), 24 * time.Minute, true},
		{"due: the minimum gap", tok(-time.Hour+time.Second, time.Second), minRefreshGap, true},
		{"expired: heartbeat only", tok(-time.Hour, -time.Second), 0, false},
		{"opaque: heartbeat only", "opaque", 0, false},
	}
	for _, c := range cases {
		d, ok := refreshDelay(c.token, now, false)
		assert.Equal(t, c.schedule, ok, c.name)
		assert.Equal(t, c.want, d, c.name)
	}
	// No iat: the lifetime counts from now.
	d, ok := refreshDelay(fakeJWT(`{"exp":`+itoa(now.Add(100*time.Second).Unix())+`}`), now, false)
	assert.True(t, ok)
	assert.Equal(t, 90*time.Second, d)

	// Due, and the provider gave the same token again: half the time left,
	// so a provider that refreshes later is asked a few times, not in a loop.
	hour := tok(-54*time.Minute, 6*time.Minute)
	d, ok = refreshDelay(hour, now, true)
	assert.True(t, ok)
	assert.Equal(t, 3*time.Minute, d)
	d, _ = refreshDelay(hour, now, false)
	assert.Equal(t, minRefreshGap, d)
	d, _ = refreshDelay(tok(0, time.Hour), now, true)
	assert.Equal(t, 54*time.Minute, d, "not yet due: the usual schedule")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
