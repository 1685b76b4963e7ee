package diskcheck

import (
	"context"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// TestBadInputMore adds to TestCheckBadInput and TestUsageBadInput: bad
// input is refused with triage.ErrInvalid before any filesystem is looked
// at, a name that merely does not exist says so, and nothing panics.
func TestBadInputMore(t *testing.T) {
	dir := t.TempDir()
	checks := []struct {
		name string
		o    Options
		want error
	}{
		{"NUL in path", Options{Paths: []string{"/tmp\x00/x"}}, triage.ErrInvalid},
		{"blank path", Options{Paths: []string{" "}}, fs.ErrNotExist},
		{"negative space threshold", Options{SpaceLowPct: -1}, triage.ErrInvalid},
		{"NaN inode threshold", Options{InodesLowPct: math.NaN()}, triage.ErrInvalid},
		{"inode threshold over 100", Options{InodesFullPct: 101}, triage.ErrInvalid},
		{"negative statfs timeout", Options{StatfsTimeout: -time.Second}, triage.ErrInvalid},
		{"negative growth interval", Options{GrowthInterval: -time.Second}, triage.ErrInvalid},
		{"negative filling horizon", Options{FillingWithin: -time.Hour}, triage.ErrInvalid},
		{"proc root without a mount table", Options{ProcRoot: dir}, fs.ErrNotExist},
	}
	for _, tt := range checks {
		t.Run("Check/"+tt.name, func(t *testing.T) {
			var r Result
			require.NotPanics(t, func() { r = Check(context.Background(), tt.o) })
			assert.ErrorIs(t, r.Err, tt.want)
			assert.Equal(t, triage.Unknown, r.Status, "findings: %v", r.Findings)
			assert.Empty(t, r.Filesystems)
		})
	}
	usages := []struct {
		name string
		o    UsageOptions
		want error
	}{
		// It used to reach the walk and fail there with a bare EINVAL.
		{"NUL in path", UsageOptions{Path: dir + "\x00"}, triage.ErrInvalid},
		{"blank path", UsageOptions{Path: " "}, fs.ErrNotExist},
		{"negative statfs timeout", UsageOptions{Path: dir, StatfsTimeout: -time.Second}, triage.ErrInvalid},
	}
	for _, tt := range usages {
		t.Run("Usage/"+tt.name, func(t *testing.T) {
			var r UsageResult
			require.NotPanics(t, func() { r = Usage(context.Background(), tt.o) })
			assert.ErrorIs(t, r.Err, tt.want)
			assert.Equal(t, triage.Unknown, r.Status, "findings: %v", r.Findings)
			assert.Zero(t, r.Bytes)
		})
	}
}

// TestHostileProcRoot: a ProcRoot whose mountinfo is a FIFO (a
// container's, or a caller's mistake) gives an error at once, not a
// check that waits for a writer.
func TestHostileProcRoot(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "self"), 0o755))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "self", "mountinfo"), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan Result, 1)
	go func() { done <- Check(ctx, Options{ProcRoot: root}) }()
	select {
	case r := <-done:
		assert.Error(t, r.Err)
		assert.Equal(t, triage.Unknown, r.Status)
	case <-time.After(5 * time.Second):
		t.Fatal("Check waited on a FIFO mountinfo")
	}
}
