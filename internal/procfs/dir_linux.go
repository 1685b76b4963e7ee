package procfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// CountEntries counts the entries of a directory other than "." and "..",
// such as the descriptors in /proc/<pid>/fd. It reads the directory with
// getdents into one buffer instead of building a name per entry, so a
// process with 100k descriptors costs no more memory than one with ten.
func CountEntries(dir string) (int, error) {
	fd, err := open(dir, unix.O_DIRECTORY)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: dir, Err: err}
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
			return -1, &fs.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if got <= 0 {
			return n, nil
		}
		c, ok := countDirents(buf[:got])
		if !ok {
			return -1, fmt.Errorf("%s: %w directory entries", dir, ErrMalformed)
		}
		n += c
	}
}

// countDirents counts linux_dirent64 records other than "." and "..".
// Each record is ino (8), off (8), reclen (2), type (1), then the
// NUL-terminated name.
func countDirents(b []byte) (int, bool) {
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
