package diskcheck

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testcontainer"
	"github.com/triagekit/triage/internal/testmount"
	"golang.org/x/sys/unix"
)

// dfFigures runs df on path and returns size, used, avail, use%, inodes,
// iused, ifree and iuse% as df prints them ("-" as -1).
func dfFigures(t *testing.T, path string) []int64 {
	t.Helper()
	out, err := exec.Command("df", "-B1", "--output=size,used,avail,pcent,itotal,iused,iavail,ipcent", path).Output()
	if err != nil {
		t.Skipf("df: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 2)
	var vals []int64
	for _, f := range strings.Fields(lines[1]) {
		f = strings.TrimSuffix(f, "%")
		if f == "-" {
			vals = append(vals, -1)
			continue
		}
		n, err := strconv.ParseInt(f, 10, 64)
		require.NoError(t, err)
		vals = append(vals, n)
	}
	require.Len(t, vals, 8)
	return vals
}

func assertLikeDf(t *testing.T, fs Filesystem, df []int64) {
	t.Helper()
	assert.Equal(t, df[0], int64(fs.Size), "size")
	assert.Equal(t, df[1], int64(fs.Used), "used")
	assert.Equal(t, df[2], int64(fs.Avail), "avail")
	assert.Equal(t, float64(df[3]), fs.UsedPct, "use%")
	assert.Equal(t, df[4], int64(fs.Inodes), "inodes")
	assert.Equal(t, df[5], int64(fs.InodesUsed), "iused")
	assert.Equal(t, df[6], int64(fs.InodesFree), "ifree")
	assert.Equal(t, float64(df[7]), fs.InodesUsedPct, "iuse%")
}

func only(t *testing.T, r Result) Filesystem {
	t.Helper()
	require.Len(t, r.Filesystems, 1, "filesystems: %+v", r.Filesystems)
	return r.Filesystems[0]
}

func findingOf(t *testing.T, r Result, c triage.Code) triage.Finding {
	t.Helper()
	f, ok := r.Find(c)
	require.True(t, ok, "no %s in %v", c, r.Findings)
	return f
}

func TestIntegrationFullByBytes(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	dir := testmount.Tmpfs(t, "size=1m")
	f, err := os.Create(filepath.Join(dir, "fill"))
	require.NoError(t, err)
	chunk := make([]byte, 64<<10)
	for {
		if _, err = f.Write(chunk); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.NoError(t, f.Close())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Check(ctx, Options{Paths: []string{dir}, Probe: true})
	require.NoError(t, r.Err)
	got := only(t, r)
	assert.Equal(t, dir, got.MountPoint)
	assert.Equal(t, "tmpfs", got.Type)
	assert.Equal(t, []string{dir}, got.Paths)
	assert.Equal(t, KindCheck, r.Check)
	assert.Equal(t, []string{dir}, r.Target.Paths, "the asked path is the target, its mount point a finding")
	assertLikeDf(t, got, dfFigures(t, dir))
	assert.Equal(t, triage.Fail, r.Status)

	full := findingOf(t, r, CodeFull)
	assert.Equal(t, dir, full.Evidence.String(triage.KeyPath))
	assert.Equal(t, triage.Fail, full.Status)
	pct, ok := full.Evidence.Float("used_pct")
	assert.True(t, ok)
	assert.Equal(t, 100.0, pct)
	assert.False(t, r.Has(CodeSpaceLow), "full is reported instead of low, not beside it")

	nw := findingOf(t, r, CodeNotWritable)
	assert.Equal(t, "ENOSPC", nw.Evidence.String("errno"))
	require.NotNil(t, got.Probe)
	assert.ErrorIs(t, got.Probe.Err, syscall.ENOSPC)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the probe left its file behind")
}

func TestIntegrationInodesExhausted(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	dir := testmount.Tmpfs(t, "size=8m,nr_inodes=64")
	var err error
	for i := 0; err == nil; i++ {
		var f *os.File
		if f, err = os.Create(filepath.Join(dir, strconv.Itoa(i))); err == nil {
			f.Close()
		}
	}
	require.ErrorIs(t, err, syscall.ENOSPC)

	r := Check(context.Background(), Options{Paths: []string{dir}, Probe: true})
	require.NoError(t, r.Err)
	got := only(t, r)
	assertLikeDf(t, got, dfFigures(t, dir))
	assert.Zero(t, got.InodesFree)
	assert.Less(t, got.UsedPct, 10.0, "bytes are still free")

	f := findingOf(t, r, CodeInodesExhausted)
	assert.Equal(t, triage.Fail, f.Status)
	free, _ := f.Evidence.Int("inodes_free")
	assert.Zero(t, free)
	assert.False(t, r.Has(CodeFull))
	nw := findingOf(t, r, CodeNotWritable)
	assert.Equal(t, "ENOSPC", nw.Evidence.String("errno"))
	assert.Equal(t, "create", nw.Evidence.String("op"))
}

func TestIntegrationInodesLow(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	dir := testmount.Tmpfs(t, "size=8m,nr_inodes=100")
	// The root directory takes one inode; 92 files make 93 of 100.
	for i := range 92 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), nil, 0o644))
	}
	r := Check(context.Background(), Options{Paths: []string{dir}})
	require.NoError(t, r.Err)
	assertLikeDf(t, only(t, r), dfFigures(t, dir))
	assert.Equal(t, triage.Warn, findingOf(t, r, CodeInodesLow).Status)
	assert.False(t, r.Has(CodeInodesExhausted))
}

func TestIntegrationReadOnly(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	dir := testmount.Tmpfs(t, "size=1m")
	require.NoError(t, unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""))

	r := Check(context.Background(), Options{Paths: []string{dir}, Probe: true})
	require.NoError(t, r.Err)
	got := only(t, r)
	assert.True(t, got.ReadOnly)
	assert.Equal(t, triage.Fail, findingOf(t, r, CodeReadOnly).Status, "a read-only filesystem the caller named")
	nw := findingOf(t, r, CodeNotWritable)
	assert.Equal(t, "EROFS", nw.Evidence.String("errno"))
	assert.ErrorIs(t, got.Probe.Err, syscall.EROFS)

	// Among all filesystems, a read-only tmpfs nobody named is so by
	// intent: no finding. Other filesystems of the host may fail to
	// answer; this one must not.
	all := Check(context.Background(), Options{StatfsTimeout: 2 * time.Second})
	seen := false
	for _, fs := range all.Filesystems {
		if fs.MountPoint == dir {
			seen = true
			assert.True(t, fs.ReadOnly)
		}
	}
	assert.True(t, seen, "read-only tmpfs not listed among all filesystems")
	for _, f := range all.Findings {
		if f.Code == CodeReadOnly {
			assert.NotEqual(t, dir, f.Evidence.String("mount_point"), "unnamed read-only tmpfs reported")
		}
	}
}

func TestIntegrationAllFilesystems(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	dir := testmount.Tmpfs(t, "size=1m")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "log"), make([]byte, 950<<10), 0o644))

	// Other filesystems of the host may fail to answer; this one must not.
	r := Check(context.Background(), Options{StatfsTimeout: 2 * time.Second})
	var points []string
	for _, fs := range r.Filesystems {
		points = append(points, fs.MountPoint)
		assert.False(t, isPseudo(fs.Type), "pseudo filesystem %s listed", fs.MountPoint)
		if fs.MountPoint == dir {
			require.NoError(t, fs.Err)
			assertLikeDf(t, fs, dfFigures(t, dir))
		}
	}
	assert.Contains(t, points, dir)
	assert.NotContains(t, points, "/proc")
	assert.NotContains(t, points, "/sys")

	// Naming a file on it plus All: the filesystem is listed once, with
	// the path.
	r = Check(context.Background(), Options{Paths: []string{filepath.Join(dir, "log")}, All: true, StatfsTimeout: 2 * time.Second})
	n := 0
	for _, fs := range r.Filesystems {
		if fs.MountPoint == dir {
			n++
			assert.Equal(t, []string{filepath.Join(dir, "log")}, fs.Paths)
		}
	}
	assert.Equal(t, 1, n)
	assert.True(t, r.Has(CodeSpaceLow) || r.Has(CodeFull))
}

func TestIntegrationDeletedOpen(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	dir := testmount.Tmpfs(t, "size=8m")
	file := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(file, make([]byte, 3<<20), 0o644))

	// The child opens the log, deletes it and keeps it open, as a service
	// does when logrotate removes its log without telling it.
	cmd := exec.Command("sh", "-c", `exec 3<"$1" && rm -f "$1" && echo ready && exec sleep 60`, "sh", file)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make([]byte, 6)
	_, err = stdout.Read(line)
	require.NoError(t, err)
	require.Equal(t, "ready\n", string(line))
	testcontainer.WaitExec(t, cmd.Process.Pid, "sleep")

	r := Check(context.Background(), Options{Paths: []string{dir}, DeletedOpen: true, DeletedOpenMinBytes: 1 << 20})
	require.NoError(t, r.Err)
	assert.True(t, r.DeletedOpenScanned)
	got := only(t, r)
	require.Len(t, got.DeletedOpen, 1)
	d := got.DeletedOpen[0]
	assert.Equal(t, cmd.Process.Pid, d.PID)
	assert.Equal(t, "sleep", d.Process)
	assert.Equal(t, file, d.Largest)
	assert.Equal(t, 1, d.Files)
	assert.GreaterOrEqual(t, d.Bytes, uint64(3<<20))
	assert.Equal(t, d.Bytes, got.DeletedOpenBytes)

	f := findingOf(t, r, CodeDeletedOpen)
	pid, _ := f.Evidence.Int(triage.KeyPID)
	assert.Equal(t, int64(cmd.Process.Pid), pid)
	assert.Equal(t, d.Process, f.Evidence.String(triage.KeyProcess))
	b, _ := f.Evidence.Int("bytes")
	assert.GreaterOrEqual(t, b, int64(3<<20))

	// df says the space is used, du finds nothing to delete.
	assert.GreaterOrEqual(t, got.Used, uint64(3<<20))
	u := Usage(context.Background(), UsageOptions{Path: dir})
	require.NoError(t, u.Err)
	assert.Less(t, u.Bytes, uint64(64<<10))

	// Below the threshold it is evidence, not a finding.
	r = Check(context.Background(), Options{Paths: []string{dir}, DeletedOpen: true, DeletedOpenMinBytes: 64 << 20})
	assert.False(t, r.Has(CodeDeletedOpen))
	assert.Len(t, only(t, r).DeletedOpen, 1)
}

func TestIntegrationGrowth(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	dir := testmount.Tmpfs(t, "size=64m")
	first := Check(context.Background(), Options{Paths: []string{dir}})
	require.NoError(t, first.Err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dump"), make([]byte, 8<<20), 0o644))

	// Compared with an earlier result, as a periodic caller would; the
	// clock says one second passed.
	at := only(t, first).SampledAt.Add(time.Second)
	r := Check(context.Background(), Options{Paths: []string{dir}, Previous: &first, Now: func() time.Time { return at }})
	require.NoError(t, r.Err)
	g := only(t, r).Growth
	require.NotNil(t, g)
	assert.Equal(t, time.Second, g.Interval)
	assert.Equal(t, int64(8<<20), g.UsedDelta)
	assert.Equal(t, float64(8<<20), g.BytesPerSec)
	require.NotNil(t, g.TimeToFull)
	assert.Equal(t, 7*time.Second, *g.TimeToFull) // 56 MiB left at 8 MiB/s
	f := findingOf(t, r, CodeFillingFast)
	assert.Equal(t, triage.Fail, f.Status)
	ttf, ok := f.Evidence.Lookup("time_to_full_ns")
	require.True(t, ok)
	assert.Equal(t, 7*time.Second, ttf.Duration())

	// Two samples in one call, with a writer in between.
	go func() {
		time.Sleep(20 * time.Millisecond)
		os.WriteFile(filepath.Join(dir, "dump2"), make([]byte, 4<<20), 0o644)
	}()
	r = Check(context.Background(), Options{Paths: []string{dir}, GrowthInterval: 300 * time.Millisecond})
	require.NoError(t, r.Err)
	g = only(t, r).Growth
	require.NotNil(t, g)
	assert.GreaterOrEqual(t, g.Interval, 300*time.Millisecond)
	// Wait for the writer in case the machine was too slow for it.
	require.Eventually(t, func() bool { _, err := os.Stat(filepath.Join(dir, "dump2")); return err == nil }, 5*time.Second, 10*time.Millisecond)
}

func TestIntegrationStuckMount(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	s := mountStuckFUSE(t)

	t.Run("named path", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		begin := time.Now()
		r := Check(ctx, Options{Paths: []string{s.dir}, StatfsTimeout: 300 * time.Millisecond, Probe: true, DeletedOpen: true})
		assert.Less(t, time.Since(begin), 300*time.Millisecond+slack)
		assert.ErrorIs(t, r.Err, ErrStuckMount)
		got := only(t, r)
		assert.True(t, got.Stuck)
		assert.ErrorIs(t, got.Err, ErrStuckMount)
		assert.Zero(t, got.Size, "numbers of a stuck mount are unknown")
		assert.Nil(t, got.Probe, "a stuck mount is not probed")
		assert.Equal(t, triage.Fail, findingOf(t, r, CodeStuckMount).Status)
		assert.Equal(t, triage.Fail, r.Status)
	})

	t.Run("all filesystems, no pile-up", func(t *testing.T) {
		begin := time.Now()
		r := Check(context.Background(), Options{StatfsTimeout: 300 * time.Millisecond})
		// The call from the first subtest is still in flight and past its
		// timeout: the answer comes at once and no second statfs is sent.
		assert.Less(t, time.Since(begin), slack)
		assert.ErrorIs(t, r.Err, ErrStuckMount)
		measured := 0
		for _, fs := range r.Filesystems {
			if fs.MountPoint == s.dir {
				assert.True(t, fs.Stuck)
			} else if fs.Err == nil {
				measured++
			}
		}
		assert.Positive(t, measured, "the other filesystems are still measured")
		assert.Equal(t, int32(1), s.statfses.Load(), "statfs calls piled onto the stuck mount")
	})

	t.Run("context deadline first", func(t *testing.T) {
		other := mountStuckFUSE(t)
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		begin := time.Now()
		r := Check(ctx, Options{Paths: []string{other.dir}, StatfsTimeout: time.Hour})
		assert.Less(t, time.Since(begin), 400*time.Millisecond+slack)
		assert.ErrorIs(t, r.Err, ErrStuckMount)
		assert.ErrorIs(t, r.Err, context.DeadlineExceeded)
		assert.Equal(t, triage.Unknown, findingOf(t, r, CodeStuckMount).Status, "cut by the caller's deadline, not known stuck")

		// The walk waits for the same statfs, not a new one, until its own
		// deadline.
		ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		begin = time.Now()
		u := Usage(ctx, UsageOptions{Path: other.dir, StatfsTimeout: time.Hour})
		assert.Less(t, time.Since(begin), 300*time.Millisecond+slack)
		assert.ErrorIs(t, u.Err, ErrStuckMount)
		assert.ErrorIs(t, u.Err, context.DeadlineExceeded)
		assert.Equal(t, triage.Unknown, u.Status)
		assert.Equal(t, int32(1), other.statfses.Load())
	})

	t.Run("usage", func(t *testing.T) {
		begin := time.Now()
		u := Usage(context.Background(), UsageOptions{Path: s.dir, StatfsTimeout: 300 * time.Millisecond})
		assert.Less(t, time.Since(begin), slack)
		assert.ErrorIs(t, u.Err, ErrStuckMount)
		assert.Equal(t, triage.Unknown, u.Status)
	})

	// Once the server answers, the mount is measured again.
	s.release()
	require.Eventually(t, func() bool { return !calls.pending("statfs " + s.dir) }, 10*time.Second, 10*time.Millisecond)
	r := Check(context.Background(), Options{Paths: []string{s.dir}})
	require.NoError(t, r.Err)
	assert.Equal(t, uint64(1000*4096), only(t, r).Size)

	// Its writes fail the way the filesystem says, and the probe names it.
	for _, errno := range []syscall.Errno{syscall.EIO, syscall.EDQUOT} {
		s.createErrno.Store(int32(errno))
		r := Check(context.Background(), Options{Paths: []string{s.dir}, Probe: true})
		require.NoError(t, r.Err)
		f := findingOf(t, r, CodeNotWritable)
		assert.Equal(t, unix.ErrnoName(errno), f.Evidence.String("errno"))
		assert.Equal(t, "create", f.Evidence.String("op"))
		assert.ErrorIs(t, only(t, r).Probe.Err, errno)
	}
}

func TestCheckBadInput(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want error
	}{
		{"empty path", Options{Paths: []string{""}}, triage.ErrInvalid},
		{"threshold over 100", Options{FullPct: 150}, triage.ErrInvalid},
		{"missing path", Options{Paths: []string{"/nonexistent/diskcheck/x"}}, fs.ErrNotExist},
		{"missing proc", Options{ProcRoot: "/nonexistent/proc"}, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Check(context.Background(), tt.o)
			assert.ErrorIs(t, r.Err, tt.want)
			assert.Equal(t, triage.Unknown, r.Status)
			assert.Equal(t, "diskcheck", r.Check)
		})
	}
}

func TestCheckHost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Check(ctx, Options{Paths: []string{"/"}})
	require.NoError(t, r.Err)
	got := only(t, r)
	df := dfFigures(t, "/")
	assert.Equal(t, df[0], int64(got.Size))
	// Others write to the disk meanwhile: Use% may move by a point.
	assert.InDelta(t, float64(df[3]), got.UsedPct, 1)

	// A mount table from elsewhere, through ProcRoot.
	proc := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(proc, "self"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(proc, "self", "mountinfo"), []byte(
		"1 0 0:1 / / rw - rootfs rootfs rw\n"+
			"2 1 0:2 / /proc rw - proc proc rw\n"), 0o644))
	r = Check(ctx, Options{ProcRoot: proc})
	require.NoError(t, r.Err)
	assert.Equal(t, "rootfs", only(t, r).Type)

	cancelled, stop := context.WithCancel(context.Background())
	stop()
	r = Check(cancelled, Options{})
	assert.True(t, errors.Is(r.Err, context.Canceled))
	assert.Equal(t, triage.Unknown, r.Status)
}

func TestFdinfoMountID(t *testing.T) {
	tests := []struct {
		in   string
		id   int
		okay bool
	}{
		{"pos:\t0\nflags:\t0100000\nmnt_id:\t27\nino:\t1234\n", 27, true},
		{"pos:\t0\nflags:\t0100000\n", 0, false},
		{"mnt_id:\tx\n", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		id, ok := fdinfoMountID([]byte(tt.in))
		assert.Equal(t, tt.okay, ok, "%q", tt.in)
		assert.Equal(t, tt.id, id, "%q", tt.in)
	}
}
