//go:build !linux

package procfs

import (
	"io"
	"io/fs"
	"os"
	"syscall"
)

// readFile appends at most limit bytes of the file name to buf.
func readFile(name string, buf []byte, limit int) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	// writer.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return buf, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return buf, err
	}
	if !st.Mode().IsRegular() {
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
		n, err := f.Read(buf[len(buf):min(cap(buf), start+limit+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
