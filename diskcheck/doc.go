// Package diskcheck reports whether filesystems are full, by bytes or by
// inodes, whether they can still be written, how fast they fill, and what
// eats the space: the routine's df -h, df -i and du -sh * | sort -h, plus
// the checks those commands leave to the operator.
//
// [Check] looks at every real filesystem from /proc/self/mountinfo (pseudo
// filesystems such as proc, sysfs and cgroup skipped; tmpfs and overlay
// kept), or at the filesystems holding the paths the caller names. It
// reports bytes and inodes the way df counts them, read-only mounts, and
// on request a writability probe, the growth between two samples, and the
// space held by files that were deleted but are still open.
//
// [Usage] walks a directory tree in parallel and returns its largest
// consumers at a chosen depth, like du -sh * | sort -h.
//
// Both look at a container's filesystems when given its PID
// ([Options.PID], [UsageOptions.PID]): its mount table, and paths
// resolved and directories opened inside its root, so that a link the
// container controls never leads them to this host's files.
//
// # Stuck mounts
//
// statfs on a dead network or FUSE mount blocks in the kernel and cannot
// be interrupted. diskcheck never lets a caller hang on it: each statfs
// runs on its own goroutine, at most one is in flight per mount point in
// the whole process, and a mount that does not answer in time is reported
// stuck ([CodeStuckMount], [ErrStuckMount]) with its numbers unknown. A
// later check that finds the earlier call still in flight waits for that
// call instead of piling another one onto the mount. The goroutine ends
// when the kernel finally returns.
//
// # Platforms
//
// Linux. On other platforms both checks return Unknown with an error that
// wraps triage.ErrUnsupported.
//
// # Privileges
//
// Bytes and inodes need none. Finding deleted-but-open files of other
// users' processes needs root (or CAP_SYS_PTRACE); without it only the
// caller's own processes are seen and Result.Err wraps os.ErrPermission.
// The walk reports directories it cannot read and goes on.
package diskcheck
