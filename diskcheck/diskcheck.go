package diskcheck

import (
	"errors"
	"time"

	"github.com/triagekit/triage"
)

// Finding codes of the "diskcheck" check. Evidence keys common to all of
// them: mount_point, device, fstype, and path (triage.KeyPath: the first
// of the caller's paths on the filesystem) when the caller named one.
const (
	// CodeSpaceLow (Warn): bytes used reached Options.SpaceLowPct. Evidence:
	// used_pct, used_bytes, avail_bytes, size_bytes.
	CodeSpaceLow triage.Code = "disk.space_low"
	// CodeFull (Fail): bytes used reached Options.FullPct or no byte is left
	// for unprivileged writers. Evidence as CodeSpaceLow.
	CodeFull triage.Code = "disk.full"
	// CodeInodesLow (Warn): inodes used reached Options.InodesLowPct.
	// Evidence: inodes_used_pct, inodes_used, inodes_free, inodes_total.
	CodeInodesLow triage.Code = "disk.inodes_low"
	// CodeInodesExhausted (Fail): inodes used reached Options.InodesFullPct
	// or none is free, so new files fail with ENOSPC while bytes may be
	// free. Evidence as CodeInodesLow.
	CodeInodesExhausted triage.Code = "disk.inodes_exhausted"
	// CodeReadOnly: the filesystem is mounted read-only. Fail when it holds
	// a path the caller named; Warn for a block device nobody named (a
	// disk remounted read-only on errors); nothing for other unnamed
	// mounts (tmpfs, bind, network), which are read-only by intent, nor
	// for filesystems read-only by design (squashfs, iso9660, erofs ...).
	// Evidence: options.
	CodeReadOnly triage.Code = "disk.readonly"
	// CodeNotWritable (Fail): the writability probe (create, write, fsync,
	// remove a temporary file) failed. Evidence: errno (ENOSPC, EDQUOT,
	// EROFS, EACCES, EIO ...), op (create, write, fsync, remove), probe_dir.
	CodeNotWritable triage.Code = "disk.not_writable"
	// CodeFillingFast: at the growth measured between two samples the
	// filesystem is full within Options.FillingWithin (Warn), or within a
	// sixth of it (Fail). Evidence: time_to_full_ns, bytes_per_sec,
	// avail_bytes, interval_ns.
	CodeFillingFast triage.Code = "disk.filling_fast"
	// CodeDeletedOpen: a process holds files that were deleted but are
	// still open, so their space is not freed ("df says full, du does
	// not"). Warn, or Fail when the filesystem is also low or full. One
	// finding per process and filesystem. Evidence: bytes, pid
	// (triage.KeyPID), process (triage.KeyProcess), files, largest (the
	// largest file's former path).
	CodeDeletedOpen triage.Code = "disk.deleted_open"
	// CodeStuckMount: statfs on the mount did not answer within
	// Options.StatfsTimeout (Fail), or before the context ended (Unknown);
	// its numbers are unknown. Evidence: error.
	CodeStuckMount triage.Code = "disk.stuck_mount"
)

// ErrStuckMount is wrapped by the error of a filesystem whose statfs did
// not answer in time (see the package documentation).
var ErrStuckMount = errors.New("diskcheck: mount does not answer")

// Default thresholds, used when the Options field is zero.
const (
	DefaultSpaceLowPct   = 90
	DefaultFullPct       = 98
	DefaultInodesLowPct  = 90
	DefaultInodesFullPct = 98
	DefaultStatfsTimeout = 5 * time.Second
	DefaultFillingWithin = time.Hour
)

// Options tells Check what to look at. The zero value looks at every real
// filesystem with the default thresholds, reads only, and takes one
// sample.
type Options struct {
	// Paths names files or directories whose filesystems are checked. If
	// empty, every real filesystem is (see All).
	Paths []string
	// All also checks every real filesystem when Paths is not empty.
	All bool

	// SpaceLowPct and FullPct are the bytes-used percentages (as df shows
	// them) at which CodeSpaceLow and CodeFull are reported. If zero,
	// DefaultSpaceLowPct and DefaultFullPct are used.
	SpaceLowPct, FullPct float64
	// InodesLowPct and InodesFullPct do the same for inodes. If zero,
	// DefaultInodesLowPct and DefaultInodesFullPct are used.
	InodesLowPct, InodesFullPct float64

	// StatfsTimeout is how long a filesystem may take to answer statfs
	// before it is reported stuck. If zero, DefaultStatfsTimeout is used;
	// the context's deadline bounds it too.
	StatfsTimeout time.Duration

	// Probe writes, fsyncs and removes a temporary file in each named path
	// (its directory, for a file) or, for filesystems no path names, in the
	// mount point, and reports CodeNotWritable when that fails. Filesystems
	// that are read-only by design and stuck ones are not probed.
	Probe bool

	// GrowthInterval, if positive, takes a second sample this long after
	// the first and reports the growth rate and the time left until full.
	// When the context's deadline is nearer, the interval is cut to half
	// of what is left, so that the second sample and the report fit.
	GrowthInterval time.Duration
	// Previous, if not nil, is an earlier result whose samples are compared
	// with this one's when GrowthInterval is zero, so that a caller running
	// Check periodically gets growth without waiting.
	Previous *Result
	// FillingWithin is the time-to-full below which CodeFillingFast is
	// reported. If zero, DefaultFillingWithin is used.
	FillingWithin time.Duration

	// DeletedOpen scans /proc/<pid>/fd for files that were deleted but are
	// still held open, and counts their space per filesystem.
	DeletedOpen bool
	// DeletedOpenMinBytes is the space a process must hold in deleted files
	// on one filesystem before CodeDeletedOpen is reported. If zero, 1% of
	// the filesystem's size, but at least 1 MiB, is used.
	DeletedOpenMinBytes uint64

	// PID, when positive, looks at the filesystems as process PID sees
	// them (a container's): its mount table, and Paths and mount points
	// resolved inside its root, so that a link there never leads to
	// this host's. Probe then writes in its filesystems: in a descriptor
	// of the directory opened inside the root, by a fresh name of one
	// component, following no link. DeletedOpen still scans every
	// process.
	PID int
	// ProcRoot is where procfs is mounted. If empty, "/proc" is used.
	ProcRoot string
	// Now returns the current time. If nil, time.Now is used.
	Now func() time.Time
}

// Result is what Check found. Its Check is [KindCheck].
type Result struct {
	triage.Result
	// Filesystems are the filesystems looked at: those holding Paths in
	// the order named, then the others in mount table order.
	Filesystems []Filesystem `json:"filesystems"`
	// DeletedOpenScanned reports whether the deleted-open scan ran.
	DeletedOpenScanned bool `json:"deleted_open_scanned"`
}

// Filesystem is one mounted filesystem with its numbers as df shows them.
// When Err is not nil (a stuck mount), the numbers are unknown and zero.
type Filesystem struct {
	MountID    int      `json:"mount_id"`
	Device     string   `json:"device"` // the mount source, such as /dev/sda1
	Dev        string   `json:"dev"`    // major:minor
	MountPoint string   `json:"mount_point"`
	Root       string   `json:"root"` // the directory of the filesystem mounted there
	Type       string   `json:"type"`
	Options    []string `json:"options"`
	// Paths are the caller's paths this filesystem holds.
	Paths    []string `json:"paths,omitempty"`
	ReadOnly bool     `json:"read_only"`

	// SampledAt is when statfs answered.
	SampledAt time.Time `json:"sampled_at"`
	// Size, Used and Avail are in bytes: Used counts every block in use,
	// Avail only what unprivileged users may still write, so Used+Avail is
	// less than Size by the reserved blocks.
	Size  uint64 `json:"size_bytes"`
	Used  uint64 `json:"used_bytes"`
	Avail uint64 `json:"avail_bytes"`
	// UsedPct is Used/(Used+Avail) rounded up, exactly df's Use%.
	UsedPct float64 `json:"used_pct"`

	// NoInodeLimit is set for filesystems that report no inode count (btrfs,
	// some network filesystems); the inode fields are then zero.
	NoInodeLimit  bool    `json:"no_inode_limit"`
	Inodes        uint64  `json:"inodes"`
	InodesUsed    uint64  `json:"inodes_used"`
	InodesFree    uint64  `json:"inodes_free"`
	InodesUsedPct float64 `json:"inodes_used_pct"` // rounded up, like df -i

	// Stuck is set when statfs did not answer; Err then wraps ErrStuckMount.
	Stuck bool `json:"stuck"`
	// Err is why the numbers are unknown; Error is its text for JSON.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`

	// Growth is set when two samples were compared.
	Growth *Growth `json:"growth,omitempty"`
	// Probe is set when the writability probe ran.
	Probe *Probe `json:"probe,omitempty"`
	// DeletedOpen lists the processes holding deleted files here, largest
	// first, when the scan ran.
	DeletedOpen []DeletedOpen `json:"deleted_open,omitempty"`
	// DeletedOpenBytes is their total.
	DeletedOpenBytes uint64 `json:"deleted_open_bytes,omitempty"`
}

// Growth is the change between two samples of a filesystem.
type Growth struct {
	Interval    time.Duration `json:"interval_ns"`
	UsedDelta   int64         `json:"used_delta_bytes"`
	BytesPerSec float64       `json:"bytes_per_sec"`
	// TimeToFull is how long Avail lasts at this rate; nil when the
	// filesystem is not growing.
	TimeToFull *time.Duration `json:"time_to_full_ns,omitempty"`
}

// Probe is the outcome of the writability probe.
type Probe struct {
	Dir string `json:"dir"`
	OK  bool   `json:"ok"`
	// Op is the step that failed: "create", "write", "fsync" or "remove".
	Op string `json:"op,omitempty"`
	// Errno names the error number, such as "ENOSPC", "EDQUOT", "EROFS",
	// "EACCES" or "EIO".
	Errno string `json:"errno,omitempty"`
	// Err is the failure, matching the syscall.Errno with errors.Is.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
}

// DeletedOpen is the space one process holds in deleted files on one
// filesystem.
type DeletedOpen struct {
	PID     int    `json:"pid"`
	Process string `json:"process"`
	Files   int    `json:"files"`
	// Bytes is the space the files occupy (allocated blocks).
	Bytes uint64 `json:"bytes"`
	// Largest is the former path of the largest of them.
	Largest      string `json:"largest"`
	LargestBytes uint64 `json:"largest_bytes"`
}
