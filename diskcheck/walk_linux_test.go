package diskcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/testmount"
	"golang.org/x/sys/unix"
)

func writeFile(t testing.TB, path string, size int) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, make([]byte, size), 0o644))
}

// duBytes is what du -s -B1 -x says about dir.
func duBytes(t testing.TB, dir string) uint64 {
	t.Helper()
	out, err := exec.Command("du", "-s", "-B1", "-x", dir).Output()
	if err != nil {
		t.Skipf("du: %v", err)
	}
	n, err := strconv.ParseUint(strings.Fields(string(out))[0], 10, 64)
	require.NoError(t, err)
	return n
}

func consumerPaths(cs []Consumer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Path)
	}
	return out
}

func TestIntegrationUsageTree(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	root := testmount.Tmpfs(t, "size=64m")
	writeFile(t, root+"/big/f1", 1<<20)
	writeFile(t, root+"/big/sub/f2", 512<<10)
	writeFile(t, root+"/links/h1", 256<<10)
	for _, n := range []string{"h2", "h3"} {
		require.NoError(t, os.Link(root+"/links/h1", root+"/links/"+n))
	}
	writeFile(t, root+"/small", 4<<10)
	require.NoError(t, os.MkdirAll(root+"/loop", 0o755))
	require.NoError(t, os.Symlink("l2", root+"/loop/l1"))
	require.NoError(t, os.Symlink("l1", root+"/loop/l2"))
	require.NoError(t, os.Symlink("..", root+"/loop/up"))
	require.NoError(t, os.Symlink("/", root+"/loop/slash"))
	require.NoError(t, os.MkdirAll(root+"/other", 0o755))
	require.NoError(t, os.MkdirAll(root+"/samefs", 0o755))
	want := duBytes(t, root)

	// Another filesystem and a bind mount of this one's own subdirectory
	// inside the tree: neither is entered by default.
	elsewhere := testmount.Tmpfs(t, "size=8m")
	writeFile(t, elsewhere+"/blob", 2<<20)
	require.NoError(t, unix.Mount(elsewhere, root+"/other", "", unix.MS_BIND, ""))
	t.Cleanup(func() { testmount.Unmount(t, root+"/other") })
	require.NoError(t, unix.Mount(root+"/big", root+"/samefs", "", unix.MS_BIND, ""))
	t.Cleanup(func() { testmount.Unmount(t, root+"/samefs") })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Usage(ctx, UsageOptions{Path: root, Top: 3})
	require.NoError(t, r.Err)
	assert.Equal(t, "diskcheck.usage", r.Check)
	assert.Equal(t, []string{root}, r.Target.Paths)
	assert.Equal(t, triage.OK, r.Status)
	assert.False(t, r.Partial)
	assert.Equal(t, want, r.Bytes, "total differs from du -s -x before the mounts")
	assert.Equal(t, []string{root + "/other", root + "/samefs"}, r.SkippedMounts)
	assert.Equal(t, []string{root + "/big", root + "/links", root + "/small"}, consumerPaths(r.Consumers))
	assert.Equal(t, uint64(256<<10), r.Consumers[1].Bytes, "hard links counted once")
	assert.Equal(t, uint64(4), r.Consumers[0].Entries) // big, f1, sub, f2
	assert.True(t, r.Consumers[0].Dir)
	assert.False(t, r.Consumers[2].Dir)
	assert.Zero(t, r.UnreadableCount)

	t.Run("depth 2, all", func(t *testing.T) {
		r := Usage(ctx, UsageOptions{Path: root, Depth: 2, Top: -1})
		require.NoError(t, r.Err)
		assert.Equal(t, want, r.Bytes)
		paths := consumerPaths(r.Consumers)
		assert.Equal(t, root+"/big/f1", paths[0])
		assert.Contains(t, paths, root+"/big/sub")
		assert.Contains(t, paths, root+"/small", "a file above the depth is a consumer of its own")
		assert.Contains(t, paths, root+"/loop/l1")
	})

	t.Run("cross mounts", func(t *testing.T) {
		r := Usage(ctx, UsageOptions{Path: root, CrossMounts: true, Top: -1})
		require.NoError(t, r.Err)
		assert.Empty(t, r.SkippedMounts)
		assert.GreaterOrEqual(t, r.Bytes, want+2<<20)
		// The bind mount of big is big itself: walked once.
		assert.Less(t, r.Bytes, want+3<<20)
		assert.Contains(t, consumerPaths(r.Consumers), root+"/other")
	})

	t.Run("a file", func(t *testing.T) {
		r := Usage(ctx, UsageOptions{Path: root + "/small"})
		require.NoError(t, r.Err)
		assert.Equal(t, uint64(4<<10), r.Bytes)
		assert.Len(t, r.Consumers, 1)
	})
}

const nobodyEnv = "DISKCHECK_TEST_WALK_AS_NOBODY"

// TestIntegrationUsageUnreadable walks as an unprivileged user, since root
// reads every directory: the test binary re-runs itself as nobody (uid
// 65534) through syscall.Credential and prints its result as JSON.
func TestIntegrationUsageUnreadable(t *testing.T) {
	if dir := os.Getenv(nobodyEnv); dir != "" {
		r := Usage(context.Background(), UsageOptions{Path: dir})
		b, err := json.Marshal(r)
		require.NoError(t, err)
		fmt.Printf("RESULT %s\n", b)
		// Other users' descriptors are closed to nobody: the deleted-open
		// scan says it could not tell, and still reports the filesystem.
		c := Check(context.Background(), Options{Paths: []string{dir}, DeletedOpen: true})
		fmt.Printf("PERMISSION %v %d\n", errors.Is(c.Err, os.ErrPermission), len(c.Filesystems))
		// The tree's root belongs to root: nobody cannot create files there.
		c = Check(context.Background(), Options{Paths: []string{dir}, Probe: true})
		f, _ := c.Find(CodeNotWritable)
		fmt.Printf("PROBE %s %s %v\n", f.Evidence.String("errno"), f.Evidence.String("op"), errors.Is(c.Filesystems[0].Probe.Err, os.ErrPermission))
		return
	}
	if !testmount.Private(t) {
		return
	}
	base := t.TempDir()
	// t.TempDir's directories are private; nobody must reach the tree and
	// the copy of the test binary.
	require.NoError(t, os.Chmod(filepath.Dir(base), 0o755))
	require.NoError(t, os.Chmod(base, 0o755))
	for d := filepath.Dir(filepath.Dir(base)); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		require.NoError(t, err)
		if st.Mode().Perm()&0o001 == 0 {
			t.Skipf("nobody cannot reach the temporary directory: %s is %v", d, st.Mode().Perm())
		}
		if d == "/" {
			break
		}
	}
	root := filepath.Join(base, "tree")
	require.NoError(t, os.Mkdir(root, 0o755))
	require.NoError(t, unix.Mount("triage-test", root, "tmpfs", 0, "size=8m,mode=755"))
	t.Cleanup(func() { testmount.Unmount(t, root) })
	writeFile(t, root+"/open/f", 8<<10)
	writeFile(t, root+"/secret/f", 64<<10)
	writeFile(t, root+"/listonly/f", 64<<10)
	require.NoError(t, os.Chmod(root+"/secret", 0o700))
	require.NoError(t, os.Chmod(root+"/listonly", 0o744)) // r but no x: names, no stat

	bin := filepath.Join(base, "diskcheck.test")
	copyFile(t, os.Args[0], bin)
	cmd := exec.Command(bin, "-test.run=^TestIntegrationUsageUnreadable$", "-test.count=1")
	cmd.Env = append(os.Environ(), nobodyEnv+"="+root)
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	_, js, ok := strings.Cut(string(out), "RESULT ")
	require.True(t, ok, "%s", out)
	js, _, _ = strings.Cut(js, "\n")
	var r UsageResult
	require.NoError(t, json.Unmarshal([]byte(js), &r))

	assert.Equal(t, 2, r.UnreadableCount, "%+v", r.Unreadable)
	byPath := map[string]string{}
	for _, u := range r.Unreadable {
		byPath[u.Path] = u.Errno
	}
	assert.Equal(t, "EACCES", byPath[root+"/secret"])
	assert.Equal(t, "EACCES", byPath[root+"/listonly/f"])
	assert.Contains(t, consumerPaths(r.Consumers), root+"/open")
	assert.Less(t, r.Bytes, uint64(64<<10), "unreadable parts are not counted")
	assert.False(t, r.Partial)
	assert.Contains(t, string(out), "PERMISSION true 1")
	assert.Contains(t, string(out), "PROBE EACCES create true")
}

func copyFile(t *testing.T, from, to string) {
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

func TestUsageVanishing(t *testing.T) {
	root := t.TempDir()
	for i := range 50 {
		writeFile(t, fmt.Sprintf("%s/d/f%02d", root, i), 10)
	}
	writeFile(t, root+"/d/sub/deep/x", 10)
	writeFile(t, root+"/keep", 10)

	// Right after d was listed, everything in it goes away.
	o := UsageOptions{Path: root, afterReadDir: func(dir string) {
		if dir == root+"/d" {
			assert.NoError(t, os.RemoveAll(root+"/d/sub"))
			for i := range 50 {
				assert.NoError(t, os.Remove(fmt.Sprintf("%s/d/f%02d", root, i)))
			}
		}
	}}
	r := Usage(context.Background(), o)
	require.NoError(t, r.Err)
	assert.Equal(t, 51, r.Vanished)
	assert.Zero(t, r.UnreadableCount)
	assert.Contains(t, consumerPaths(r.Consumers), root+"/keep")
	assert.Equal(t, uint64(1), r.Files)
}

func TestUsageDeadline(t *testing.T) {
	root := t.TempDir()
	for i := range 40 {
		for j := range 10 {
			writeFile(t, fmt.Sprintf("%s/d%02d/s%d/f", root, i, j), 10)
		}
	}
	// A slow disk: every directory takes 30ms to read, so the whole walk
	// would take over 6s on two workers.
	o := UsageOptions{Path: root, Workers: 2, Top: -1, afterReadDir: func(string) { time.Sleep(30 * time.Millisecond) }}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	r := Usage(ctx, o)
	assert.Less(t, time.Since(begin), 300*time.Millisecond+slack)
	assert.True(t, r.Partial)
	assert.ErrorIs(t, r.Err, context.DeadlineExceeded)
	assert.Equal(t, triage.Unknown, r.Status)
	assert.Less(t, r.Dirs, uint64(441))
	partial := 0
	for _, c := range r.Consumers {
		if c.Partial {
			partial++
		}
	}
	assert.Positive(t, partial, "unfinished consumers are kept and marked")
}

func TestUsageBadInput(t *testing.T) {
	tests := []struct {
		name string
		o    UsageOptions
		want error
	}{
		{"empty path", UsageOptions{}, triage.ErrInvalid},
		{"negative depth", UsageOptions{Path: "/", Depth: -1}, triage.ErrInvalid},
		{"negative workers", UsageOptions{Path: "/", Workers: -1}, triage.ErrInvalid},
		{"missing", UsageOptions{Path: "/nonexistent/diskcheck"}, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Usage(context.Background(), tt.o)
			assert.ErrorIs(t, r.Err, tt.want)
			assert.Equal(t, triage.Unknown, r.Status)
		})
	}
}

func TestUsageMatchesDu(t *testing.T) {
	root := t.TempDir()
	for i := range 20 {
		for j := range 20 {
			writeFile(t, fmt.Sprintf("%s/d%02d/s%02d/f", root, i, j), i*1000+j)
		}
	}
	require.NoError(t, os.Link(root+"/d19/s19/f", root+"/d00/hard"))
	r := Usage(context.Background(), UsageOptions{Path: root, Top: 5})
	require.NoError(t, r.Err)
	assert.Equal(t, duBytes(t, root), r.Bytes)
	assert.Equal(t, uint64(400), r.Files)
	assert.Equal(t, uint64(1+20+400), r.Dirs)
	require.Len(t, r.Consumers, 5)
	for i := 1; i < len(r.Consumers); i++ {
		assert.GreaterOrEqual(t, r.Consumers[i-1].Bytes, r.Consumers[i].Bytes, "largest first")
	}
	// d00 and d01 hold the smallest files; the hard link's second name
	// is not counted, wherever the walk met it first.
	assert.NotContains(t, consumerPaths(r.Consumers), root+"/d01")
}

// TestUsageMemoryPerDirectory checks that the walk allocates per directory,
// never per file, so memory stays flat on trees with millions of files:
// only the top consumers, the directories waiting to be read and files
// with several links are kept. Two trees with the same directories, one
// with 100 times the files, must cost about the same.
func TestUsageMemoryPerDirectory(t *testing.T) {
	allocs := func(files int) float64 {
		root := t.TempDir()
		for d := range 10 {
			for f := range files {
				writeFile(t, fmt.Sprintf("%s/d%d/f%04d", root, d, f), 1)
			}
		}
		return testing.AllocsPerRun(3, func() {
			r := Usage(context.Background(), UsageOptions{Path: root, Top: 5, Workers: 2})
			require.NoError(t, r.Err)
			require.Equal(t, uint64(10*files), r.Files)
		})
	}
	few, many := allocs(10), allocs(1000)
	t.Logf("allocations: %v for 100 files, %v for 10000", few, many)
	assert.Less(t, many-few, 100.0, "allocations grow with the number of files")
}

// TestCheckAndUsageTogether runs Check and Usage side by side on one
// filesystem, as the triage command does for -path: they share the
// statfs guard, and whichever joins the other's call must get a value it
// can use.
func TestCheckAndUsageTogether(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), make([]byte, 4096), 0o644))
	ctx := context.Background()
	for range 300 {
		var wg sync.WaitGroup
		var c Result
		var u UsageResult
		wg.Add(2)
		go func() { defer wg.Done(); c = Check(ctx, Options{Paths: []string{dir}}) }()
		go func() { defer wg.Done(); u = Usage(ctx, UsageOptions{Path: dir}) }()
		wg.Wait()
		require.NoError(t, c.Err)
		require.NoError(t, u.Err)
		require.Len(t, c.Filesystems, 1)
		require.NotZero(t, c.Filesystems[0].Size)
	}
}

// deadMountBelow makes a directory holding a file and, below it, a FUSE
// mount that answers statfs and holds every other request.
func deadMountBelow(t *testing.T) (root, dead string) {
	root = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "data"), make([]byte, 64<<10), 0o644))
	dead = filepath.Join(root, "nfs")
	require.NoError(t, os.Mkdir(dead, 0o755))
	mountFUSE(t, dead, true)
	return root, dead
}

// TestIntegrationUsageDeadMountBelow: a FUSE mount below the walked path
// answers statfs and holds every other request, as a dead network
// filesystem does. The walk does not cross mounts, so it must not touch
// it: Usage returns by its deadline and names the mount as skipped.
func TestIntegrationUsageDeadMountBelow(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	root, dead := deadMountBelow(t)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan UsageResult, 1)
	go func() { done <- Usage(ctx, UsageOptions{Path: root}) }()
	select {
	case u := <-done:
		require.NoError(t, u.Err)
		assert.Contains(t, u.SkippedMounts, dead)
		assert.Equal(t, uint64(1), u.Files)
	case <-time.After(5 * time.Second):
		t.Fatal("Usage stayed in the dead mount past its deadline")
	}
}

// TestIntegrationUsageCrossingIntoADeadMount: told to cross mounts, the
// walk enters a mount that holds every request. The worker stuck there
// cannot be stopped, but Usage returns by its deadline, flagged partial.
func TestIntegrationUsageCrossingIntoADeadMount(t *testing.T) {
	if !testmount.Private(t) {
		return
	}
	root, _ := deadMountBelow(t)

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	done := make(chan UsageResult, 1)
	go func() { done <- Usage(ctx, UsageOptions{Path: root, CrossMounts: true}) }()
	select {
	case u := <-done:
		assert.True(t, u.Partial, "flagged partial")
		assert.ErrorIs(t, u.Err, context.DeadlineExceeded)
	case <-time.After(3 * time.Second):
		t.Fatal("Usage waited for a worker stuck in the dead mount")
	}
}
