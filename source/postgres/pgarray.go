package postgres

import (
	"errors"
	"strings"
)

// maxArrayDepth bounds the nesting of array literals (PostgreSQL allows 6
// dimensions).
const maxArrayDepth = 32

var (
	errArrayEnd   = errors.New("unexpected end of array literal")
	errArrayStart = errors.New("array literal must start with '{'")
	errArrayDepth = errors.New("array literal nested too deep")
)

// parseArrayLiteral reads a PostgreSQL array literal ("{1,2,3}",
// `{"a b",NULL,{x}}`, "[0:1]={1,2}") into its elements: each one a string,
// nil for an unquoted NULL, or a nested []any.
func parseArrayLiteral(s string) ([]any, error) {
	p := arrayParser{s: s}
	p.skipSpace()
	if p.i < len(s) && s[p.i] == '[' {
		// Dimension decoration: [lower:upper]...= before the braces.
		eq := strings.IndexByte(s[p.i:], '=')
		if eq < 0 {
			return nil, errors.New("array dimensions without '='")
		}
		p.i += eq + 1
		p.skipSpace()
	}
	if p.i >= len(s) || s[p.i] != '{' {
		return nil, errArrayStart
	}
	out, err := p.array(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(s) {
		return nil, errors.New("unexpected text after array literal")
	}
	return out, nil
}

type arrayParser struct {
	s string
	i int
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func (p *arrayParser) skipSpace() {
	for p.i < len(p.s) && isASCIISpace(p.s[p.i]) {
		p.i++
	}
}

// array reads from an opening brace to its closing brace.
func (p *arrayParser) array(depth int) ([]any, error) {
	if depth >= maxArrayDepth {
		return nil, errArrayDepth
	}
	p.i++ // '{'
	out := []any{}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return out, nil
	}
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, errArrayEnd
		}
		switch p.s[p.i] {
		case '{':
			sub, err := p.array(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, sub)
		case '"':
			v, err := p.quoted()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		case ',', '}':
			return nil, errors.New("empty element in array literal")
		default:
			v, isNull, err := p.unquoted()
			if err != nil {
				return nil, err
			}
			if isNull {
				out = append(out, nil)
			} else {
				out = append(out, v)
			}
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, errArrayEnd
		}
		c := p.s[p.i]
		p.i++
		switch c {
		case ',':
		case '}':
			return out, nil
		default:
			return nil, errors.New("expected ',' or '}' in array literal")
		}
	}
}

// quoted reads a double-quoted element; a backslash escapes the next byte.
func (p *arrayParser) quoted() (string, error) {
	p.i++ // '"'
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.i >= len(p.s) {
				return "", errArrayEnd
			}
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", errArrayEnd
}

// unquoted reads a bare element up to the next ',' or '}', dropping white
// space around it; a backslash escapes the next byte. A bare NULL, in any
// case and unescaped, is the null element.
func (p *arrayParser) unquoted() (string, bool, error) {
	var b []byte
	keep := 0 // length of b up to its last non-space or escaped byte
	escaped := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ',' || c == '}':
			v := string(b[:keep])
			return v, !escaped && strings.EqualFold(v, "null"), nil
		case c == '{' || c == '"':
			return "", false, errors.New("unexpected '{' or '\"' inside an unquoted array element")
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", false, errArrayEnd
			}
			b = append(b, p.s[p.i+1])
			keep = len(b)
			escaped = true
			p.i += 2
			continue
		default:
			b = append(b, c)
			if !isASCIISpace(c) {
				keep = len(b)
			}
		}
		p.i++
	}
	return "", false, errArrayEnd
}
