package frames

import "time"

// Row is the chat-message row every benchmark client decodes: the record of
// a postgres_changes INSERT on public.messages. Its columns (see [Columns])
// cover the usual Postgres types: int8, uuid, text, int4, bool, timestamptz
// and a small jsonb.
type Row struct {
	ID        int64     `json:"id"`
	RoomID    string    `json:"room_id"`
	AuthorID  string    `json:"author_id"`
	Body      string    `json:"body"`
	Likes     int32     `json:"likes"`
	Pinned    bool      `json:"pinned"`
	CreatedAt time.Time `json:"created_at"`
	Meta      Meta      `json:"meta"`
}

// Meta is the jsonb column of [Row].
type Meta struct {
	Client   string   `json:"client"`
	Mentions []string `json:"mentions"`
	Edited   bool     `json:"edited"`
}

// Column is one entry of a postgres_changes "columns" list.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Columns is the "columns" list the server sends with every [Row], in table
// (attnum) order.
var Columns = []Column{
	{Name: "id", Type: "int8"},
	{Name: "room_id", Type: "uuid"},
	{Name: "author_id", Type: "uuid"},
	{Name: "body", Type: "text"},
	{Name: "likes", Type: "int4"},
	{Name: "pinned", Type: "bool"},
	{Name: "created_at", Type: "timestamptz"},
	{Name: "meta", Type: "jsonb"},
}

// Data is the "data" object of a postgres_changes payload carrying a [Row].
type Data struct {
	Schema          string    `json:"schema"`
	Table           string    `json:"table"`
	CommitTimestamp time.Time `json:"commit_timestamp"`
	Type            string    `json:"type"`
	Columns         []Column  `json:"columns"`
	Record          Row       `json:"record"`
	OldRecord       *Row      `json:"old_record,omitempty"`
	Errors          []string  `json:"errors"`
}

// Payload is the payload of a postgres_changes message: the ids of the
// channel's bindings that matched, and the change.
type Payload struct {
	IDs  []int64 `json:"ids"`
	Data Data    `json:"data"`
}

// V1Frame is a whole vsn 1.0.0 frame decoded in one pass. Frames other than
// postgres_changes (replies, system messages, the end-of-burst broadcast)
// decode into it too: their payload fields are simply ignored.
type V1Frame struct {
	Topic   string  `json:"topic"`
	Event   string  `json:"event"`
	Payload Payload `json:"payload"`
	Ref     *string `json:"ref"`
}
