package transport

import "strconv"

// StatusCode is a WebSocket close code (RFC 6455 section 7.4 and the IANA
// registry).
type StatusCode uint16

// Close codes used by Supabase Realtime, Phoenix and this package.
const (
	// StatusNormalClosure (1000): the purpose of the connection is fulfilled.
	StatusNormalClosure StatusCode = 1000
	// StatusGoingAway (1001): the endpoint is going away (server shutdown,
	// browser navigating away).
	StatusGoingAway StatusCode = 1001
	// StatusProtocolError (1002): the endpoint received a malformed frame.
	StatusProtocolError StatusCode = 1002
	// StatusUnsupportedData (1003): a data type the endpoint cannot accept.
	StatusUnsupportedData StatusCode = 1003
	// StatusNoStatus (1005) is reported, never sent, when a close frame had no
	// status code.
	StatusNoStatus StatusCode = 1005
	// StatusAbnormal (1006) is reported, never sent, when the connection was
	// lost without a close frame.
	StatusAbnormal StatusCode = 1006
	// StatusInvalidPayload (1007): a message with inconsistent data (for
	// example non UTF-8 text).
	StatusInvalidPayload StatusCode = 1007
	// StatusPolicyViolation (1008): a generic policy violation.
	StatusPolicyViolation StatusCode = 1008
	// StatusMessageTooBig (1009): a message too big to process.
	StatusMessageTooBig StatusCode = 1009
	// StatusMandatoryExtension (1010): the client expected an extension the
	// server did not negotiate.
	StatusMandatoryExtension StatusCode = 1010
	// StatusInternalError (1011): the server met an unexpected condition.
	StatusInternalError StatusCode = 1011
	// StatusServiceRestart (1012): the server is restarting.
	StatusServiceRestart StatusCode = 1012
	// StatusTryAgainLater (1013): temporary server condition, try again later.
	StatusTryAgainLater StatusCode = 1013
	// StatusBadGateway (1014): a gateway got an invalid upstream response.
	StatusBadGateway StatusCode = 1014
	// StatusTLSHandshake (1015) is reported, never sent, for a TLS failure.
	StatusTLSHandshake StatusCode = 1015
)

// String returns the code and its name, e.g. "1000 (normal closure)".
func (c StatusCode) String() string {
	n := c.name()
	if n == "" {
		return strconv.Itoa(int(c))
	}
	return strconv.Itoa(int(c)) + " (" + n + ")"
}

func (c StatusCode) name() string {
	switch c {
	case StatusNormalClosure:
		return "normal closure"
	case StatusGoingAway:
		return "going away"
	case StatusProtocolError:
		return "protocol error"
	case StatusUnsupportedData:
		return "unsupported data"
	case StatusNoStatus:
		return "no status"
	case StatusAbnormal:
		return "abnormal closure"
	case StatusInvalidPayload:
		return "invalid payload"
	case StatusPolicyViolation:
		return "policy violation"
	case StatusMessageTooBig:
		return "message too big"
	case StatusMandatoryExtension:
		return "mandatory extension"
	case StatusInternalError:
		return "internal error"
	case StatusServiceRestart:
		return "service restart"
	case StatusTryAgainLater:
		return "try again later"
	case StatusBadGateway:
		return "bad gateway"
	case StatusTLSHandshake:
		return "TLS handshake"
	}
	switch {
	case c >= 3000 && c <= 3999:
		return "registered"
	case c >= 4000 && c <= 4999:
		return "private"
	}
	return ""
}

// sendable reports whether c may appear in a close frame on the wire
// (RFC 6455 section 7.4: 1005, 1006 and 1015 must not, nor anything below
// 1000 or above 4999; 1004 is reserved).
func (c StatusCode) sendable() bool {
	switch c {
	case 1004, StatusNoStatus, StatusAbnormal, StatusTLSHandshake:
		return false
	}
	return c >= 1000 && c <= 4999
}
