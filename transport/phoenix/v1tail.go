package phoenix

import "bytes"

// payloadEndFromTail finds where a vsn 1.0.0 payload that starts at data[v]
// ends without stepping over it: it reads the frame's last members
// backwards (the server puts only strings and null after the payload: ref,
// join_ref, topic, event) until it meets the end of an object or array,
// which is then the payload's. It reports false when the frame does not
// look like that (the payload is not a container, a member after it is
// not a plain value, anything unexpected): the caller then steps over the
// payload as usual. What follows the returned index is parsed, and
// checked, by the caller as the rest of the frame.
//
// The one thing given up (as with vsn 2.0.0's WithLazyPayloads): a member
// whose value is an object or an array after the payload, which the server
// never sends, ends up in the payload, which its consumer then rejects.
func payloadEndFromTail(data []byte, v int) (int, bool) {
	if v >= len(data) || (data[v] != '{' && data[v] != '[') {
		return 0, false
	}
	e := trimSpaceEnd(data, v, len(data))
	if e <= v || data[e-1] != '}' {
		return 0, false
	}
	e-- // the frame's closing brace
	for {
		e = trimSpaceEnd(data, v, e)
		if e <= v {
			return 0, false
		}
		switch c := data[e-1]; {
		case c == '}' || c == ']':
			return e, true // the end of the payload
		case c == '"':
			s, ok := stringStartBack(data, v, e)
			if !ok {
				return 0, false
			}
			e = s
		case isScalarByte(c):
			for e > v && isScalarByte(data[e-1]) {
				e--
			}
		default:
			return 0, false
		}
		// A member: its value is done; then ':', the key, ','.
		e = trimSpaceEnd(data, v, e)
		if e <= v || data[e-1] != ':' {
			return 0, false
		}
		e = trimSpaceEnd(data, v, e-1)
		if e <= v || data[e-1] != '"' {
			return 0, false
		}
		s, ok := stringStartBack(data, v, e)
		if !ok {
			return 0, false
		}
		e = trimSpaceEnd(data, v, s)
		if e <= v || data[e-1] != ',' {
			return 0, false
		}
		e--
	}
}

// trimSpaceEnd moves end back over whitespace, not below lo.
func trimSpaceEnd(data []byte, lo, end int) int {
	for end > lo && isSpace(data[end-1]) {
		end--
	}
	return end
}

// stringStartBack returns the index of the opening quote of the string
// whose closing quote is data[end-1]: the nearest quote before it that no
// odd run of backslashes escapes. It stays above lo.
func stringStartBack(data []byte, lo, end int) (int, bool) {
	j := end - 1
	for {
		k := bytes.LastIndexByte(data[lo:j], '"')
		if k < 0 {
			return 0, false
		}
		j = lo + k
		n := 0
		for p := j - 1; p >= lo && data[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j, true
		}
	}
}

// isScalarByte reports whether c may appear in null, true, false or a number.
func isScalarByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'E'
}
