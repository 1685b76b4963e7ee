package logscan

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntegrationKmsgReturnsWithinDeadline(t *testing.T) {
	f, err := os.Open("/dev/kmsg")
	if err != nil {
		t.Skipf("cannot read /dev/kmsg: %v", err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	// No Since and no Lines: the whole ring buffer, read until EAGAIN.
	r := Check(ctx, Options{Kernel: true, Lines: 1 << 30})
	assert.Less(t, time.Since(start), 3*time.Second)
	require.NoError(t, r.Err)
	require.Len(t, r.Sources, 1)
	assert.Equal(t, "kernel", r.Sources[0].Name)
	assert.Positive(t, r.Lines)
}
