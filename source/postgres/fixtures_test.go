package postgres

import (
	"time"
)

// chatMessage is the row type of the realistic frame below.
type chatMessage struct {
	ID        int64     `json:"id"`
	RoomID    string    `json:"room_id"`
	AuthorID  string    `json:"author_id"`
	Body      string    `json:"body"`
	Seq       int32     `json:"seq"`
	Edited    bool      `json:"edited"`
	CreatedAt time.Time `json:"created_at"`
	Meta      chatMeta  `json:"meta"`
}

type chatMeta struct {
	Client   string   `json:"client"`
	ReplyTo  *int64   `json:"reply_to"`
	Mentions []string `json:"mentions"`
}

const chatColumns = `[{"name":"id","type":"int8"},{"name":"room_id","type":"uuid"},{"name":"author_id","type":"uuid"},{"name":"body","type":"text"},{"name":"seq","type":"int4"},{"name":"edited","type":"bool"},{"name":"created_at","type":"timestamptz"},{"name":"meta","type":"jsonb"}]`

const chatRecord = `{"id":9007199254740993,"room_id":"3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69","author_id":"a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d","body":"Hey team, quick update on the realtime client: the socket now reconnects with backoff, rejoins channels with a fresh token, and the postgres_changes decoder skips the columns array unless it needs it. Benchmarks look good so far; I will post numbers after lunch. Also, can someone review the presence sync PR?","seq":42,"edited":false,"created_at":"2026-08-21T12:00:00.123456+00:00","meta":{"client":"web","reply_to":null,"mentions":["u1","u2"]}}`

// chatInsert is a realistic ~1000-byte postgres_changes payload: an int8 id,
// two uuids, a text body, an int4, a bool, a timestamptz and a small jsonb.
const chatInsert = `{"ids":[31339675],"data":{"schema":"public","table":"messages","commit_timestamp":"2026-08-21T12:00:00.123Z","type":"INSERT","columns":` + chatColumns + `,"record":` + chatRecord + `,"errors":null}}`

const chatUpdate = `{"ids":[31339675,7],"data":{"schema":"public","table":"messages","commit_timestamp":"2026-08-21T12:00:01.000Z","type":"UPDATE","columns":` + chatColumns + `,"record":{"id":9007199254740993,"body":"edited","seq":43,"edited":true},"old_record":{"id":9007199254740993},"errors":null}}`

const chatDelete = `{"ids":[31339675],"data":{"schema":"public","table":"messages","commit_timestamp":"2026-08-21T12:00:02.000Z","type":"DELETE","columns":` + chatColumns + `,"old_record":{"id":9007199254740993},"errors":null}}`
