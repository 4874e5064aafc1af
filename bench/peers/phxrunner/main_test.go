package phxrunner

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		// A child run (see runChild) exits right after phx's workload;
		// phx's own goroutines are still winding down, as in the
		// comparison's subprocesses.
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}
