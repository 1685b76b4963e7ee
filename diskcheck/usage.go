package diskcheck

import (
	"time"

	"github.com/triagekit/triage"
)

// UsageOptions tells Usage what to walk.
type UsageOptions struct {
	// Path is the directory to walk. Required.
	Path string
	// Depth is how far below Path the consumers are: 1 (the default when
	// zero) lists Path's entries like du -sh Path/*, 2 their entries, and
	// so on. Files above Depth are consumers of their own.
	Depth int
	// Top is how many of the largest consumers are kept. If zero, 10; if
	// negative, all of them (memory then grows with their number).
	Top int
	// Workers bounds the directories read at once. If zero, 4 per CPU
	// (the walk waits on the kernel more than it computes).
	Workers int
	// CrossMounts walks into other mounts under Path, bind mounts of the
	// same filesystem included. If false, the walk stays on Path's mount,
	// like du -x.
	CrossMounts bool
	// StatfsTimeout is how long Path's filesystem may take to answer
	// before it is reported stuck. If zero, DefaultStatfsTimeout is used.
	StatfsTimeout time.Duration
	// ProcRoot is where procfs is mounted, for the mount table. If empty,
	// "/proc" is used.
	ProcRoot string
	// PID, when positive, walks Path as process PID sees it (a
	// container's): Path, which must be absolute, is resolved inside the
	// process's root, the mounts not entered are those of its mount
	// table, and every directory is opened inside the root without
	// following any link, so that a link the process plants or swaps in
	// during the walk never leads it to this host's files. Consumers'
	// paths are the process's.
	PID int

	// afterReadDir, if set, runs after a directory's entries were read and
	// before they are stat'ed; tests use it to delete entries mid-walk.
	afterReadDir func(dir string)
}

// UsageResult is what Usage found under Path. Its Check is [KindUsage].
type UsageResult struct {
	triage.Result
	// Path is UsageOptions.Path, as given.
	Path string `json:"path"`
	// Bytes is the space allocated to everything under Path, Path itself
	// included, hard links once: the figure du -s prints (in bytes).
	Bytes uint64 `json:"bytes"`
	// ApparentBytes is the sum of file sizes (du -s --apparent-size -b).
	ApparentBytes uint64 `json:"apparent_bytes"`
	// Files and Dirs count the entries seen (files include symlinks and
	// other non-directories).
	Files uint64 `json:"files"`
	Dirs  uint64 `json:"dirs"`
	// Consumers are the largest entries at the chosen depth, largest first.
	Consumers []Consumer `json:"consumers"`
	// Partial is set when the walk stopped at the deadline: the figures
	// then cover only what was seen.
	Partial bool `json:"partial"`
	// Unreadable lists directories the walk could not open or read (the
	// first 100; UnreadableCount has them all).
	Unreadable      []WalkError `json:"unreadable,omitempty"`
	UnreadableCount int         `json:"unreadable_count"`
	// Vanished counts entries that disappeared between being listed and
	// being looked at.
	Vanished int `json:"vanished"`
	// SkippedMounts are mount points under Path that were not entered.
	SkippedMounts []string `json:"skipped_mounts,omitempty"`
}

// Consumer is one entry at the chosen depth with everything below it.
type Consumer struct {
	Path          string `json:"path"`
	Bytes         uint64 `json:"bytes"`
	ApparentBytes uint64 `json:"apparent_bytes"`
	Dir           bool   `json:"dir"`
	// Entries counts the files and directories below it, itself included.
	Entries uint64 `json:"entries"`
	// Partial is set when the walk stopped before finishing this entry.
	Partial bool `json:"partial,omitempty"`
}

// WalkError is a directory the walk could not read.
type WalkError struct {
	Path  string `json:"path"`
	Errno string `json:"errno"`
	// Err matches the syscall.Errno and fs.ErrPermission with errors.Is.
	Err error `json:"-"`
}
