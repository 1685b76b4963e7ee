package logscan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
)

func TestTail(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	secondsLog(t, p, 5000, testNow)
	tests := []struct{ n, want int }{{1, 1}, {3, 3}, {200, 200}, {5000, 5000}, {9000, 5000}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			lines, err := Tail(context.Background(), p, tt.n)
			require.NoError(t, err)
			require.Len(t, lines, tt.want)
			last := lines[len(lines)-1]
			assert.Equal(t, testNow, last.Time.UTC())
			assert.Equal(t, "info", last.Level)
			assert.Equal(t, p, last.Source)
			assert.Regexp(t, fmt.Sprintf("[ /]%d ", 5000-tt.want), lines[0].Text)
		})
	}
	t.Run("no final newline", func(t *testing.T) {
		q := filepath.Join(dir, "partial.log")
		require.NoError(t, os.WriteFile(q, []byte("a\nb\nc"), 0o644))
		lines, err := Tail(context.Background(), q, 2)
		require.NoError(t, err)
		require.Len(t, lines, 2)
		assert.Equal(t, "b", lines[0].Text)
		assert.Equal(t, "c", lines[1].Text)
	})
	t.Run("empty file", func(t *testing.T) {
		q := filepath.Join(dir, "empty.log")
		require.NoError(t, os.WriteFile(q, nil, 0o644))
		lines, err := Tail(context.Background(), q, 10)
		require.NoError(t, err)
		assert.Empty(t, lines)
	})
	t.Run("bad input", func(t *testing.T) {
		_, err := Tail(context.Background(), p, 0)
		assert.ErrorIs(t, err, triage.ErrInvalid)
		_, err = Tail(context.Background(), filepath.Join(dir, "nope"), 1)
		assert.ErrorIs(t, err, os.ErrNotExist)
		_, err = Tail(context.Background(), dir, 1)
		assert.ErrorIs(t, err, triage.ErrInvalid)
	})
}
