package logscan

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLocateHonoursTheContext: finding where the window starts walks back
// through the file block by block. In a file with no newline and a large
// MaxBytes that walk reads gigabytes; it must stop when the context ends.
func TestLocateHonoursTheContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	f, err := os.Create(path)
	require.NoError(t, err)
	// Sparse: reads as zero bytes, no newline anywhere, costs no disk.
	require.NoError(t, f.Truncate(4<<30))
	require.NoError(t, f.Close())

	for _, tt := range []struct {
		name string
		o    Options
	}{
		{"last lines", Options{Files: []string{path}, Lines: 200, MaxBytes: 4 << 30}},
		{"since", Options{Files: []string{path}, Since: time.Minute, MaxBytes: 4 << 30}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			r := Check(ctx, tt.o)
			took := time.Since(start)
			assert.Less(t, took, 2*time.Second, "returned near its deadline, not after reading 4GiB")
			assert.ErrorIs(t, r.Err, context.DeadlineExceeded)
		})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Tail(ctx, path, 10)
	assert.Less(t, time.Since(start), 2*time.Second)
	// Tail reads at most DefaultMaxBytes: a fast disk may finish that
	// before the deadline. When it does not, it stops at the deadline.
	if err != nil {
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
}
