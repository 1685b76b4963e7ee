//go:build linux

package logscan

import (
	"bytes"
	"context"
	"io/fs"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// TestDmesgFallback reads the kernel log through the real dmesg when the
// device cannot be opened, and says so.
func TestDmesgFallback(t *testing.T) {
	out, err := exec.Command("dmesg").Output()
	if err != nil {
		t.Skipf("dmesg cannot read the kernel log here: %v", err)
	}
	n := 0
	for _, l := range bytes.Split(out, []byte{'\n'}) {
		if _, _, ok := parseDmesgLine(l); ok {
			n++
		}
	}
	if n == 0 {
		t.Skip("dmesg printed no timestamped lines")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r := Check(ctx, Options{Kernel: true, KmsgPath: "/nonexistent", Lines: 50})
	require.NoError(t, r.Err)
	require.Len(t, r.Sources, 1)
	src := r.Sources[0]
	assert.Equal(t, "kernel", src.Name)
	assert.Equal(t, "dmesg", src.Via)
	assert.Empty(t, src.Error)
	if n >= 50 {
		assert.Equal(t, 50, src.Lines, "the last 50 of dmesg's %d lines", n)
	} else {
		assert.GreaterOrEqual(t, src.Lines, n)
	}
	assert.Positive(t, src.Bytes)

	t.Run("no dmesg either", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		r := Check(ctx, Options{Kernel: true, KmsgPath: "/nonexistent", Lines: 50})
		require.Len(t, r.Sources, 1)
		assert.Empty(t, r.Sources[0].Via)
		assert.Zero(t, r.Sources[0].Lines)
		assert.NotEmpty(t, r.Sources[0].Error)
		assert.ErrorIs(t, r.Err, fs.ErrNotExist, "the device's error is kept")
		assert.Equal(t, triage.Unknown, r.Status)
	})
}
