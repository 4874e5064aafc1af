package phoenix

import "github.com/rxrealtime/rxrealtime/transport/internal/jsonscan"

// Elements calls f with the raw JSON of each element of the JSON array
// arr, in order, without decoding them; it stops at f's first error and
// returns it. A malformed array is a [*PayloadError] wrapping
// [ErrMalformed].
func Elements(arr []byte, f func(elem []byte) error) error {
	i := jsonscan.SkipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return payloadErr("array", i, "expected a JSON array")
	}
	i = jsonscan.SkipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		i++
	} else {
		for {
			end, err := jsonscan.Skip(arr, i)
			if err != nil {
				return payloadScanErr("array", err, "")
			}
			if err := f(arr[i:end:end]); err != nil {
				return err
			}
			var more bool
			if i, more, err = jsonscan.Next(arr, end, ']'); err != nil {
				return payloadScanErr("array", err, "")
			}
			if !more {
				break
			}
		}
	}
	if j := jsonscan.SkipSpace(arr, i); j != len(arr) {
		return payloadErr("array", j, "unexpected data after the array")
	}
	return nil
}

// Members calls f with the name and the raw JSON of the value of each
// member of the JSON object obj, in order, without decoding the values; it
// stops at f's first error and returns it. Each value is checked as [Skip]
// checks it (well-formed, nested at most [MaxDepth] levels below the
// object) before f sees it. name has its escapes resolved and is valid only
// until f returns: it aliases obj or a buffer reused for the next member.
// value aliases obj. Duplicate names are passed on as they come. A
// malformed object is a [*PayloadError] wrapping [ErrMalformed]. Unless a
// name needs more than 64 bytes once unescaped, it does not allocate.
func Members(obj []byte, f func(name, value []byte) error) error {
	i := jsonscan.SkipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return payloadErr("object", i, "expected a JSON object")
	}
	i = jsonscan.SkipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		i++
	} else {
		for {
			name, v, err := jsonscan.Key(obj, i, nil)
			if err != nil {
				return payloadScanErr("object", err, "object key: ")
			}
			end, err := jsonscan.Skip(obj, v)
			if err != nil {
				return payloadScanErr("object", err, "")
			}
			if err := f(name, obj[v:end:end]); err != nil {
				return err
			}
			var more bool
			if i, more, err = jsonscan.Next(obj, end, '}'); err != nil {
				return payloadScanErr("object", err, "")
			}
			if !more {
				break
			}
		}
	}
	if j := jsonscan.SkipSpace(obj, i); j != len(obj) {
		return payloadErr("object", j, "unexpected data after the object")
	}
	return nil
}

// StringValue returns the value of the JSON string value, a quoted string
// such as [Members] and [Elements] give, with its escapes resolved (lone
// surrogates become U+FFFD). ok is false unless value is exactly one
// well-formed JSON string, without surrounding whitespace. It allocates
// the string, except for an empty one.
func StringValue(value []byte) (s string, ok bool) {
	end, escaped, err := jsonscan.ScanString(value, 0)
	if err != nil || end != len(value) {
		return "", false
	}
	raw := value[1 : end-1]
	if escaped {
		return jsonscan.Unquote(raw), true
	}
	return string(raw), true
}

// Locate returns the index just past the JSON value that starts at data[i]
// (after optional whitespace) without checking that it is well-formed: it
// only follows strings and brackets. For well-formed JSON it ends where
// [Skip] does; whoever reads the value must check it (a JSON decoder
// does). It never reads out of bounds and does not allocate. An
// unterminated value is a [*PayloadError] wrapping [ErrMalformed].
func Locate(data []byte, i int) (int, error) {
	end, err := jsonscan.Locate(data, i)
	if err != nil {
		return end, payloadScanErr("value", err, "")
	}
	return end, nil
}

// Skip returns the index just past the JSON value that starts at data[i]
// (after optional whitespace), checking that it is well-formed. It does
// not allocate. A malformed value is a [*PayloadError] wrapping
// [ErrMalformed].
func Skip(data []byte, i int) (int, error) {
	end, err := jsonscan.Skip(data, i)
	if err != nil {
		return end, payloadScanErr("value", err, "")
	}
	return end, nil
}
