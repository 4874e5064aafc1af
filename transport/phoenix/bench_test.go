package phoenix

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The postgres_changes delivery frames (server.md §3.2) of an INSERT of a
// chat message row (int8 id, two uuids, text body, int4, bool, timestamptz,
// small jsonb) with its "columns" array, ~930 bytes. bench/ reuses them.
const (
	pgFrameV2File = "testdata/postgres_change_v2.json"
	pgFrameV1File = "testdata/postgres_change_v1.json"
)

func loadFrame(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	require.NoError(tb, err)
	return bytes.TrimSpace(b)
}

// The typed shapes a full encoding/json decode fills.
type (
	pgColumn struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	chatMeta struct {
		Client   string   `json:"client"`
		Mentions []string `json:"mentions"`
		ReplyTo  int64    `json:"reply_to"`
	}
	chatMessage struct {
		ID        int64     `json:"id"`
		RoomID    string    `json:"room_id"`
		UserID    string    `json:"user_id"`
		Body      string    `json:"body"`
		Likes     int32     `json:"likes"`
		Edited    bool      `json:"edited"`
		CreatedAt time.Time `json:"created_at"`
		Meta      chatMeta  `json:"meta"`
	}
	pgChange struct {
		IDs  []int64 `json:"ids"`
		Data struct {
			Schema          string       `json:"schema"`
			Table           string       `json:"table"`
			CommitTimestamp time.Time    `json:"commit_timestamp"`
			Type            string       `json:"type"`
			Columns         []pgColumn   `json:"columns"`
			Record          chatMessage  `json:"record"`
			OldRecord       *chatMessage `json:"old_record"`
			Errors          []string     `json:"errors"`
		} `json:"data"`
	}
	fullV1 struct {
		Topic   string   `json:"topic"`
		Event   string   `json:"event"`
		Payload pgChange `json:"payload"`
		Ref     *string  `json:"ref"`
		JoinRef *string  `json:"join_ref"`
	}
	fullV2 struct {
		JoinRef, Ref *string
		Topic, Event string
		Payload      pgChange
	}
)

// UnmarshalJSON decodes a V2 array the way an encoding/json client must:
// split the array, then decode each element.
func (f *fullV2) UnmarshalJSON(b []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return err
	}
	if len(parts) < 5 {
		return ErrMalformed
	}
	for i, dst := range []any{&f.JoinRef, &f.Ref, &f.Topic, &f.Event, &f.Payload} {
		if err := json.Unmarshal(parts[i], dst); err != nil {
			return err
		}
	}
	return nil
}

func TestBenchFramesDecodeFully(t *testing.T) {
	v2 := loadFrame(t, pgFrameV2File)
	v1 := loadFrame(t, pgFrameV1File)
	var a fullV2
	require.NoError(t, json.Unmarshal(v2, &a))
	var b fullV1
	require.NoError(t, json.Unmarshal(v1, &b))
	require.Equal(t, a.Payload, b.Payload)
	require.Equal(t, "realtime:room:6f1c2a9e", a.Topic)
	require.Len(t, a.Payload.Data.Columns, 8)
	require.Equal(t, int64(1842307751), a.Payload.Data.Record.ID)

	var m Message
	require.NoError(t, V2.Decode(&m, v2, false))
	var n Message
	require.NoError(t, V1.Decode(&n, v1, false))
	require.Equal(t, string(m.Payload), string(n.Payload))
	var p pgChange
	require.NoError(t, json.Unmarshal(m.Payload, &p))
	require.Equal(t, a.Payload, p)
}

func BenchmarkDecodePostgresChange(b *testing.B) {
	v2 := loadFrame(b, pgFrameV2File)
	v1 := loadFrame(b, pgFrameV1File)
	b.Run("envelope/v2", func(b *testing.B) {
		b.SetBytes(int64(len(v2)))
		b.ReportAllocs()
		var m Message
		for b.Loop() {
			if err := V2.Decode(&m, v2, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("envelope/v1", func(b *testing.B) {
		b.SetBytes(int64(len(v1)))
		b.ReportAllocs()
		var m Message
		for b.Loop() {
			if err := V1.Decode(&m, v1, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json-full/v2", func(b *testing.B) {
		b.SetBytes(int64(len(v2)))
		b.ReportAllocs()
		for b.Loop() {
			var f fullV2
			if err := json.Unmarshal(v2, &f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json-full/v1", func(b *testing.B) {
		b.SetBytes(int64(len(v1)))
		b.ReportAllocs()
		for b.Loop() {
			var f fullV1
			if err := json.Unmarshal(v1, &f); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	heartbeat := &Message{Topic: TopicPhoenix, Event: EventHeartbeat, Ref: "12345", Payload: []byte(`{}`)}
	broadcast := &Message{JoinRef: "3", Ref: "12346", Topic: "realtime:room1", Event: EventBroadcast,
		Payload: []byte(`{"type":"broadcast","event":"cursor","payload":{"x":120,"y":48,"user":"d3b07384"}}`)}
	user := &Message{JoinRef: "3", Ref: "12346", Topic: "realtime:room1", Event: EventBroadcast, UserEvent: "cursor",
		Payload: []byte(`{"x":120,"y":48,"user":"d3b07384"}`)}
	js := NewV2(WithBinaryUserBroadcasts(true))
	cases := []struct {
		name string
		ser  Serializer
		m    *Message
	}{
		{"heartbeat/v1", V1, heartbeat},
		{"heartbeat/v2", V2, heartbeat},
		{"broadcast/v1", V1, broadcast},
		{"broadcast/v2", V2, broadcast},
		{"broadcast/v2-kind3", js, broadcast},
		{"user-broadcast/v2-kind3", js, user},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]byte, 0, 256)
			var err error
			for b.Loop() {
				if dst, _, err = c.ser.Encode(dst[:0], c.m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseReply(b *testing.B) {
	payload := []byte(`{"status":"ok","response":{"postgres_changes":[{"id":31339675,"event":"*","schema":"public","table":"messages","filter":"room_id=eq.6f1c2a9e"}]}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseReply(payload); err != nil {
			b.Fatal(err)
		}
	}
}
