package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "logs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "logs", "app.log"), make([]byte, 1<<20), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "small"), []byte("x"), 0o644))

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"bytes", []string{"-h", "/"}, -1, []string{"Filesystem", "Size", "Use%", "Mounted on"}},
		{"inodes", []string{"-i", "/"}, -1, []string{"Inodes", "IUse%"}},
		{"du", []string{"-du", dir, "-top", "5"}, 0, []string{filepath.Join(dir, "logs"), "total: 2 files"}},
		{"du json", []string{"-du", dir, "-json"}, 0, []string{`"check": "diskcheck.usage"`}},
		{"bad flag", []string{"-nope"}, 2, nil},
		{"du with paths", []string{"-du", dir, "/"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb)
			if tt.code >= 0 {
				assert.Equal(t, tt.code, code, "stderr: %s", errb.String())
			} else {
				// The host's own filesystems decide whether something fails.
				assert.Contains(t, []int{0, 1}, code, "stderr: %s", errb.String())
			}
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}

func TestRunDuOrder(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big"), make([]byte, 1<<20), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mid"), make([]byte, 64<<10), 0o644))
	var out, errb bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"-du", dir, "-json"}, &out, &errb), errb.String())
	// The typed fields sit beside the common ones.
	var rec struct {
		Consumers []struct{ Path string } `json:"consumers"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &rec))
	require.Len(t, rec.Consumers, 2)
	assert.True(t, strings.HasSuffix(rec.Consumers[0].Path, "/big"))

	// The text form lists the smallest first, like sort -h.
	out.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"-du", dir}, &out, &errb))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasSuffix(lines[0], "/mid"))
	assert.True(t, strings.HasSuffix(lines[1], "/big"))
}
