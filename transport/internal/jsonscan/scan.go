package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// MaxDepth bounds how deeply arrays and objects may nest in any JSON this
// module decodes from the server (see phoenix.MaxDepth, which documents the
// choice). Skip, Valid, Locate and CheckDepth refuse deeper input with an
// *Error whose TooDeep method reports true.
const MaxDepth = 1000

// maxDepth is MaxDepth for the scanner's own loops.
const maxDepth = MaxDepth

// isSpace reports JSON insignificant whitespace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t'
}

// SkipSpace returns the index of the first byte at or after i that is not
// JSON whitespace, or len(data).
func SkipSpace(data []byte, i int) int {
	for i < len(data) && data[i] <= ' ' && isSpace(data[i]) {
		i++
	}
	return i
}

// Valid reports whether data holds exactly one well-formed JSON value,
// optionally surrounded by whitespace.
func Valid(data []byte) bool {
	end, err := Skip(data, 0)
	return err == nil && SkipSpace(data, end) == len(data)
}

// ValidateValue checks that data is exactly one JSON value with optional
// surrounding whitespace and returns the bounds [start, end) of the value.
func ValidateValue(data []byte) (start, end int, err error) {
	start = SkipSpace(data, 0)
	end, err = Skip(data, start)
	if err != nil {
		return 0, 0, err
	}
	if j := SkipSpace(data, end); j != len(data) {
		return 0, 0, errAt(j, reasonTrailing)
	}
	return start, end, nil
}

// nesting is a stack of one bit per open container: 1 for an object, 0 for
// an array. The first 64 levels live in a word; deeper levels spill.
type nesting struct {
	depth int
	low   uint64
	high  []uint64
}

func (n *nesting) push(object bool) {
	d := n.depth
	n.depth++
	if d < 64 {
		if object {
			n.low |= 1 << uint(d)
		} else {
			n.low &^= 1 << uint(d)
		}
		return
	}
	w, b := (d-64)/64, uint((d-64)%64)
	if w == len(n.high) {
		n.high = append(n.high, 0)
	}
	if object {
		n.high[w] |= 1 << b
	} else {
		n.high[w] &^= 1 << b
	}
}

// topIsObject reports whether the innermost open container is an object.
func (n *nesting) topIsObject() bool {
	d := n.depth - 1
	if d < 64 {
		return n.low&(1<<uint(d)) != 0
	}
	return n.high[(d-64)/64]&(1<<uint((d-64)%64)) != 0
}

// Skip checks the JSON value that starts at data[i] (after optional
// whitespace) and returns the index just past its last byte. Nested arrays,
// objects and strings are followed exactly; nothing is allocated unless the
// value nests deeper than 64 levels.
func Skip(data []byte, i int) (int, error) {
	var st nesting
	var err error
	for {
		// A value is expected at i.
		i = SkipSpace(data, i)
		if i >= len(data) {
			return i, errAt(i, reasonEOF)
		}
		switch c := data[i]; c {
		case '{', '[':
			if st.depth >= maxDepth {
				return i, errAt(i, reasonDepth)
			}
			i = SkipSpace(data, i+1)
			if i < len(data) && data[i] == c+('}'-'{') { // '}' or ']', both two past their opener
				i++
				break
			}
			st.push(c == '{')
			if c == '{' {
				if i, err = skipKey(data, i); err != nil {
					return i, err
				}
			}
			continue
		case '"':
			if i, err = skipString(data, i); err != nil {
				return i, err
			}
		case 't':
			if i, err = skipLiteral(data, i, "true"); err != nil {
				return i, err
			}
		case 'f':
			if i, err = skipLiteral(data, i, "false"); err != nil {
				return i, err
			}
		case 'n':
			if i, err = skipLiteral(data, i, "null"); err != nil {
				return i, err
			}
		default:
			if c != '-' && (c < '0' || c > '9') {
				return i, errAt(i, reasonValue)
			}
			if i, err = skipNumber(data, i); err != nil {
				return i, err
			}
		}
		// A value ended at i: close containers until one continues.
		for {
			if st.depth == 0 {
				return i, nil
			}
			i = SkipSpace(data, i)
			if i >= len(data) {
				return i, errAt(i, reasonEOF)
			}
			c := data[i]
			if st.topIsObject() {
				if c == ',' {
					if i, err = skipKey(data, i+1); err != nil {
						return i, err
					}
					break
				}
				if c != '}' {
					return i, errAt(i, reasonObjectNext)
				}
			} else {
				if c == ',' {
					i++
					break
				}
				if c != ']' {
					return i, errAt(i, reasonArrayNext)
				}
			}
			st.depth--
			i++
		}
	}
}

// skipKey reads `"key" :` starting at i (after optional whitespace) and
// returns the index just past the colon.
func skipKey(data []byte, i int) (int, error) {
	i = SkipSpace(data, i)
	if i >= len(data) {
		return i, errAt(i, reasonEOF)
	}
	if data[i] != '"' {
		return i, errAt(i, reasonString)
	}
	i, err := skipString(data, i)
	if err != nil {
		return i, err
	}
	i = SkipSpace(data, i)
	if i >= len(data) {
		return i, errAt(i, reasonEOF)
	}
	if data[i] != ':' {
		return i, errAt(i, reasonColon)
	}
	return i + 1, nil
}

func skipLiteral(data []byte, i int, lit string) (int, error) {
	if len(data)-i < len(lit) {
		if string(data[i:]) == lit[:len(data)-i] {
			return len(data), errAt(len(data), reasonEOF)
		}
		return i, errAt(i, reasonLiteral)
	}
	if string(data[i:i+len(lit)]) != lit {
		return i, errAt(i, reasonLiteral)
	}
	return i + len(lit), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipNumber follows the JSON number grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(data []byte, i int) (int, error) {
	n := len(data)
	j := i
	if data[j] == '-' {
		j++
	}
	switch {
	case j >= n:
		return j, errAt(j, reasonEOF)
	case data[j] == '0':
		j++
	case isDigit(data[j]):
		for j < n && isDigit(data[j]) {
			j++
		}
	default:
		return j, errAt(j, reasonNumber)
	}
	if j < n && data[j] == '.' {
		var err error
		if j, err = skipDigits(data, j+1); err != nil {
			return j, err
		}
	}
	if j < n && (data[j] == 'e' || data[j] == 'E') {
		j++
		if j < n && (data[j] == '+' || data[j] == '-') {
			j++
		}
		return skipDigits(data, j)
	}
	return j, nil
}

// skipDigits reads the one or more digits a fraction or an exponent must
// have, starting at data[j].
func skipDigits(data []byte, j int) (int, error) {
	if j >= len(data) {
		return j, errAt(j, reasonEOF)
	}
	if !isDigit(data[j]) {
		return j, errAt(j, reasonNumber)
	}
	for j < len(data) && isDigit(data[j]) {
		j++
	}
	return j, nil
}

// SWAR constants: one bit or byte value repeated in every byte of a word.
const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// specialMask has the high bit set in the lowest byte of x that is '"',
// '\\' or a control character (< 0x20), and possibly in later bytes; it is 0
// when no byte of x is special.
func specialMask(x uint64) uint64 {
	q := x ^ (lsbs * '"')
	b := x ^ (lsbs * '\\')
	return ((q-lsbs)&^q | (b-lsbs)&^b | (x-lsbs*0x20)&^x) & msbs
}

// skipString returns the index just past the JSON string whose opening
// quote is data[i]. The common case, a string without escapes whose end is
// found by the 8-byte scan, stays in this function; anything else goes to
// ScanString.
func skipString(data []byte, i int) (int, error) {
	j := i + 1
	for j+8 <= len(data) {
		if m := specialMask(binary.LittleEndian.Uint64(data[j:])); m != 0 {
			j += bits.TrailingZeros64(m) >> 3
			if data[j] == '"' {
				return j + 1, nil
			}
			break
		}
		j += 8
	}
	end, _, err := ScanString(data, i)
	return end, err
}

// ScanString checks the JSON string whose opening quote is data[i] and
// returns the index just past its closing quote, and whether the string
// contains escape sequences (if not, data[i+1:end-1] is its exact value).
func ScanString(data []byte, i int) (end int, escaped bool, err error) {
	if i >= len(data) {
		return i, false, errAt(i, reasonEOF)
	}
	if data[i] != '"' {
		return i, false, errAt(i, reasonString)
	}
	j := i + 1
	for {
		for j+8 <= len(data) {
			if m := specialMask(binary.LittleEndian.Uint64(data[j:])); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		if j >= len(data) {
			return j, escaped, errAt(j, reasonEOF)
		}
		switch c := data[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			if j+1 >= len(data) {
				return j + 1, escaped, errAt(j+1, reasonEOF)
			}
			switch data[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if len(data)-(j+2) < 4 {
					for k := j + 2; k < len(data); k++ {
						if hexVal(data[k]) < 0 {
							return k, escaped, errAt(k, reasonEscape)
						}
					}
					return len(data), escaped, errAt(len(data), reasonEOF)
				}
				for k := j + 2; k < j+6; k++ {
					if hexVal(data[k]) < 0 {
						return k, escaped, errAt(k, reasonEscape)
					}
				}
				j += 6
			default:
				return j + 1, escaped, errAt(j+1, reasonEscape)
			}
		case c < 0x20:
			return j, escaped, errAt(j, reasonControl)
		default:
			j++
		}
	}
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
