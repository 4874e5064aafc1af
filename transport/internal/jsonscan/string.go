package jsonscan

import (
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// String reads the JSON string whose opening quote is data[i]. It returns
// its value and the index just past the closing quote. A string without
// escapes costs one allocation (none when empty); a string with escapes also
// costs one.
func String(data []byte, i int) (s string, end int, err error) {
	end, escaped, err := ScanString(data, i)
	if err != nil {
		return "", end, err
	}
	raw := data[i+1 : end-1]
	if !escaped {
		return string(raw), end, nil
	}
	return Unquote(raw), end, nil
}

// Unquote returns the value of the body of a JSON string (the bytes between
// its quotes) with escapes resolved, in a single allocation. Lone or
// mismatched UTF-16 surrogates become U+FFFD. Malformed escapes, which
// [ScanString] would have rejected, are kept verbatim rather than panicking.
func Unquote(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	// Decoding never makes a string longer, so one buffer of len(raw) bytes
	// is enough; it is never written again once it becomes the string.
	buf := AppendUnescaped(make([]byte, 0, len(raw)), raw)
	if len(buf) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}

// AppendUnescaped appends the value of the body of a JSON string to dst,
// resolving escapes as [Unquote] does.
func AppendUnescaped(dst, raw []byte) []byte {
	start := 0
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			i++
			continue
		}
		dst = append(dst, raw[start:i]...)
		if i+1 >= len(raw) {
			// A lone trailing backslash: keep it.
			start = i
			break
		}
		switch c := raw[i+1]; c {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			dst = append(dst, unescaped[c])
			i += 2
		case 'u':
			r := hex4(raw, i+2)
			if r < 0 {
				// Malformed: keep the backslash and go on.
				dst = append(dst, '\\')
				i++
				break
			}
			i += 6
			if utf16.IsSurrogate(r) {
				// A high surrogate followed by an escaped low surrogate is one
				// code point; anything else is replaced by U+FFFD.
				if r < 0xDC00 && i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := hex4(raw, i+2); r2 >= 0xDC00 && r2 <= 0xDFFF {
						dst = utf8.AppendRune(dst, utf16.DecodeRune(r, r2))
						i += 6
						start = i
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, '\\')
			i++
		}
		start = i
	}
	return append(dst, raw[start:]...)
}

// unescaped[c] is the byte that the escape \c stands for, for the
// escapes of one character.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hex4 decodes four hex digits at raw[i:i+4], or returns -1.
func hex4(raw []byte, i int) rune {
	if len(raw)-i < 4 {
		return -1
	}
	var r rune
	for k := i; k < i+4; k++ {
		v := hexVal(raw[k])
		if v < 0 {
			return -1
		}
		r = r<<4 | rune(v)
	}
	return r
}

// noEscape[c] is true for ASCII bytes that may appear verbatim in a JSON
// string literal.
var noEscape = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendString appends s to dst as a JSON string literal. Quotes,
// backslashes and control characters are escaped; invalid UTF-8 is replaced
// by U+FFFD so the result is always valid UTF-8 (as text WebSocket frames
// must be). It does not allocate when dst has room.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if noEscape[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
