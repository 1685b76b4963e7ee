//go:build unix

package logscan

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

// TestBadInputMore adds to TestCheckBadInput and TestTail: bad input to
// Check and Tail is refused with triage.ErrInvalid, nothing is read and
// nothing panics.
func TestBadInputMore(t *testing.T) {
	dir := t.TempDir()
	p := writeLog(t, dir, "a.log", "2026-11-25T07:58:00Z ERROR dial tcp 10.0.0.1:80: connect: connection refused")
	checks := []struct {
		name string
		o    Options
	}{
		{"NUL in path", Options{Files: []string{p + "\x00"}}},
		{"negative max bytes", Options{Files: []string{p}, MaxBytes: -1}},
		{"empty pattern", Options{Files: []string{p}, Patterns: []string{""}}},
		{"pattern matching the empty line", Options{Files: []string{p}, Patterns: []string{"x*"}}},
		{"empty unit", Options{Units: []string{""}}},
		{"unit with a newline", Options{Units: []string{"nginx\n--all"}}},
		{"trace id with a newline", Options{Files: []string{p}, TraceID: "abc\ndef"}},
	}
	for _, tt := range checks {
		t.Run("Check/"+tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var r Result
			require.NotPanics(t, func() { r = Check(ctx, tt.o) })
			assert.ErrorIs(t, r.Err, triage.ErrInvalid)
			assert.Equal(t, triage.Unknown, r.Status, "findings: %v", r.Findings)
			assert.Zero(t, r.ErrorLines)
		})
	}
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	tails := []struct {
		name string
		path string
		n    int
	}{
		{"empty path", "", 1},
		{"NUL in path", p + "\x00", 1},
		{"negative n", p, -1},
		{"directory", dir, 1},
		{"FIFO", fifo, 1},
		{"device", os.DevNull, 1},
	}
	for _, tt := range tails {
		t.Run("Tail/"+tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var lines []Line
			var err error
			require.NotPanics(t, func() { lines, err = Tail(ctx, tt.path, tt.n) })
			assert.ErrorIs(t, err, triage.ErrInvalid)
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "refused, not stuck")
			assert.Empty(t, lines)
		})
	}
}
