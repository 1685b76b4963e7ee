//go:build linux

package diskcheck

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testcontainer"
)

// TestPIDSeesItsOwnMounts mounts a tmpfs that only one process sees, as
// a container's volume, and fills it: judged as that process sees its
// filesystems the tmpfs is full; judged on this host the same path is the
// host's filesystem.
func TestPIDSeesItsOwnMounts(t *testing.T) {
	dir := t.TempDir()
	ctr := testcontainer.New(t, `mount -t tmpfs -o size=1m triage-volume '`+dir+`' && (head -c 2m /dev/zero > '`+dir+`/fill' || true)`)
	pid := ctr.PID()

	r := Check(context.Background(), Options{PID: pid, Paths: []string{filepath.Join(dir, "fill")}})
	require.NoError(t, r.Err)
	require.Len(t, r.Filesystems, 1)
	fs := r.Filesystems[0]
	assert.Equal(t, dir, fs.MountPoint)
	assert.Equal(t, "tmpfs", fs.Type)
	assert.Equal(t, "triage-volume", fs.Device)
	f, ok := r.Find(CodeFull)
	require.True(t, ok, "findings: %v", r.Findings)
	assert.Equal(t, triage.Fail, f.Status)

	// The whole table as it sees it holds the volume too.
	r = Check(context.Background(), Options{PID: pid})
	require.NoError(t, r.Err)
	var seen bool
	for _, fs := range r.Filesystems {
		seen = seen || fs.MountPoint == dir
	}
	assert.True(t, seen, "%+v", r.Filesystems)

	// On this host the directory is just a directory of its filesystem.
	r = Check(context.Background(), Options{Paths: []string{dir}})
	require.NoError(t, r.Err)
	require.Len(t, r.Filesystems, 1)
	assert.NotEqual(t, dir, r.Filesystems[0].MountPoint)
	assert.False(t, r.Has(CodeFull) && r.Filesystems[0].Type == "tmpfs")

	// A path that is not there inside is an error, not the host's.
	r = Check(context.Background(), Options{PID: pid, Paths: []string{filepath.Join(dir, "nothing", "here")}})
	assert.ErrorIs(t, r.Err, os.ErrNotExist)
}

func TestPIDBadInput(t *testing.T) {
	for _, o := range []Options{{PID: -1}, {PID: os.Getpid(), Probe: true}} {
		r := Check(context.Background(), o)
		assert.ErrorIs(t, r.Err, triage.ErrInvalid, "%+v", o)
		assert.Equal(t, triage.Unknown, r.Status)
	}
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	r := Check(context.Background(), Options{PID: cmd.Process.Pid})
	assert.Error(t, r.Err, "a process that is gone has no mounts to judge")
	assert.Equal(t, triage.Unknown, r.Status)
}
