package jsonscan

import "bytes"

// Locate returns the index just past the JSON value that starts at
// data[i] (after optional whitespace) without checking it: a string ends
// at its first quote not escaped by a backslash, a container at the bracket
// that brings the depth (counted outside strings) back to zero, a scalar at
// the next delimiter. For well-formed JSON it ends where [Skip] does; what
// it lets through must be checked by whoever reads the value. A container
// nested deeper than MaxDepth is refused, as Skip refuses it, so that no
// decoder given a located value can recurse without bound. It never reads
// out of bounds and does not allocate.
func Locate(data []byte, i int) (int, error) {
	i = SkipSpace(data, i)
	if i >= len(data) {
		return i, errAt(i, reasonEOF)
	}
	switch data[i] {
	case '"':
		return locateString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				end, err := locateString(data, i)
				if err != nil {
					return end, err
				}
				i = end
				continue
			case '{', '[':
				depth++
				if depth > maxDepth {
					return i, errAt(i, reasonDepth)
				}
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return i, errAt(i, reasonEOF)
	}
	j := i
	for j < len(data) {
		switch data[j] {
		case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
			if j == i {
				return i, errAt(i, reasonValue)
			}
			return j, nil
		}
		j++
	}
	return j, nil
}

// locateString returns the index just past the string that starts at
// data[i] (a quote).
func locateString(data []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return len(data), errAt(len(data), reasonEOF)
		}
		j += k
		n := 0
		for p := j - 1; p > i && data[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

// CheckDepth reports an *Error if a container in data nests deeper than
// MaxDepth; it checks nothing else. Brackets inside strings are not counted.
// It is the guard to put before a decoder that recurses per level and has no
// limit of its own (or a higher one), for JSON that no Skip or Locate has
// walked, such as a JSON document held in a string. It does not allocate.
func CheckDepth(data []byte) error {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			end, err := locateString(data, i)
			if err != nil {
				return nil // an unterminated string holds no more containers
			}
			i = end - 1
		case '{', '[':
			depth++
			if depth > maxDepth {
				return errAt(i, reasonDepth)
			}
		case '}', ']':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}
