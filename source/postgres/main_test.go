package postgres_test

import (
	"testing"

	"go.uber.org/goleak"
)

// LiveTable runs operator chains: no goroutine may outlive a test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
