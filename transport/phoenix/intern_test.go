package phoenix

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBytesStringRecentCache(t *testing.T) {
	a := bytesString([]byte("realtime:room-1"))
	assert.Equal(t, "realtime:room-1", a)
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { _ = bytesString([]byte("realtime:room-1")) }),
		"a topic seen before decodes without allocating")
	// Colliding and replaced slots still return equal strings.
	for i := range 2000 {
		want := fmt.Sprintf("realtime:t%d", i)
		require.Equal(t, want, bytesString([]byte(want)))
	}
	long := strings.Repeat("x", maxCachedLen+1)
	assert.Equal(t, long, bytesString([]byte(long)))
}

func TestBytesStringConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5000 {
				want := fmt.Sprintf("realtime:%d", (i*7+g)%300)
				if got := bytesString([]byte(want)); got != want {
					t.Errorf("got %q, want %q", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
