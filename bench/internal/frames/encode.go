package frames

import (
	"strconv"
	"unicode/utf8"
)

// commitLayout is the server's commit_timestamp format,
// YYYY-MM-DD"T"HH24:MI:SS.MS"Z".
const commitLayout = "2006-01-02T15:04:05.000Z"

// valueLayout is how to_jsonb renders a timestamptz value.
const valueLayout = "2006-01-02T15:04:05.999999-07:00"

// AppendChange appends the postgres_changes frame the server sends to topic
// for an INSERT of r, committed at r.CreatedAt.
func AppendChange(b []byte, v Vsn, topic string, r *Row) []byte {
	b = appendHead(b, v, topic, Event)
	b = append(b, `{"ids":[`...)
	b = strconv.AppendInt(b, BindingID, 10)
	b = append(b, `],"data":{"schema":`...)
	b = appendString(b, Schema)
	b = append(b, `,"table":`...)
	b = appendString(b, Table)
	b = append(b, `,"commit_timestamp":`...)
	b = appendString(b, r.CreatedAt.UTC().Format(commitLayout))
	b = append(b, `,"type":"INSERT","columns":[`...)
	for i, c := range Columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, c.Name)
		b = append(b, `,"type":`...)
		b = appendString(b, c.Type)
		b = append(b, '}')
	}
	b = append(b, `],"record":`...)
	b = AppendRecord(b, r)
	b = append(b, `,"errors":null}}`...)
	return appendTail(b, v)
}

// AppendRecord appends r as the server renders a record: a jsonb object,
// keys ordered by length and then bytewise.
func AppendRecord(b []byte, r *Row) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, `,"body":`...)
	b = appendString(b, r.Body)
	b = append(b, `,"meta":{"client":`...)
	b = appendString(b, r.Meta.Client)
	b = append(b, `,"edited":`...)
	b = strconv.AppendBool(b, r.Meta.Edited)
	b = append(b, `,"mentions":[`...)
	for i, m := range r.Meta.Mentions {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, m)
	}
	b = append(b, `]},"likes":`...)
	b = strconv.AppendInt(b, int64(r.Likes), 10)
	b = append(b, `,"pinned":`...)
	b = strconv.AppendBool(b, r.Pinned)
	b = append(b, `,"room_id":`...)
	b = appendString(b, r.RoomID)
	b = append(b, `,"author_id":`...)
	b = appendString(b, r.AuthorID)
	b = append(b, `,"created_at":`...)
	b = appendString(b, r.CreatedAt.UTC().Format(valueLayout))
	return append(b, '}')
}

// AppendDone appends the end-of-burst broadcast for a burst of n frames:
// {"type":"broadcast","event":"bench_done","payload":{"n":n}}.
func AppendDone(b []byte, v Vsn, topic string, n int) []byte {
	b = appendHead(b, v, topic, BroadcastEvent)
	b = append(b, `{"type":"broadcast","event":`...)
	b = appendString(b, DoneEvent)
	b = append(b, `,"payload":{"n":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `}}`...)
	return appendTail(b, v)
}

// AppendPush appends a server push with null join_ref and ref (a fan-out
// message) whose payload is the JSON text payload.
func AppendPush(b []byte, v Vsn, topic, event string, payload []byte) []byte {
	b = appendHead(b, v, topic, event)
	b = append(b, payload...)
	return appendTail(b, v)
}

// appendHead appends everything before the payload of a fan-out message.
func appendHead(b []byte, v Vsn, topic, event string) []byte {
	if v == V1 {
		b = append(b, `{"topic":`...)
		b = appendString(b, topic)
		b = append(b, `,"event":`...)
		b = appendString(b, event)
		return append(b, `,"payload":`...)
	}
	b = append(b, `[null,null,`...)
	b = appendString(b, topic)
	b = append(b, ',')
	b = appendString(b, event)
	return append(b, ',')
}

func appendTail(b []byte, v Vsn) []byte {
	if v == V1 {
		return append(b, `,"ref":null}`...)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping only what JSON requires
// (quote, backslash, control characters), as the server's encoder does.
// Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\ufffd"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendJSONString appends s as a JSON string the way the server's encoder
// writes it (only quote, backslash and control characters are escaped).
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }
