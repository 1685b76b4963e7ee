package diskcheck

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/triagekit/triage"
	"github.com/triagekit/triage/internal/human"
)

// statfsValues are the fields of statfs(2) that df uses.
type statfsValues struct {
	frsize                uint64 // fragment size: the unit of the block counts
	blocks, bfree, bavail uint64
	files, ffree          uint64
}

// dfPercent is df's Use%: used/(used+avail), rounded up.
func dfPercent(used, avail uint64) float64 {
	total := used + avail
	if total == 0 {
		return 0
	}
	return math.Ceil(float64(used) * 100 / float64(total))
}

// fill sets the byte and inode numbers of fs the way df computes them.
func (fs *Filesystem) fill(v statfsValues, at time.Time) {
	fs.SampledAt = at
	fs.Size = v.blocks * v.frsize
	used := uint64(0)
	if v.blocks > v.bfree {
		used = v.blocks - v.bfree
	}
	fs.Used = used * v.frsize
	fs.Avail = v.bavail * v.frsize
	fs.UsedPct = dfPercent(used, v.bavail)
	if v.files == 0 || v.ffree > v.files {
		fs.NoInodeLimit = true
		fs.Inodes, fs.InodesUsed, fs.InodesFree, fs.InodesUsedPct = 0, 0, 0, 0
		return
	}
	fs.NoInodeLimit = false
	fs.Inodes = v.files
	fs.InodesFree = v.ffree
	fs.InodesUsed = v.files - v.ffree
	fs.InodesUsedPct = math.Ceil(float64(fs.InodesUsed) * 100 / float64(v.files))
}

// measured reports whether the numbers are known.
func (fs *Filesystem) measured() bool { return fs.Err == nil && !fs.SampledAt.IsZero() }

// growth compares an earlier sample of the same filesystem with fs.
func growth(before, after *Filesystem) *Growth {
	dt := after.SampledAt.Sub(before.SampledAt)
	if dt <= 0 {
		return nil
	}
	delta := int64(after.Used) - int64(before.Used)
	g := &Growth{Interval: dt, UsedDelta: delta, BytesPerSec: float64(delta) / dt.Seconds()}
	if g.BytesPerSec > 0 {
		ttf := time.Duration(float64(after.Avail) / g.BytesPerSec * float64(time.Second))
		if float64(after.Avail)/g.BytesPerSec > float64(math.MaxInt64/int64(time.Second)) {
			ttf = time.Duration(math.MaxInt64)
		}
		g.TimeToFull = &ttf
	}
	return g
}

type thresholds struct {
	spaceLow, full, inodesLow, inodesFull float64
	fillingWithin                         time.Duration
	deletedMin                            uint64
}

func (o *Options) thresholds() thresholds {
	t := thresholds{o.SpaceLowPct, o.FullPct, o.InodesLowPct, o.InodesFullPct, o.FillingWithin, o.DeletedOpenMinBytes}
	if t.spaceLow == 0 {
		t.spaceLow = DefaultSpaceLowPct
	}
	if t.full == 0 {
		t.full = DefaultFullPct
	}
	if t.inodesLow == 0 {
		t.inodesLow = DefaultInodesLowPct
	}
	if t.inodesFull == 0 {
		t.inodesFull = DefaultInodesFullPct
	}
	if t.fillingWithin == 0 {
		t.fillingWithin = DefaultFillingWithin
	}
	return t
}

func (o *Options) validate() error {
	for _, p := range []float64{o.SpaceLowPct, o.FullPct, o.InodesLowPct, o.InodesFullPct} {
		if p < 0 || p > 100 || math.IsNaN(p) {
			return fmt.Errorf("%w: threshold %v%% is not between 0 and 100", triage.ErrInvalid, p)
		}
	}
	if o.StatfsTimeout < 0 || o.GrowthInterval < 0 || o.FillingWithin < 0 {
		return fmt.Errorf("%w: negative duration", triage.ErrInvalid)
	}
	for _, p := range o.Paths {
		if p == "" || strings.IndexByte(p, 0) >= 0 {
			return fmt.Errorf("%w: path %q", triage.ErrInvalid, p)
		}
	}
	switch {
	case o.PID < 0:
		return fmt.Errorf("%w: negative pid %d", triage.ErrInvalid, o.PID)
	}
	return nil
}

func (fs *Filesystem) base() triage.Evidence {
	e := triage.Evidence{
		slog.String("mount_point", fs.MountPoint),
		slog.String("device", fs.Device),
		slog.String("fstype", fs.Type),
	}
	if len(fs.Paths) > 0 {
		e = append(e, slog.String(triage.KeyPath, fs.Paths[0]))
	}
	return e
}

func (fs *Filesystem) where() string {
	if len(fs.Paths) > 0 && fs.Paths[0] != fs.MountPoint {
		return fmt.Sprintf("%s (%s on %s)", fs.MountPoint, fs.Paths[0], fs.Device)
	}
	return fmt.Sprintf("%s (%s)", fs.MountPoint, fs.Device)
}

// level is how far one measure (bytes or inodes) has gone: nothing to
// report, low (Warn) or full (Fail).
type level int

const (
	levelOK level = iota
	levelLow
	levelFull
)

func levelOf(usedPct, low, full float64, none bool) level {
	switch {
	case none || usedPct >= full:
		return levelFull
	case usedPct >= low:
		return levelLow
	}
	return levelOK
}

// findings judges one filesystem.
func (fs *Filesystem) findings(t thresholds) []triage.Finding {
	var out []triage.Finding
	arg := human.Quote(fs.MountPoint)
	if len(fs.Paths) > 0 {
		arg = human.Quote(fs.Paths[0])
	}
	add := func(code triage.Code, st triage.Status, summary string, ev triage.Evidence, cmd string) {
		out = append(out, triage.Finding{Code: code, Status: st, Summary: fs.where() + summary, Evidence: ev, Command: cmd})
	}
	if fs.Stuck || (fs.Err != nil && errors.Is(fs.Err, ErrStuckMount)) {
		st := triage.Unknown
		if fs.Stuck {
			st = triage.Fail
		}
		add(CodeStuckMount, st, " does not answer statfs: its numbers are unknown and processes touching it hang",
			append(fs.base(), slog.String("error", fs.Error)), "timeout 5 stat -f "+arg)
		return out
	}
	if !fs.measured() {
		return nil
	}
	// A read-only disk nobody named is worth a warning: ext4 and friends
	// remount read-only on errors. Read-only tmpfs, bind and network
	// mounts are almost always so by intent (config, secrets, images).
	named := len(fs.Paths) > 0
	if fs.ReadOnly && !readOnlyTypes[fs.Type] && (named || strings.HasPrefix(fs.Device, "/dev/")) {
		st := triage.Warn
		if named {
			st = triage.Fail
		}
		add(CodeReadOnly, st, " is mounted read-only: writes fail with EROFS",
			append(fs.base(), slog.String("options", strings.Join(fs.Options, ","))), "findmnt -T "+arg)
	}
	space := levelOK
	if fs.Size > 0 {
		space = levelOf(fs.UsedPct, t.spaceLow, t.full, fs.Avail == 0)
	}
	if space != levelOK {
		code, st, what := CodeSpaceLow, triage.Warn, "low on space"
		if space == levelFull {
			code, st, what = CodeFull, triage.Fail, "full"
		}
		add(code, st, fmt.Sprintf(" is %s: %.0f%% used, %s available of %s", what, fs.UsedPct, human.Bytes(fs.Avail), human.Bytes(fs.Size)),
			append(fs.base(), slog.Float64("used_pct", fs.UsedPct), slog.Uint64("used_bytes", fs.Used),
				slog.Uint64("avail_bytes", fs.Avail), slog.Uint64("size_bytes", fs.Size)),
			"df -h "+arg)
	}
	if inodes := levelOf(fs.InodesUsedPct, t.inodesLow, t.inodesFull, fs.InodesFree == 0); !fs.NoInodeLimit && inodes != levelOK {
		code, st, what, then := CodeInodesLow, triage.Warn, "low on", ""
		if inodes == levelFull {
			code, st, what, then = CodeInodesExhausted, triage.Fail, "out of", "; new files fail with ENOSPC"
		}
		add(code, st, fmt.Sprintf(" is %s inodes: %.0f%% used, %d free of %d%s", what, fs.InodesUsedPct, fs.InodesFree, fs.Inodes, then),
			append(fs.base(), slog.Float64("inodes_used_pct", fs.InodesUsedPct), slog.Uint64("inodes_used", fs.InodesUsed),
				slog.Uint64("inodes_free", fs.InodesFree), slog.Uint64("inodes_total", fs.Inodes)),
			"df -i "+arg)
	}
	if p := fs.Probe; p != nil && !p.OK {
		file := human.Quote(p.Dir + "/.triage-probe")
		add(CodeNotWritable, triage.Fail, fmt.Sprintf(" is not writable: %s in %s failed with %s", p.Op, p.Dir, p.Errno),
			append(fs.base(), slog.String("errno", p.Errno), slog.String("op", p.Op), slog.String("probe_dir", p.Dir)),
			"touch "+file+" && rm "+file)
	}
	if g := fs.Growth; g != nil && g.TimeToFull != nil && *g.TimeToFull < t.fillingWithin && space != levelFull {
		st := triage.Warn
		if *g.TimeToFull < t.fillingWithin/6 {
			st = triage.Fail
		}
		add(CodeFillingFast, st, fmt.Sprintf(" fills at %s/s: %s available lasts %s",
			human.Bytes(uint64(g.BytesPerSec)), human.Bytes(fs.Avail), g.TimeToFull.Round(time.Second)),
			append(fs.base(), slog.Duration("time_to_full_ns", *g.TimeToFull), slog.Float64("bytes_per_sec", g.BytesPerSec),
				slog.Uint64("avail_bytes", fs.Avail), slog.Duration("interval_ns", g.Interval)),
			"df -h "+arg+"; sleep 10; df -h "+arg)
	}
	min := t.deletedMin
	if min == 0 {
		min = max(fs.Size/100, 1<<20)
	}
	for _, d := range fs.DeletedOpen {
		if d.Bytes < min {
			continue
		}
		st := triage.Warn
		if space != levelOK {
			st = triage.Fail
		}
		add(CodeDeletedOpen, st, fmt.Sprintf(": process %d (%s) holds %s in %d deleted files, largest %s (%s)",
			d.PID, d.Process, human.Bytes(d.Bytes), d.Files, d.Largest, human.Bytes(d.LargestBytes)),
			append(fs.base(), slog.Uint64("bytes", d.Bytes), slog.Int(triage.KeyPID, d.PID), slog.String(triage.KeyProcess, d.Process),
				slog.Int("files", d.Files), slog.String("largest", d.Largest)),
			fmt.Sprintf("ls -l /proc/%d/fd | grep '(deleted)'", d.PID))
	}
	return out
}
