package source_test

import (
	"testing"

	"github.com/rxrealtime/rxrealtime/source"
)

// TestStatesNamed checks that States lists every named state once, so the
// metrics exporters that report one series a state miss none.
func TestStatesNamed(t *testing.T) {
	seen := map[string]bool{}
	for i, s := range source.States() {
		if int(s) != i {
			t.Errorf("States()[%d] = %d, want declaration order", i, s)
		}
		name := s.String()
		if name == "unknown" || seen[name] {
			t.Errorf("States()[%d] named %q", i, name)
		}
		seen[name] = true
	}
	if name := source.State(len(source.States())).String(); name != "unknown" {
		t.Errorf("state %d after the list is named %q: States misses it", len(source.States()), name)
	}
}
