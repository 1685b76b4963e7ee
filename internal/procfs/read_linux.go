package procfs

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// readFile appends at most limit bytes of the file name to buf. The raw
// system calls keep a scan of the whole process table from allocating a
// file object per file.
func readFile(name string, buf []byte, limit int) ([]byte, error) {
	fd, err := open(name, 0)
	if err != nil {
		return buf, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return buf, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return buf, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	start := len(buf)
	for {
		if len(buf)-start > limit {
			return buf[:start+limit], &fs.PathError{Op: "read", Path: name, Err: ErrTooLarge}
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		// One byte past the limit tells a file of exactly limit bytes
		// from a larger one.
		room := buf[len(buf):min(cap(buf), start+limit+1)]
		n, err := unix.Read(fd, room)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return buf, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// open opens name for reading with flags added. O_NONBLOCK: opening a
// FIFO for reading would otherwise wait for a writer; it changes nothing
// for a regular file or a directory.
func open(name string, flags int) (int, error) {
	for {
		fd, err := unix.Open(name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC|flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}
