package source

import (
	"encoding/json"
	"fmt"

	"github.com/rxrealtime/rxrealtime/source/postgres"
)

// joinPayload is the phx_join payload, as realtime-js builds it (the
// whole config is sent, not merged shallowly, so no default is lost).
type joinPayload struct {
	Config      joinConfig `json:"config"`
	AccessToken string     `json:"access_token,omitempty"`
}

type joinConfig struct {
	Broadcast       joinBroadcast      `json:"broadcast"`
	Presence        joinPresence       `json:"presence"`
	PostgresChanges []postgres.Binding `json:"postgres_changes"`
	Private         bool               `json:"private"`
}

type joinBroadcast struct {
	Ack    bool        `json:"ack"`
	Self   bool        `json:"self"`
	Replay *joinReplay `json:"replay,omitempty"`
}

type joinReplay struct {
	Since int64 `json:"since"`
	Limit int   `json:"limit,omitempty"`
}

type joinPresence struct {
	Key     string `json:"key"`
	Enabled bool   `json:"enabled"`
}

func (ch *Channel) joinPayload(token string) ([]byte, error) {
	cfg := ch.cfg
	p := joinPayload{
		Config: joinConfig{
			Broadcast:       joinBroadcast{Ack: cfg.broadcastAck, Self: cfg.broadcastSelf},
			Presence:        joinPresence{Key: cfg.presenceKey, Enabled: ch.presenceOn()},
			PostgresChanges: cfg.bindings,
			Private:         cfg.private,
		},
		AccessToken: token,
	}
	if p.Config.PostgresChanges == nil {
		p.Config.PostgresChanges = []postgres.Binding{}
	}
	if cfg.replay != nil {
		p.Config.Broadcast.Replay = &joinReplay{Since: cfg.replay.sinceMillis(), Limit: cfg.replay.limit}
	}
	return json.Marshal(p)
}

func validateBindings(bs []postgres.Binding) error {
	for i, b := range bs {
		if err := b.Validate(); err != nil {
			return fmt.Errorf("%w: postgres_changes binding %d: %w", ErrInvalidChannel, i, err)
		}
	}
	return nil
}

// dedupeBindings drops repeated bindings, as realtime-js does, so that
// the server's ids stay aligned by index.
func dedupeBindings(bs []postgres.Binding) []postgres.Binding {
	out := bs[:0:0]
	seen := make(map[string]bool, len(bs))
	for _, b := range bs {
		k, _ := b.MarshalJSON() // validated already
		if seen[string(k)] {
			continue
		}
		seen[string(k)] = true
		out = append(out, b)
	}
	return out
}
