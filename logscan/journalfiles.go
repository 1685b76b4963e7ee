package logscan

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"time"
)

// The journal directories journalctl reads by default, persistent first.
var defaultJournalDirs = []string{"/var/log/journal", "/run/log/journal"}

// maxJournalFiles bounds the journal files handed to one journalctl: the
// most recently written are kept. A journal rotated this often holds the
// window in its newest files.
const maxJournalFiles = 256

// maxJournalDirEntries bounds the names read from one journal directory,
// and maxMachineIDs the machine-id subdirectories looked into: a
// directory the container fills cannot make the check open files without
// end.
const (
	maxJournalDirEntries = 4096
	maxMachineIDs        = 16
)

// journalFiles are the journal files of a root that is not this host's
// (Options.Open), opened through its opener and handed to journalctl as
// descriptors, so that journalctl reads exactly those files. Given the
// directory's path instead, journalctl would follow a symbolic link the
// container planted there to a file of this host's.
type journalFiles struct {
	files []*os.File
	dir   string // where they were found, for the command shown
}

func (j *journalFiles) close() {
	for _, f := range j.files {
		f.Close()
	}
	j.files = nil
}

// args are journalctl's arguments naming the files, as the child process
// numbers the descriptors (exec.Cmd.ExtraFiles start at 3).
func (j *journalFiles) args() []string {
	args := make([]string, len(j.files))
	for i := range j.files {
		args[i] = fmt.Sprintf("--file=/proc/self/fd/%d", 3+i)
	}
	return args
}

// openJournalFiles opens, through open, what journalctl --directory would
// read in dir (or, with dir empty, in the default directories): the
// *.journal and *.journal~ files in it and in its machine-id
// subdirectories. A name that is not a regular file, or whose journal
// header is missing or claims more than the file holds, is passed over,
// as journalctl passes over a corrupt file. No files at all is
// ErrNoJournal.
func openJournalFiles(open func(string) (*os.File, error), dir string) (j journalFiles, err error) {
	dirs := defaultJournalDirs
	if dir != "" {
		dirs = []string{dir}
	}
	type found struct {
		f   *os.File
		mod int64
	}
	var all []found
	keep := func(f *os.File, mod int64) {
		all = append(all, found{f, mod})
		if len(all) >= 2*maxJournalFiles {
			// Only the newest are kept open.
			slices.SortStableFunc(all, func(a, b found) int { return cmp.Compare(b.mod, a.mod) })
			for _, x := range all[maxJournalFiles:] {
				x.f.Close()
			}
			all = all[:maxJournalFiles]
		}
	}
	defer func() {
		if err != nil {
			for _, x := range all {
				x.f.Close()
			}
		}
	}()
	for _, d := range dirs {
		names, err := readJournalDir(open, d)
		switch {
		case dir == "" && errors.Is(err, fs.ErrNotExist):
			continue // no volatile or no persistent journal
		case err != nil:
			return j, err
		}
		found0, ids := len(all) > 0, 0
		for _, name := range names {
			p := path.Join(d, name)
			if isMachineID(name) {
				if ids++; ids > maxMachineIDs {
					continue
				}
				sub, err := readJournalDir(open, p)
				if err != nil {
					continue // a machine id that is not a directory
				}
				for _, s := range sub {
					if isJournalName(s) {
						if f, mod, ok := openJournalFile(open, path.Join(p, s)); ok {
							keep(f, mod)
						}
					}
				}
				continue
			}
			if isJournalName(name) {
				if f, mod, ok := openJournalFile(open, p); ok {
					keep(f, mod)
				}
			}
		}
		if j.dir == "" && !found0 && len(all) > 0 {
			j.dir = d
		}
	}
	if len(all) == 0 {
		return j, fmt.Errorf("%w: no journal files in %s", ErrNoJournal, strings.Join(dirs, " or "))
	}
	slices.SortStableFunc(all, func(a, b found) int { return cmp.Compare(b.mod, a.mod) })
	for _, x := range all[min(len(all), maxJournalFiles):] {
		x.f.Close()
	}
	all = all[:min(len(all), maxJournalFiles)]
	for _, x := range all {
		j.files = append(j.files, x.f)
	}
	return j, nil
}

// readJournalDir lists a directory through open.
func readJournalDir(open func(string) (*os.File, error), dir string) ([]string, error) {
	d, err := open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	st, err := d.Stat()
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: dir, Err: fmt.Errorf("not a directory")}
	}
	names, err := d.Readdirnames(maxJournalDirEntries)
	if err != nil && err != io.EOF {
		return nil, &fs.PathError{Op: "read", Path: dir, Err: err}
	}
	slices.Sort(names)
	return names, nil
}

// journalMagic starts every journal file.
const journalMagic = "LPKSHHRH"

// openJournalFile opens p through open if it is a regular file that
// starts as a journal file does: the signature, and a header and arena
// that the file holds (a file cut short fails journalctl's own check).
func openJournalFile(open func(string) (*os.File, error), p string) (*os.File, int64, bool) {
	f, err := open(p)
	if err != nil {
		return nil, 0, false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || !journalHeaderFits(f, st.Size()) {
		f.Close()
		return nil, 0, false
	}
	return f, st.ModTime().UnixNano(), true
}

// journalHeaderFits checks the journal header of f against its size:
// header_size (at byte 88) and arena_size (at 96), little-endian.
func journalHeaderFits(f io.ReaderAt, size int64) bool {
	var h [104]byte
	if _, err := f.ReadAt(h[:], 0); err != nil || string(h[:8]) != journalMagic {
		return false
	}
	header, arena := binary.LittleEndian.Uint64(h[88:]), binary.LittleEndian.Uint64(h[96:])
	return header >= uint64(len(h)) && header <= uint64(size) && arena <= uint64(size)-header
}

// prune puts aside, closing them, the files journalctl at path cannot
// open on their own, and returns how many.
func (j *journalFiles) prune(ctx context.Context, path string) int {
	kept := j.files[:0]
	n := 0
	for _, f := range j.files {
		if ctx.Err() != nil {
			kept = append(kept, f)
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		cmd := exec.CommandContext(cctx, path, "--file=/proc/self/fd/3", "-n", "0", "-q", "--no-pager")
		cmd.ExtraFiles = []*os.File{f}
		cmd.WaitDelay = 200 * time.Millisecond
		err := cmd.Run()
		timedOut := cctx.Err() != nil
		cancel()
		if err != nil && !timedOut {
			f.Close()
			n++
			continue
		}
		kept = append(kept, f)
	}
	clear(j.files[len(kept):])
	j.files = kept
	return n
}

func isJournalName(name string) bool {
	return strings.HasSuffix(name, ".journal") || strings.HasSuffix(name, ".journal~")
}

// isMachineID reports whether name is a machine id: 32 lowercase hex
// digits, the name of the subdirectory journald writes in.
func isMachineID(name string) bool {
	if len(name) != 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
