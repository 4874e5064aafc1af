package jsonscan

import "strconv"

// Error reports malformed JSON at a byte offset of the scanned input.
type Error struct {
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Reason says what was expected or found.
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	return "jsonscan: " + e.Reason + " at byte " + strconv.Itoa(e.Offset)
}

// TooDeep reports whether the input was refused for nesting deeper than
// MaxDepth.
func (e *Error) TooDeep() bool { return e.Reason == reasonDepth }

func errAt(off int, reason string) error {
	return &Error{Offset: off, Reason: reason}
}

// Reasons used by the scanner; the phoenix package reports them verbatim.
const (
	reasonEOF        = "unexpected end of input"
	reasonValue      = "expected a JSON value"
	reasonString     = "expected a string"
	reasonColon      = "expected ':' after object key"
	reasonObjectNext = "expected ',' or '}' in object"
	reasonArrayNext  = "expected ',' or ']' in array"
	reasonControl    = "control character in string"
	reasonEscape     = "invalid escape sequence in string"
	reasonNumber     = "invalid number"
	reasonLiteral    = "invalid literal"
	reasonDepth      = "nesting deeper than 1000 levels" // MaxDepth (TestDepthReasonNamesTheLimit)
	reasonTrailing   = "unexpected data after JSON value"
)
