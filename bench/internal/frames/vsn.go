package frames

import (
	"errors"
	"fmt"
)

// Vsn selects the serializer: the Phoenix vsn query parameter.
type Vsn int

// The two text serializers the Realtime server speaks.
const (
	V1 Vsn = 1 // vsn=1.0.0: {"topic":...,"event":...,"payload":...,"ref":...}
	V2 Vsn = 2 // vsn=2.0.0: [join_ref,ref,topic,event,payload]
)

// ErrVsn is returned by [ParseVsn] for a version other than 1.0.0 or 2.0.0.
var ErrVsn = errors.New("frames: unsupported vsn")

// String returns the vsn query value, "1.0.0" or "2.0.0".
func (v Vsn) String() string {
	switch v {
	case V1:
		return "1.0.0"
	case V2:
		return "2.0.0"
	}
	return fmt.Sprintf("Vsn(%d)", int(v))
}

// Short returns "v1" or "v2", for benchmark and table names.
func (v Vsn) Short() string {
	switch v {
	case V1:
		return "v1"
	case V2:
		return "v2"
	}
	return v.String()
}

// ParseVsn parses "1.0.0", "2.0.0", "1", "2", "v1" or "v2". The empty string
// is V1, the server's default.
func ParseVsn(s string) (Vsn, error) {
	switch s {
	case "", "1", "v1", "1.0.0":
		return V1, nil
	case "2", "v2", "2.0.0":
		return V2, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrVsn, s)
}
