package probe

// Counting a process's open file descriptors by walking /proc/<pid>/fd.
// Kept in this one file so that it can move to a shared /proc helper.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// procCountFDs counts the entries of procRoot/<pid>/fd. It reads the
// directory with getdents into one buffer instead of building a name per
// descriptor, so a process with 100k descriptors costs no more memory than
// one with ten.
func procCountFDs(procRoot string, pid int) (int, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid), "fd")
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	var buf [8192]byte
	n := 0
	for {
		got, err := unix.Getdents(fd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if got <= 0 {
			return n, nil
		}
		c, ok := procCountDirents(buf[:got])
		if !ok {
			return -1, fmt.Errorf("%s: malformed directory entries", dir)
		}
		n += c
	}
}

// procCountDirents counts linux_dirent64 records other than "." and "..".
// Each record is ino (8), off (8), reclen (2), type (1), then the
// NUL-terminated name.
func procCountDirents(b []byte) (int, bool) {
	n := 0
	for len(b) > 0 {
		if len(b) < 20 {
			return n, false
		}
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < 20 || reclen > len(b) {
			return n, false
		}
		name := b[19:reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if string(name) != "." && string(name) != ".." {
			n++
		}
		b = b[reclen:]
	}
	return n, true
}
