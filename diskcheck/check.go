package diskcheck

import (
	"context"
	"slices"

	"github.com/triagekit/triage"
)

// The kinds of check this package makes: the Check of their results.
const (
	KindCheck = "diskcheck"
	KindUsage = "diskcheck.usage"
)

// Check looks at filesystems: bytes and inodes as df counts them, read-only
// mounts, and, as Options asks, a writability probe, growth between two
// samples and the space held by deleted-but-open files. Its result's
// Target.Paths are o.Paths: the filesystems holding them are findings.
//
// It returns by ctx's deadline even when a mount hangs in the kernel: such
// a filesystem is reported with CodeStuckMount, its Err wraps
// ErrStuckMount, and Result.Err joins the errors of every filesystem that
// could not be measured. Bad options give Unknown with an error wrapping
// triage.ErrInvalid; a path that does not exist gives one wrapping
// fs.ErrNotExist.
func Check(ctx context.Context, o Options) Result {
	r := Result{Result: triage.Begin(KindCheck, triage.Target{Paths: slices.Clone(o.Paths)})}
	r.Finish(check(ctx, &o, &r))
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
// Its result's Target.Paths holds o.Path.
func Usage(ctx context.Context, o UsageOptions) UsageResult {
	var t triage.Target
	if o.Path != "" {
		t.Paths = []string{o.Path}
	}
	r := UsageResult{Result: triage.Begin(KindUsage, t), Path: o.Path}
	r.Finish(usage(ctx, &o, &r))
	return r
}
