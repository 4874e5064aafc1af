package frames

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"time"
)

// Epoch is the created_at of row 1; row i was created i-1 milliseconds later.
var Epoch = time.Date(2026, 8, 21, 12, 0, 0, 0, time.UTC)

// words make up message bodies: mostly ASCII, with a few accented words, an
// emoji, a quote and a newline so decoders also take their escape and
// multi-byte paths, as real chat text makes them do.
var words = []string{
	"the", "deploy", "is", "green", "again", "can", "you", "check", "staging", "before", "lunch",
	"I", "pushed", "a", "fix", "for", "flaky", "test", "on", "main", "thanks", "looks", "good",
	"to", "me", "let's", "ship", "it", "tomorrow", "morning", "after", "standup", "meeting",
	"café", "naïve", "über", "👍", "\"quoted\"", "line\nbreak", "ok", "sure", "why", "not",
	"database", "migration", "rolled", "back", "latency", "spiked", "at", "noon", "p99",
}

var clients = []string{"web", "ios", "android", "desktop"}

// Rows returns k deterministic rows with ids 1..k. Bodies are 40 to 280
// bytes long; a third of the rows mention one or two users.
func Rows(k int) []Row {
	rng := rand.New(rand.NewPCG(0x5eed, uint64(k)))
	rooms := make([]string, 8)
	for i := range rooms {
		rooms[i] = uuid(rng)
	}
	authors := make([]string, 32)
	for i := range authors {
		authors[i] = uuid(rng)
	}
	rows := make([]Row, k)
	for i := range rows {
		r := &rows[i]
		r.ID = int64(i + 1)
		r.RoomID = rooms[rng.IntN(len(rooms))]
		r.AuthorID = authors[rng.IntN(len(authors))]
		r.Body = body(rng, 40+rng.IntN(241))
		r.Likes = int32(rng.IntN(50))
		r.Pinned = rng.IntN(20) == 0
		r.CreatedAt = Epoch.Add(time.Duration(i) * time.Millisecond).Add(123456 * time.Microsecond)
		r.Meta.Client = clients[rng.IntN(len(clients))]
		r.Meta.Edited = rng.IntN(10) == 0
		r.Meta.Mentions = []string{}
		if rng.IntN(3) == 0 {
			for range 1 + rng.IntN(2) {
				r.Meta.Mentions = append(r.Meta.Mentions, authors[rng.IntN(len(authors))])
			}
		}
	}
	return rows
}

func body(rng *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rng.IntN(len(words))])
	}
	return b.String()
}

func uuid(rng *rand.Rand) string {
	var u [16]byte
	for i := range u {
		u[i] = byte(rng.Uint32())
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}
