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
