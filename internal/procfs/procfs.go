// Package procfs reads the small text files of procfs, sysfs and cgroupfs
// and splits them into lines and fields.
//
// Those files are hostile input when a container controls them, or when a
// caller points a check at a tree of its own: a FIFO where a file should be
// would block an open or a read forever, and a huge file would be read
// into memory whole. [Reader] opens without blocking, reads regular files
// only, and reads at most [MaxSize] bytes of one.
package procfs

import (
	"bytes"
	"errors"
	"strconv"
)

// MaxSize is the most [Reader.Read] reads of one file: 4MiB. Kernel files
// are far smaller (under a page, most of them); the largest a real system
// has are /proc/self/mountinfo on a node with thousands of mounts, /proc/stat
// on a machine with thousands of CPUs and interrupts, and the command line
// of a process started with huge arguments.
const MaxSize = 4 << 20

var (
	// ErrNotRegular is the error, in an *fs.PathError, of a file that is
	// not a regular file: a FIFO, a socket, a device or a directory.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is the error, in an *fs.PathError, of a file that holds
	// more than MaxSize bytes.
	ErrTooLarge = errors.New("file too large")
	// ErrMalformed marks a file whose content does not parse.
	ErrMalformed = errors.New("malformed")
)

// Reader reads files into one buffer it reuses. The bytes Read returns
// are valid until its next call. The zero value is ready to use.
type Reader struct{ buf []byte }

// NewReader returns a Reader whose buffer starts with size bytes of room.
func NewReader(size int) *Reader { return &Reader{buf: make([]byte, 0, size)} }

// Read reads the file name. It opens it without blocking and refuses,
// with ErrNotRegular, anything but a regular file. A file larger than
// MaxSize gives its first MaxSize bytes and an error matching
// ErrTooLarge, for callers that can use a prefix (a command line).
//
// It does not trust the size the file reports: /proc and cgroup files
// report 0.
func (r *Reader) Read(name string) ([]byte, error) {
	b, err := readFile(name, r.buf[:0], MaxSize)
	r.buf = b[:0]
	return b, err
}

// ReadFile reads the file name like [Reader.Read], into a buffer of its
// own that the caller keeps.
func ReadFile(name string) ([]byte, error) {
	return readFile(name, nil, MaxSize)
}

// ReadFileMax is [ReadFile] with a cap of the caller's instead of MaxSize,
// for files that are not kernel files: a report a caller names.
func ReadFileMax(name string, limit int) ([]byte, error) {
	return readFile(name, nil, limit)
}

// NextLine splits off the first line of b.
func NextLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// Field splits off the first space- or tab-separated field of b.
func Field(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

// ParseKV calls fn for each "key value" line of unsigned numbers, as in
// /proc/vmstat, cpu.stat, memory.events and memory.stat. Lines whose
// value is not a number are skipped.
func ParseKV(b []byte, fn func(key []byte, val uint64)) {
	for len(b) > 0 {
		var line []byte
		line, b = NextLine(b)
		key, rest := Field(line)
		if len(key) == 0 {
			continue
		}
		val, _ := Field(rest)
		x, err := strconv.ParseUint(string(val), 10, 64)
		if err != nil {
			continue
		}
		fn(key, x)
	}
}

// Delta is b - a for a counter read twice; zero when it went back (reset
// or wrapped).
func Delta(a, b uint64) uint64 {
	if b < a {
		return 0
	}
	return b - a
}
