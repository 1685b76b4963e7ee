package diskcheck

import (
	"context"
	"time"
)

// Check looks at filesystems: bytes and inodes as df counts them, read-only
// mounts, and, as Options asks, a writability probe, growth between two
// samples and the space held by deleted-but-open files.
//
// It returns by ctx's deadline even when a mount hangs in the kernel: such
// a filesystem is reported with CodeStuckMount, its Err wraps
// ErrStuckMount, and Result.Err joins the errors of every filesystem that
// could not be measured. Bad options give Unknown with an error wrapping
// triage.ErrInvalid; a path that does not exist gives one wrapping
// fs.ErrNotExist.
func Check(ctx context.Context, o Options) Result {
	start := time.Now()
	var r Result
	r.Check = "diskcheck"
	err := check(ctx, &o, &r)
	r.Finish(err)
	r.Duration = time.Since(start)
	return r
}

// Usage walks the tree under o.Path and returns its largest consumers, like
// du -sh * | sort -h: allocated bytes per entry at o.Depth, hard links
// counted once, symlinks not followed, not leaving the filesystem unless
// o.CrossMounts is set. The walk runs on bounded workers and stops at ctx's
// deadline with what it has, Partial set and Err wrapping
// context.DeadlineExceeded. Directories it cannot read are listed in
// Unreadable and skipped; entries that vanish mid-walk are counted in
// Vanished. A path on a stuck mount gives an error wrapping ErrStuckMount.
func Usage(ctx context.Context, o UsageOptions) UsageResult {
	start := time.Now()
	var r UsageResult
	r.Check = "diskcheck.usage"
	r.Path = o.Path
	err := usage(ctx, &o, &r)
	r.Finish(err)
	r.Duration = time.Since(start)
	return r
}
