package postgres

import (
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// filterTimeLayout is RFC 3339 with microseconds, PostgreSQL's precision.
const filterTimeLayout = "2006-01-02T15:04:05.999999Z07:00"

// scalarText renders one filter operand as the text PostgreSQL will cast to
// the column's type.
func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", errors.New("nil value (use Is(column, IsNull) to match NULL)")
	case string:
		return checkedText(x)
	case json.Number:
		if !isJSONNumber(string(x)) {
			return "", fmt.Errorf("json.Number %q is not a number", string(x))
		}
		return string(x), nil
	case time.Time:
		return x.Format(filterTimeLayout), nil
	case []byte:
		return `\x` + hex.EncodeToString(x), nil
	case encoding.TextMarshaler:
		b, err := x.MarshalText()
		if err != nil {
			return "", fmt.Errorf("%T.MarshalText: %w", v, err)
		}
		return checkedText(string(b))
	case fmt.Stringer:
		return checkedText(x.String())
	}
	// Basic kinds, named or not (bool, int64, type Status string, type ID
	// int64): none of them is a TextMarshaler or Stringer unless named.
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return checkedText(rv.String())
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float32:
		return floatText(rv.Float(), 32), nil
	case reflect.Float64:
		return floatText(rv.Float(), 64), nil
	}
	return "", fmt.Errorf("unsupported value type %T", v)
}

// floatText renders a float the way PostgreSQL reads it back exactly,
// including its spellings of NaN and the infinities.
func floatText(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

func checkedText(s string) (string, error) {
	if !validText(s) {
		return "", errors.New("text must be valid UTF-8 without NUL bytes")
	}
	return s, nil
}

// validText reports whether s survives the trip through a JSON join payload
// and a PostgreSQL text value unchanged.
func validText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// isSpace reports white space as trimmed by Elixir's String.trim, which the
// server applies to each filter segment.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\u180e' || r == '\ufeff' || r == '\u2060'
}

// trimsAtEdge reports whether s starts or ends with a character that the
// server's trimming could remove or that is unsafe unquoted.
func trimsAtEdge(s string) bool {
	if s == "" {
		return false
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	return isSpace(first) || isSpace(last) || !unicode.IsPrint(first) || !unicode.IsPrint(last)
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = skipDigits(s, i)
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		j := skipDigits(s, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := skipDigits(s, i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(s)
}

// skipDigits returns the index past the decimal digits that start s[i:].
func skipDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
