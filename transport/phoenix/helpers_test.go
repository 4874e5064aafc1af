package phoenix

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// unhex turns a spaced hex dump into bytes.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

// bin concatenates header bytes and string fields into a binary frame.
func bin(header []byte, parts ...string) []byte {
	out := append([]byte(nil), header...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// norm makes empty and nil byte slices compare equal.
func norm(m Message) Message {
	if len(m.Payload) == 0 {
		m.Payload = nil
	}
	if len(m.Meta) == 0 {
		m.Meta = nil
	}
	return m
}

func requireSameMessage(t require.TestingT, want, got Message, msgAndArgs ...any) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	want, got = norm(want), norm(got)
	// Compare payloads as text for readable failures.
	require.Equal(t, string(want.Payload), string(got.Payload), msgAndArgs...)
	require.Equal(t, string(want.Meta), string(got.Meta), msgAndArgs...)
	want.Payload, got.Payload, want.Meta, got.Meta = nil, nil, nil, nil
	require.Equal(t, want, got, msgAndArgs...)
}

var (
	v2Client = NewV2()
	v2Server = NewV2(WithSide(ServerSide))
)
