package postgres

import (
	stdjson "encoding/json"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
	sjson "github.com/segmentio/encoding/json"
)

// Run with:
//
//	go test -run '^$' -bench . -benchmem ./source/postgres/
//
// BenchmarkDecode measures this package; BenchmarkDecoders measures the
// naive alternative (one Unmarshal of the whole frame, columns included, into
// a typed struct) with each candidate decoder, which is how the decoder was
// chosen.

func BenchmarkDecode(b *testing.B) {
	b.Run("insert/struct", func(b *testing.B) { benchDecode[chatMessage](b, chatInsert) })
	b.Run("insert/map", func(b *testing.B) { benchDecode[map[string]any](b, chatInsert) })
	b.Run("update/struct", func(b *testing.B) { benchDecode[chatMessage](b, chatUpdate) })
	b.Run("delete/struct", func(b *testing.B) { benchDecode[chatMessage](b, chatDelete) })
	b.Run("legacy-strings/struct", func(b *testing.B) { benchDecode[chatMessage](b, legacyInsert) })
	// jsonb sent as a string: the map decoder bounds the string's text
	// (phoenix.CheckDepth) before it parses it.
	b.Run("legacy-strings/map", func(b *testing.B) { benchDecode[map[string]any](b, legacyInsert) })
	b.Run("envelope-scan", func(b *testing.B) {
		payload := []byte(chatInsert)
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		var env Envelope
		for b.Loop() {
			if err := ScanEnvelope(payload, &env); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("envelope-only", func(b *testing.B) {
		payload := []byte(chatInsert)
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		var env Envelope
		for b.Loop() {
			if err := ParseEnvelope(payload, &env); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// legacyInsert is chatInsert with the values an old server sent as text.
const legacyInsert = `{"ids":[31339675],"data":{"schema":"public","table":"messages","commit_timestamp":"2026-08-21T12:00:00.123Z","type":"INSERT","columns":` + chatColumns + `,"record":{"id":"9007199254740993","room_id":"3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69","author_id":"a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d","body":"short","seq":"42","edited":"f","created_at":"2026-08-21 12:00:00.123456+00","meta":"{\"client\":\"web\",\"reply_to\":null,\"mentions\":[\"u1\",\"u2\"]}"},"errors":null}}`

func benchDecode[T any](b *testing.B, payload string) {
	p := []byte(payload)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	var c Change[T]
	for b.Loop() {
		if err := Decode(p, &c); err != nil {
			b.Fatal(err)
		}
	}
}

// naiveFrame is the whole payload as one typed struct.
type naiveFrame struct {
	IDs  []int `json:"ids"`
	Data struct {
		Schema          string      `json:"schema"`
		Table           string      `json:"table"`
		CommitTimestamp time.Time   `json:"commit_timestamp"`
		Type            string      `json:"type"`
		Columns         []Column    `json:"columns"`
		Record          chatMessage `json:"record"`
		OldRecord       chatMessage `json:"old_record"`
		Errors          []string    `json:"errors"`
	} `json:"data"`
}

func BenchmarkDecoders(b *testing.B) {
	payload := []byte(chatInsert)
	record := []byte(chatRecord)
	for _, d := range []struct {
		name      string
		unmarshal func([]byte, any) error
	}{
		{"encoding-json", stdjson.Unmarshal},
		{"goccy-go-json", gojson.Unmarshal},
		{"segmentio", sjson.Unmarshal},
	} {
		b.Run("frame/"+d.name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				var f naiveFrame
				if err := d.unmarshal(payload, &f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("record/"+d.name, func(b *testing.B) {
			b.SetBytes(int64(len(record)))
			b.ReportAllocs()
			for b.Loop() {
				var m chatMessage
				if err := d.unmarshal(record, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
