package logscan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenOption reads a log by the path another root uses (a
// container's), through the caller's opener: the live file and its
// rotated sibling both come through it, and nothing is opened on this
// host by that path.
func TestOpenOption(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "var", "log"), 0o755))
	writeLog(t, filepath.Join(root, "var", "log"), "app.log.1",
		"2026-11-20T10:00:00Z ERROR dial tcp 10.0.0.9:5432: connect: connection refused")
	writeLog(t, filepath.Join(root, "var", "log"), "app.log",
		"2026-11-20T10:00:01Z INFO up")
	var opened []string
	o := fileOpts("/var/log/app.log")
	o.Open = func(name string) (*os.File, error) {
		opened = append(opened, name)
		return os.Open(filepath.Join(root, filepath.Clean("/"+name)))
	}
	r := Check(context.Background(), o)
	require.NoError(t, r.Err)
	assert.Contains(t, codes(r), CodeDependencyRefused, "the rotated sibling, read through the opener")
	require.Len(t, r.Sources, 2)
	assert.Equal(t, "/var/log/app.log.1", r.Sources[0].Name)
	assert.Equal(t, "/var/log/app.log", r.Sources[1].Name)
	for _, name := range opened {
		assert.True(t, strings.HasPrefix(name, "/var/log/app.log"), name)
	}

	// An opener that refuses is the source's error, not a host file.
	o.Open = func(name string) (*os.File, error) { return nil, os.ErrPermission }
	r = Check(context.Background(), o)
	assert.ErrorIs(t, r.Err, os.ErrPermission)
}
