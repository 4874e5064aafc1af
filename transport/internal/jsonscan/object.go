package jsonscan

// Key reads an object member name at data[i] (after optional whitespace)
// and the ':' that follows it, and returns the name and the index of the
// member's value (whitespace skipped). A name without escapes aliases data;
// an escaped one is decoded into buf (which may be a small stack array), so
// reading a key never allocates unless buf is too small.
func Key(data []byte, i int, buf []byte) (key []byte, value int, err error) {
	i = SkipSpace(data, i)
	end, escaped, err := ScanString(data, i)
	if err != nil {
		return nil, end, err
	}
	if escaped {
		key = AppendUnescaped(buf[:0], data[i+1:end-1])
	} else {
		key = data[i+1 : end-1]
	}
	j := SkipSpace(data, end)
	if j >= len(data) {
		return nil, j, errAt(j, reasonEOF)
	}
	if data[j] != ':' {
		return nil, j, errAt(j, reasonColon)
	}
	return key, SkipSpace(data, j+1), nil
}

// Next is called after an element of an array (close = ']') or a member of
// an object (close = '}') ending at data[i]. It reports whether another
// element follows (more, with next at its start, whitespace skipped) or the
// container ends (next just past the closing bracket).
func Next(data []byte, i int, close byte) (next int, more bool, err error) {
	i = SkipSpace(data, i)
	if i >= len(data) {
		return i, false, errAt(i, reasonEOF)
	}
	switch data[i] {
	case ',':
		return SkipSpace(data, i+1), true, nil
	case close:
		return i + 1, false, nil
	}
	if close == '}' {
		return i, false, errAt(i, reasonObjectNext)
	}
	return i, false, errAt(i, reasonArrayNext)
}

// IsNull reports whether the literal null starts at data[i].
func IsNull(data []byte, i int) bool {
	return len(data)-i >= 4 && data[i] == 'n' && data[i+1] == 'u' && data[i+2] == 'l' && data[i+3] == 'l'
}
