package phoenix

import (
	"errors"

	"github.com/rxrealtime/rxrealtime/transport/internal/jsonscan"
)

// frame is the frame being decoded, for building errors.
type frame struct {
	vsn    string
	binary bool
	data   []byte
}

// fail builds a *DecodeError with a copy of the start of the frame.
func (f frame) fail(off int, reason string) *DecodeError {
	n := min(len(f.data), maxFrameExcerpt)
	return &DecodeError{
		Serializer: f.vsn,
		Binary:     f.binary,
		Offset:     off,
		Reason:     reason,
		Frame:      append([]byte(nil), f.data[:n]...),
	}
}

// scanFail turns a jsonscan error found at base+offset into a *DecodeError.
func (f frame) scanFail(err error, base int, what string) *DecodeError {
	var se *jsonscan.Error
	if errors.As(err, &se) {
		e := f.fail(base+se.Offset, what+": "+se.Reason)
		e.tooDeep = se.TooDeep()
		return e
	}
	return f.fail(base, what+": "+err.Error())
}

// str reads the JSON string (or, if nullable, null, giving "") at data[i]
// and returns its value and the index just past it. Well-known values are
// interned; others cost one allocation.
func (f frame) str(i int, nullable bool, what string) (string, int, error) {
	data := f.data
	if i >= len(data) {
		return "", i, f.fail(i, what+": unexpected end of frame")
	}
	if data[i] != '"' {
		switch {
		case nullable && jsonscan.IsNull(data, i):
			return "", i + 4, nil
		case nullable:
			return "", i, f.fail(i, what+": expected a string or null")
		}
		return "", i, f.fail(i, what+": expected a string")
	}
	end, escaped, err := jsonscan.ScanString(data, i)
	if err != nil {
		return "", end, f.scanFail(err, 0, what)
	}
	raw := data[i+1 : end-1]
	if escaped {
		return jsonscan.Unquote(raw), end, nil
	}
	return bytesString(raw), end, nil
}

// skip finds the end of the JSON value at data[i].
func (f frame) skip(i int, what string) (int, error) {
	end, err := jsonscan.Skip(f.data, i)
	if err != nil {
		return end, f.scanFail(err, 0, what)
	}
	return end, nil
}

// locate is skip without checking the value (jsonscan.Locate).
func (f frame) locate(i int, what string) (int, error) {
	end, err := jsonscan.Locate(f.data, i)
	if err != nil {
		return end, f.scanFail(err, 0, what)
	}
	return end, nil
}

// end checks that only whitespace follows data[i].
func (f frame) end(i int) error {
	if j := jsonscan.SkipSpace(f.data, i); j != len(f.data) {
		return f.fail(j, "unexpected data after the message")
	}
	return nil
}

// next steps over the separator after an element (see jsonscan.Next).
func (f frame) next(i int, close byte, what string) (int, bool, error) {
	j, more, err := jsonscan.Next(f.data, i, close)
	if err != nil {
		return j, false, f.scanFail(err, 0, what)
	}
	return j, more, nil
}

// open expects the opening bracket c at data[i] (after whitespace) and
// returns the index after it (whitespace skipped).
func (f frame) open(i int, c byte, what string) (int, error) {
	i = jsonscan.SkipSpace(f.data, i)
	if i >= len(f.data) {
		return i, f.fail(i, "unexpected end of frame, expected "+what)
	}
	if f.data[i] != c {
		return i, f.fail(i, "expected "+what)
	}
	return jsonscan.SkipSpace(f.data, i+1), nil
}

// jsonSpan validates that data[start:] is one JSON value (with optional
// surrounding whitespace) and returns the value's bytes.
func (f frame) jsonSpan(start int, what string) ([]byte, error) {
	s, e, err := jsonscan.ValidateValue(f.data[start:])
	if err != nil {
		return nil, f.scanFail(err, start, what)
	}
	return f.data[start+s : start+e : start+e], nil
}
