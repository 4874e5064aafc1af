package source

import "encoding/json"

// unmarshalJSON decodes payloads into user types.
func unmarshalJSON(data []byte, v any) error { return json.Unmarshal(data, v) }
