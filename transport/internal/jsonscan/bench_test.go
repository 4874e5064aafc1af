package jsonscan

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// The postgres_changes payload of the phoenix package's benchmark frame.
func benchPayload(b *testing.B) []byte {
	frame, err := os.ReadFile("../../phoenix/testdata/postgres_change_v2.json")
	if err != nil {
		b.Skip("frame not found:", err)
	}
	frame = bytes.TrimSpace(frame)
	i := bytes.Index(frame, []byte(`{"ids"`))
	return frame[i : len(frame)-1]
}

func BenchmarkSkip(b *testing.B) {
	p := benchPayload(b)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Skip(p, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodingJSONValid(b *testing.B) {
	p := benchPayload(b)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if !json.Valid(p) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkUnquote(b *testing.B) {
	raw := []byte(`Hey team, the deploy finished \u2014 check the \"payments\" test`)
	b.ReportAllocs()
	for b.Loop() {
		_ = Unquote(raw)
	}
}

func BenchmarkLocate(b *testing.B) {
	p := benchPayload(b)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Locate(p, 0); err != nil {
			b.Fatal(err)
		}
	}
}
