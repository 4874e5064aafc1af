// Package segfloor adds github.com/segmentio/encoding/json to the floor's
// decoders. It lives in the bench/peers module because segmentio/encoding
// needs github.com/segmentio/asm, which the core module does not require.
package segfloor

import (
	segjson "github.com/segmentio/encoding/json"

	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

// Decoder is segmentio/encoding/json's std-compatible Unmarshal.
var Decoder = workload.Decoder{Name: "segmentio", Unmarshal: segjson.Unmarshal}
