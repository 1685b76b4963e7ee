package logscan

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// A FIFO would block an open for reading until a writer comes; it must be
// refused before it is opened.
func TestCheckFIFODoesNotHang(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	r := Check(ctx, Options{Files: []string{fifo}})
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.ErrorIs(t, r.Err, triage.ErrInvalid)
	assert.Equal(t, triage.Unknown, r.Status)
}
