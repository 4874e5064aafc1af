package phoenix

import "github.com/rxrealtime/rxrealtime/transport/internal/jsonscan"

// Fields locates the values of keys in the JSON object obj without
// decoding them: out[i] is the raw JSON of keys[i] (the last occurrence
// wins), nil when absent. The values alias obj. The whole object is
// checked to be well-formed JSON, but nothing is allocated (for keys
// without escapes), so a payload can be split into its parts cheaply and
// each part decoded only by the consumer that wants it. len(out) must be
// at least len(keys). A malformed object is a [*PayloadError] wrapping
// [ErrMalformed].
func Fields(obj []byte, keys []string, out [][]byte) error {
	var buf [8]member
	var ms []member
	if len(keys) <= len(buf) {
		ms = buf[:len(keys)]
	} else {
		ms = make([]member, len(keys))
	}
	if err := scanObject("object", obj, keys, ms); err != nil {
		return err
	}
	for i, m := range ms {
		out[i] = nil
		if m.present() {
			out[i] = obj[m.start:m.end:m.end]
		}
	}
	return nil
}

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
