package logscan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secondsLog writes one line a second ending at testNow; every 100th is
// an error naming its index.
func secondsLog(t *testing.T, path string, n int, end time.Time) {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		ts := end.Add(-time.Duration(n-1-i) * time.Second).UTC().Format("2006-01-02T15:04:05.000Z07:00")
		if i%100 == 0 {
			fmt.Fprintf(&b, "%s ERROR job %d failed\n", ts, i)
		} else {
			fmt.Fprintf(&b, "%s INFO GET /api/items/%d 200 %dms user=%d\n", ts, i, i%97, i%13)
		}
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

func TestWindowLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.log")
	secondsLog(t, p, 20000, testNow)
	for _, n := range []int{1, 150, 200, 19999, 20000, 25000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			o := fileOpts(p)
			o.Lines = n
			r := Check(context.Background(), o)
			require.NoError(t, r.Err)
			want := min(n, 20000)
			assert.Equal(t, want, r.Lines)
			// Errors at every 100th line from the start of the file.
			first := 20000 - want
			errs := 0
			for i := first; i < 20000; i++ {
				if i%100 == 0 {
					errs++
				}
			}
			assert.Equal(t, errs, r.ErrorLines)
		})
	}
}

func TestWindowSince(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.log")
	secondsLog(t, p, 3*3600, testNow) // three hours, about 1.5 MB
	tests := []struct {
		since time.Duration
		lines int
	}{
		{10 * time.Minute, 601},
		{time.Second, 2},
		{90 * time.Minute, 5401},
		{5 * time.Hour, 3 * 3600},
	}
	for _, tt := range tests {
		t.Run(tt.since.String(), func(t *testing.T) {
			o := fileOpts(p)
			o.Since, o.Lines = tt.since, 0
			r := Check(context.Background(), o)
			require.NoError(t, r.Err)
			assert.Equal(t, tt.lines, r.Lines)
			require.Len(t, r.Sources, 1)
			assert.False(t, r.Sources[0].NoTimestamps)
		})
	}
	t.Run("lines and since: the smaller window", func(t *testing.T) {
		o := fileOpts(p)
		o.Since, o.Lines = 10*time.Minute, 50
		assert.Equal(t, 50, Check(context.Background(), o).Lines)
		o.Since, o.Lines = time.Minute, 500
		assert.Equal(t, 61, Check(context.Background(), o).Lines)
	})
	t.Run("no timestamps falls back to lines", func(t *testing.T) {
		q := writeLog(t, t.TempDir(), "plain.log", strings.Split(strings.Repeat("no time here\n", 500), "\n")[:500]...)
		o := fileOpts(q)
		o.Since = time.Minute
		r := Check(context.Background(), o)
		assert.Equal(t, DefaultLines, r.Lines)
		assert.True(t, r.Sources[0].NoTimestamps)
	})
}

func TestWindowMaxBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.log")
	secondsLog(t, p, 5000, testNow)
	o := fileOpts(p)
	o.Lines, o.MaxBytes = 5000, 8<<10
	r := Check(context.Background(), o)
	require.NoError(t, r.Err)
	assert.True(t, r.Sources[0].Capped)
	assert.LessOrEqual(t, r.Sources[0].Bytes, int64(8<<10))
	assert.Less(t, r.Lines, 200)
}

func TestWindowRotatedSibling(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	secondsLog(t, p+".1", 1000, testNow.Add(-time.Hour))
	secondsLog(t, p, 100, testNow)

	t.Run("lines", func(t *testing.T) {
		o := fileOpts(p)
		o.Lines = 300
		r := Check(context.Background(), o)
		require.NoError(t, r.Err)
		assert.Equal(t, 300, r.Lines)
		require.Len(t, r.Sources, 2)
		assert.Equal(t, p+".1", r.Sources[0].Name)
		assert.Equal(t, 200, r.Sources[0].Lines)
		assert.Equal(t, 100, r.Sources[1].Lines)
	})
	t.Run("since", func(t *testing.T) {
		o := fileOpts(p)
		o.Since, o.Lines = time.Hour+5*time.Minute, 0
		r := Check(context.Background(), o)
		require.NoError(t, r.Err)
		assert.Equal(t, 100+301, r.Lines)
		require.Len(t, r.Sources, 2)
	})
	t.Run("window inside the file", func(t *testing.T) {
		o := fileOpts(p)
		o.Lines = 50
		r := Check(context.Background(), o)
		assert.Len(t, r.Sources, 1)
	})
}

func TestRotationDuringRead(t *testing.T) {
	// Files larger than one read chunk, so the hook runs mid-read.
	t.Run("rename", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "app.log")
		secondsLog(t, p, 20000, testNow.Add(-time.Minute))
		o := fileOpts(p)
		o.Lines = 20000
		done := false
		o.afterChunk = func() {
			if done {
				return
			}
			done = true
			require.NoError(t, os.Rename(p, p+".1"))
			writeLog(t, dir, "app.log", "2026-11-25T07:59:59Z ERROR dial tcp 10.3.3.3:3306: connect: connection refused")
		}
		r := Check(context.Background(), o)
		require.NoError(t, r.Err)
		require.Len(t, r.Sources, 1)
		assert.True(t, r.Sources[0].Rotated)
		assert.Equal(t, 20001, r.Lines, "the old file whole and the new one")
		assert.Equal(t, 1, signal(t, r, CodeDependencyRefused, "10.3.3.3:3306").Count)
	})
	t.Run("copytruncate", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "app.log")
		secondsLog(t, p, 20000, testNow.Add(-time.Minute))
		o := fileOpts(p)
		o.Lines = 20000
		done := false
		o.afterChunk = func() {
			if done {
				return
			}
			done = true
			require.NoError(t, os.Truncate(p, 0))
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.WriteString("2026-11-25T07:59:59Z ERROR open /data/x: no space left on device\n")
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}
		r := Check(context.Background(), o)
		require.NoError(t, r.Err)
		require.Len(t, r.Sources, 1)
		assert.True(t, r.Sources[0].Truncated)
		assert.False(t, r.Sources[0].Rotated)
		assert.Less(t, r.Lines, 20000)
		assert.Equal(t, 1, signal(t, r, CodeDiskFull, "/data/x").Count)
	})
}
