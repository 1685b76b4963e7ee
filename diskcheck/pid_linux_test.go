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
	for _, o := range []Options{{PID: -1}} {
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

// TestProbePID writes in a container's filesystems as it sees them: a
// volume mounted read-only only inside it is not writable, a full one
// takes no block, a healthy one takes the probe and keeps nothing, and a
// link to a path that inside the container is a read-only mount over a
// writable directory of this host's is followed inside its root.
func TestProbePID(t *testing.T) {
	hostDir := t.TempDir()
	base := t.TempDir() // on this host, empty directories
	ctr := testcontainer.New(t, `cd '`+base+`' && mkdir ro full ok && `+
		`mount -t tmpfs -o ro ro ro && mount -t tmpfs -o size=64k full full && (head -c 1m /dev/zero > full/fill || true) && `+
		`mount -t tmpfs ok ok && mount -t tmpfs -o ro hidden '`+hostDir+`' && ln -s '`+hostDir+`' ok/link`)
	pid := ctr.PID()
	root, err := ctr.Root()
	require.NoError(t, err)

	probeOf := func(t *testing.T, path string) *Probe {
		t.Helper()
		r := Check(context.Background(), Options{PID: pid, Paths: []string{path}, Probe: true})
		require.Len(t, r.Filesystems, 1, "%v %+v", r.Err, r.Filesystems)
		require.NotNil(t, r.Filesystems[0].Probe, "%+v", r.Filesystems[0])
		return r.Filesystems[0].Probe
	}
	p := probeOf(t, filepath.Join(base, "ro"))
	assert.False(t, p.OK)
	assert.Equal(t, "EROFS", p.Errno, p.Error)

	p = probeOf(t, filepath.Join(base, "full"))
	assert.False(t, p.OK)
	assert.Equal(t, "ENOSPC", p.Errno, p.Error)

	p = probeOf(t, filepath.Join(base, "ok"))
	assert.True(t, p.OK, p.Error)
	ents, err := os.ReadDir(filepath.Join(root, base, "ok"))
	require.NoError(t, err)
	assert.Len(t, ents, 1, "only the link: the probe's file is gone: %v", ents)

	// Through the link, the container's read-only tmpfs over that path,
	// not this host's directory, which takes writes.
	p = probeOf(t, filepath.Join(base, "ok", "link"))
	assert.False(t, p.OK)
	assert.Equal(t, "EROFS", p.Errno, p.Error)
	r := Check(context.Background(), Options{PID: pid, Paths: []string{filepath.Join(base, "ok", "link")}})
	require.NoError(t, r.Err)
	assert.Equal(t, hostDir, r.Filesystems[0].MountPoint)
	assert.Equal(t, "tmpfs", r.Filesystems[0].Type)
	ents, err = os.ReadDir(hostDir)
	require.NoError(t, err)
	assert.Empty(t, ents, "nothing written in this host's directory")
}

// TestUsagePID walks a volume only a container sees, by the path it
// uses, and finds its largest consumers. While the walk runs, a
// directory it has listed is swapped for a link to a directory of this
// host's holding a large file: a walk by path through /proc/PID/root
// follows the link and counts the host's file as the container's; the
// walk inside the root does not.
func TestUsagePID(t *testing.T) {
	hostDir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(hostDir, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(hostDir, "sub", "host-secret"), make([]byte, 8<<20), 0o644))
	vol := t.TempDir() // on this host, an empty directory
	ctr := testcontainer.New(t, `mount -t tmpfs triage-volume '`+vol+`' && mkdir -p '`+vol+`/logs/sub' '`+vol+`/cache' && `+
		`head -c 3m /dev/urandom > '`+vol+`/cache/blob' && head -c 1m /dev/urandom > '`+vol+`/logs/sub/app.log' && ln -s / '`+vol+`/escape'`)
	root, err := ctr.Root()
	require.NoError(t, err)

	r := Usage(context.Background(), UsageOptions{PID: ctr.PID(), Path: vol})
	require.NoError(t, r.Err)
	require.Len(t, r.Consumers, 3, "%+v", r.Consumers)
	assert.Equal(t, filepath.Join(vol, "cache"), r.Consumers[0].Path, "the container's paths")
	assert.Equal(t, uint64(3<<20), r.Consumers[0].Bytes)
	assert.Equal(t, filepath.Join(vol, "logs"), r.Consumers[1].Path)
	assert.Equal(t, filepath.Join(vol, "escape"), r.Consumers[2].Path, "a link counts as itself, never as what it names")
	assert.Less(t, r.Bytes, uint64(5<<20))

	// Through a link inside the container to the volume.
	require.NoError(t, os.Symlink(vol, filepath.Join(root, vol+"-link")))
	t.Cleanup(func() { os.Remove(vol + "-link") })
	r = Usage(context.Background(), UsageOptions{PID: ctr.PID(), Path: vol + "-link"})
	require.NoError(t, r.Err)
	require.NotEmpty(t, r.Consumers)
	assert.Equal(t, filepath.Join(vol, "cache"), r.Consumers[0].Path, "resolved inside the container")

	// By path from this host, /proc/PID/root is a link to "/" like any
	// other: the walk reads this host's directory, not the volume.
	r = Usage(context.Background(), UsageOptions{Path: filepath.Join(root, vol)})
	require.NoError(t, r.Err)
	assert.Empty(t, r.Consumers, "this host's empty directory")

	logs := filepath.Join(root, vol, "logs")
	swapped := false
	swap := func(dir string) {
		if dir == filepath.Join(vol, "logs") && !swapped {
			swapped = true
			require.NoError(t, os.Rename(logs, logs+".old"))
			require.NoError(t, os.Symlink(hostDir, logs))
		}
	}
	r = Usage(context.Background(), UsageOptions{PID: ctr.PID(), Path: vol, Workers: 1, afterReadDir: swap})
	require.NoError(t, r.Err)
	require.True(t, swapped)
	// Followed by path, the link leads to this host's file.
	_, err = os.Stat(filepath.Join(logs, "sub", "host-secret"))
	require.NoError(t, err)
	assert.Less(t, r.Bytes, uint64(5<<20), "%+v", r.Consumers)
	assert.Positive(t, r.Vanished, "the swapped directory is gone from the walk")

	for _, o := range []UsageOptions{{PID: ctr.PID(), Path: "relative"}, {PID: -1, Path: vol}} {
		r := Usage(context.Background(), o)
		assert.ErrorIs(t, r.Err, triage.ErrInvalid, "%+v", o)
	}
	r = Usage(context.Background(), UsageOptions{PID: ctr.PID(), Path: filepath.Join(vol, "nothing")})
	assert.ErrorIs(t, r.Err, os.ErrNotExist)
}
