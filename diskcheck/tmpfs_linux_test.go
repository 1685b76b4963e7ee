package diskcheck

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testmount"
	"golang.org/x/sys/unix"
)

// TestIntegrationNoInodeLimit: a tmpfs mounted with nr_inodes=0 has no
// inode limit, and statfs says 0 inodes. It is marked so, not reported as
// 0% used nor as exhausted, and df agrees there is no percentage.
func TestIntegrationNoInodeLimit(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	dir := testmount.Tmpfs(t, "size=1m,nr_inodes=0")
	for i := range 100 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), nil, 0o644))
	}
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(dir, &st))
	require.Zero(t, st.Files, "the kernel reports no inode count for nr_inodes=0")

	r := Check(context.Background(), Options{Paths: []string{dir}})
	require.NoError(t, r.Err)
	got := only(t, r)
	assert.Equal(t, dir, got.MountPoint)
	assert.True(t, got.NoInodeLimit)
	assert.Zero(t, got.Inodes)
	assert.Zero(t, got.InodesUsedPct)
	assert.Equal(t, int64(-1), dfFigures(t, dir)[7], "df prints no IUse% either")
	for _, f := range r.Findings {
		assert.NotContains(t, []triage.Code{CodeInodesLow, CodeInodesExhausted}, f.Code, "%s", f)
	}
	assert.Equal(t, triage.OK, r.Status)
}

// TestIntegrationEscapedMountPoints: the kernel writes space, tab, newline
// and backslash in /proc/self/mountinfo as octal escapes; the mount point
// comes back as the path it is, whether found from a path or listed.
func TestIntegrationEscapedMountPoints(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	for _, name := range []string{"var log", "tab\there", "new\nline", `back\slash`, `looks\040escaped`} {
		t.Run(strconv.Quote(name), func(t *testing.T) {
			mp := filepath.Join(t.TempDir(), name)
			require.NoError(t, os.Mkdir(mp, 0o755))
			if err := unix.Mount("triage-test", mp, "tmpfs", 0, "size=1m"); err != nil {
				t.Skipf("cannot mount tmpfs: %v", err)
			}
			t.Cleanup(func() { testmount.Unmount(t, mp) })
			sub := filepath.Join(mp, "app")
			require.NoError(t, os.Mkdir(sub, 0o755))

			r := Check(context.Background(), Options{Paths: []string{sub}, Probe: true})
			require.NoError(t, r.Err)
			got := only(t, r)
			assert.Equal(t, mp, got.MountPoint)
			assert.Equal(t, "tmpfs", got.Type)
			assert.Equal(t, []string{sub}, got.Paths)
			require.NotNil(t, got.Probe)
			assert.True(t, got.Probe.OK, "the probe wrote under the real path: %s", got.Probe.Error)

			all := Check(context.Background(), Options{All: true})
			var points []string
			for _, fs := range all.Filesystems {
				points = append(points, fs.MountPoint)
			}
			assert.Contains(t, points, mp)
		})
	}
}
