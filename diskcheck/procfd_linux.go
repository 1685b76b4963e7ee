package diskcheck

// This file is the only one that walks /proc/<pid>/fd, so that it can be
// shared with other packages later without untangling it from the rest.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/triagekit/triage/internal/procfs"
)

// deletedFile is one open file descriptor of a deleted file.
type deletedFile struct {
	pid    int
	comm   string
	path   string // the former path, without " (deleted)"
	mntID  int
	major  uint32
	minor  uint32
	ino    uint64
	blocks uint64 // allocated bytes
}

// scanDeletedOpen lists the deleted files held open by every process under
// procRoot. Only files whose mount ID want accepts are stat'ed: stat follows
// the descriptor into the file's filesystem, which would block on a stuck
// mount. Processes that vanish are skipped; the error wraps
// os.ErrPermission when some processes' descriptors could not be read.
func scanDeletedOpen(ctx context.Context, procRoot string, want func(mntID int) bool) ([]deletedFile, error) {
	d, err := os.Open(procRoot)
	if err != nil {
		return nil, fmt.Errorf("deleted-open scan: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("deleted-open scan: %w", err)
	}
	var out []deletedFile
	denied := 0
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid <= 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("deleted-open scan: %w", err)
		}
		files, err := scanProcess(procRoot, pid, want)
		switch {
		case errors.Is(err, fs.ErrPermission):
			denied++
		case err != nil:
			// The process exited mid-scan.
		}
		out = append(out, files...)
	}
	if denied > 0 {
		return out, fmt.Errorf("deleted-open scan: descriptors of %d processes not readable: %w", denied, os.ErrPermission)
	}
	return out, nil
}

func scanProcess(procRoot string, pid int, want func(int) bool) ([]deletedFile, error) {
	base := filepath.Join(procRoot, strconv.Itoa(pid))
	fdDir := filepath.Join(base, "fd")
	d, err := os.Open(fdDir)
	if err != nil {
		return nil, err
	}
	fds, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	var out []deletedFile
	comm := ""
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(fdDir, fd))
		if err != nil {
			continue
		}
		path, ok := strings.CutSuffix(link, " (deleted)")
		// Only files that had a path: memfd, sockets and anonymous inodes
		// live on internal mounts and are no space a user can free.
		if !ok || !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/memfd:") {
			continue
		}
		info, err := procfs.ReadFile(filepath.Join(base, "fdinfo", fd))
		if err != nil {
			continue
		}
		mntID, ok := fdinfoMountID(info)
		if !ok || !want(mntID) {
			continue
		}
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(fdDir, fd), &st); err != nil {
			continue
		}
		// A file with links left is not deleted, only renamed away.
		if st.Nlink > 0 {
			continue
		}
		if comm == "" {
			b, _ := procfs.ReadFile(filepath.Join(base, "comm"))
			comm = strings.TrimSpace(string(b))
		}
		out = append(out, deletedFile{
			pid: pid, comm: comm, path: path, mntID: mntID,
			major: unix.Major(st.Dev), minor: unix.Minor(st.Dev), ino: st.Ino,
			blocks: uint64(st.Blocks) * 512,
		})
	}
	return out, nil
}

// fdinfoMountID reads the mnt_id line of /proc/<pid>/fdinfo/<fd>.
func fdinfoMountID(b []byte) (int, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == "mnt_id" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil
		}
	}
	return 0, false
}

// attachDeleted scans for deleted-open files and adds them, summed per
// process, to the filesystems they are on.
func attachDeleted(ctx context.Context, procRoot string, mounts []mount, fss []*Filesystem) error {
	byDev := map[string]*Filesystem{}
	for _, fs := range fss {
		if fs.measured() {
			byDev[fs.Dev] = fs
		}
	}
	devOf := map[int]string{}
	for _, m := range mounts {
		devOf[m.id] = m.dev()
	}
	files, err := scanDeletedOpen(ctx, procRoot, func(id int) bool {
		dev, ok := devOf[id]
		return ok && byDev[dev] != nil
	})
	type key struct {
		dev string
		pid int
	}
	type inode struct {
		dev string
		ino uint64
		pid int // 0 for the filesystem's total
	}
	sums := map[key]*DeletedOpen{}
	seen := map[inode]bool{}
	for _, f := range files {
		dev := devString(f.major, f.minor)
		fs := byDev[dev]
		if fs == nil {
			continue
		}
		// A file open twice, or shared with a forked child, holds its
		// space once.
		if !seen[inode{dev, f.ino, 0}] {
			seen[inode{dev, f.ino, 0}] = true
			fs.DeletedOpenBytes += f.blocks
		}
		if seen[inode{dev, f.ino, f.pid}] {
			continue
		}
		seen[inode{dev, f.ino, f.pid}] = true
		k := key{dev, f.pid}
		d := sums[k]
		if d == nil {
			d = &DeletedOpen{PID: f.pid, Process: f.comm}
			sums[k] = d
		}
		d.Files++
		d.Bytes += f.blocks
		if f.blocks >= d.LargestBytes {
			d.Largest, d.LargestBytes = f.path, f.blocks
		}
	}
	for k, d := range sums {
		fs := byDev[k.dev]
		fs.DeletedOpen = append(fs.DeletedOpen, *d)
	}
	for _, fs := range fss {
		sort.Slice(fs.DeletedOpen, func(i, j int) bool {
			a, b := fs.DeletedOpen[i], fs.DeletedOpen[j]
			if a.Bytes != b.Bytes {
				return a.Bytes > b.Bytes
			}
			return a.PID < b.PID
		})
	}
	return err
}
