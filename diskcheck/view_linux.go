//go:build linux

package diskcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/triagekit/triage/internal/procfs"
)

// view is where paths are resolved: this host's root, or the root of
// Options.PID.
type view struct {
	pid int
	// root is the process's root, opened O_PATH; nil for this host's.
	// A call through it that outlives the check (a stuck mount) holds
	// a reference to the descriptor (SyscallConn's Control), so closing
	// it never hands that call another file's descriptor.
	root *os.File
	rc   syscall.RawConn // root's, for Control
}

var hostView = view{}

// openView opens the mount table and the root of process pid through one
// descriptor of its /proc directory, so that both are the same process's
// even if its PID is reused meanwhile.
func openView(procRoot string, pid int) (view, []mount, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return view{}, nil, fmt.Errorf("reading the mounts of pid %d: %w", pid, &os.PathError{Op: "open", Path: dir, Err: err})
	}
	defer unix.Close(dfd)
	root, err := unix.Openat(dfd, "root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return view{}, nil, fmt.Errorf("the root of pid %d: %w", pid, &os.PathError{Op: "open", Path: dir + "/root", Err: err})
	}
	mfd, err := unix.Openat(dfd, "mountinfo", unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		unix.Close(root)
		return view{}, nil, fmt.Errorf("reading the mounts of pid %d: %w", pid, &os.PathError{Op: "open", Path: dir + "/mountinfo", Err: err})
	}
	f := os.NewFile(uintptr(mfd), dir+"/mountinfo")
	b, err := io.ReadAll(io.LimitReader(f, procfs.MaxSize))
	f.Close()
	if err != nil {
		unix.Close(root)
		return view{}, nil, fmt.Errorf("reading the mounts of pid %d: %w", pid, err)
	}
	mounts, err := parseMountinfo(bytes.NewReader(b))
	if err != nil {
		unix.Close(root)
		return view{}, nil, err
	}
	f = os.NewFile(uintptr(root), dir+"/root")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return view{}, nil, err
	}
	return view{pid: pid, root: f, rc: rc}, mounts, nil
}

func (v view) close() {
	if v.root != nil {
		v.root.Close()
	}
}

// key tells apart the same path in different views, for the in-flight
// guard.
func (v view) key(op, p string) string {
	if v.root == nil {
		return op + " " + p
	}
	return op + " pid:" + strconv.Itoa(v.pid) + " " + p
}

// open opens p inside the view's root as an O_PATH descriptor, with every
// link resolved inside it. The caller closes it.
func (v view) open(p string) (int, error) {
	return v.openat2(p, unix.O_PATH|unix.O_CLOEXEC, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_MAGICLINKS)
}

// statfs is statfs(2) of p in the view.
func (v view) statfs(p string, st *unix.Statfs_t) error {
	if v.root == nil {
		return unix.Statfs(p, st)
	}
	fd, err := v.open(p)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fstatfs(fd, st)
}

// mountID is the id of the mount that holds p in the view (statx
// STATX_MNT_ID, Linux 5.8), found by opening p inside the root.
func (v view) mountID(p string) (int, error) {
	fd, err := v.open(p)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, err
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 {
		return 0, errors.ErrUnsupported
	}
	return int(stx.Mnt_id), nil
}

// openDir opens directory p for reading without following a link at its
// end on this host, or, in a process's view, without following any link
// on the way (ELOOP), inside its root.
func (v view) openDir(p string) (int, error) {
	if v.root == nil {
		return unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	return v.openat2(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC,
		unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_MAGICLINKS)
}

// openat2 opens p inside the view's root, retrying the EAGAIN that
// openat2 returns when a rename raced the lookup.
func (v view) openat2(p string, flags int, resolve uint64) (int, error) {
	rel := path.Clean(p) // no copy when p is clean, as the walk's are
	if !strings.HasPrefix(rel, "/") {
		rel = path.Clean("/" + p)
	}
	rel = rel[1:]
	if rel == "" {
		rel = "."
	}
	// One value for the call to fill: what Control's function captures
	// escapes, once rather than per variable.
	op := struct {
		how unix.OpenHow
		rel string
		fd  int
		err error
	}{how: unix.OpenHow{Flags: uint64(flags), Resolve: resolve}, rel: rel, fd: -1}
	for range 3 {
		if cerr := v.rc.Control(func(root uintptr) {
			op.fd, op.err = unix.Openat2(int(root), op.rel, &op.how)
		}); cerr != nil {
			return -1, cerr
		}
		if op.err != unix.EAGAIN {
			break
		}
	}
	return op.fd, op.err
}

// lstat is lstat(2) of p in the view.
func (v view) lstat(p string, st *unix.Stat_t) error {
	if v.root == nil {
		return unix.Lstat(p, st)
	}
	fd, err := v.openat2(p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_MAGICLINKS)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fstat(fd, st)
}

// maxLinks is how many links a path may go through before it is a loop,
// as the kernel counts them.
const maxLinks = 40

// realpath resolves the links of the absolute path p inside the view's
// root, as the process would: the path it names with no link left in it.
func (v view) realpath(p string) (string, error) {
	resolved := "/"
	rest := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	links := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, c)
		var st unix.Stat_t
		fd, err := v.openat2(next, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_MAGICLINKS)
		if err != nil {
			return "", &os.PathError{Op: "resolve", Path: next, Err: err}
		}
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return "", &os.PathError{Op: "resolve", Path: next, Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			unix.Close(fd)
			resolved = next
			continue
		}
		if links++; links > maxLinks {
			unix.Close(fd)
			return "", &os.PathError{Op: "resolve", Path: p, Err: unix.ELOOP}
		}
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(fd, "", buf)
		unix.Close(fd)
		if err != nil {
			return "", &os.PathError{Op: "readlink", Path: next, Err: err}
		}
		target := string(buf[:n])
		if strings.HasPrefix(target, "/") {
			resolved = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return resolved, nil
}
